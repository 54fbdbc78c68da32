/**
 * The process logger: pino, with personal data redacted from everything that reaches the log: the
 * message, the logged object, errors (message, stack, own properties), request/response summaries
 * and child-logger bindings. Every string is cut to MAX_LOGGED_CHARS before it is redacted, so an
 * attacker-controlled value (a URL, a caller ID, a parameter name) costs a bounded amount of work.
 */
import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';
import { redactDeep, type Redactor } from './redact.js';

/** Longest string written to the log; longer ones end in "…[+N]". */
export const MAX_LOGGED_CHARS = 512;

export function cutForLog(text: string): string {
  return text.length <= MAX_LOGGED_CHARS ? text : `${text.slice(0, MAX_LOGGED_CHARS)}…[+${text.length - MAX_LOGGED_CHARS}]`;
}

/** A plain-object copy (errors and pino's error objects are class instances redactDeep skips). */
function plain(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > 4) return '[nested]';
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => plain(v, depth + 1));
  const out: Record<string, unknown> = {};
  let n = 0;
  for (const key in value) {
    if (++n > 50) break;
    out[key] = plain((value as Record<string, unknown>)[key], depth + 1);
  }
  return out;
}

export function createLogger(level: string, redact: Redactor, destination?: DestinationStream): Logger {
  const clean: Redactor = (text) => redact(cutForLog(text));
  const scrub = <T>(value: T): T => redactDeep(value, clean);
  const options: pino.LoggerOptions = {
    level,
    formatters: {
      log: (object) => scrub(object),
      bindings: (bindings) => scrub(bindings),
    },
    serializers: {
      err: (error: unknown) => {
        if (!(error instanceof Error)) return scrub(plain(error));
        const { stack, ...rest } = plain(stdSerializers.err(error)) as Record<string, unknown>;
        // A stack is worth more than 512 characters to whoever debugs it; still bounded.
        return { ...scrub(rest), ...(typeof stack === 'string' ? { stack: redact(stack.slice(0, 4 * MAX_LOGGED_CHARS)) } : {}) };
      },
      // Fastify's default logs the raw URL (query string included) of every request, before any
      // signature check: only the path is logged, cut and redacted.
      req: (req: { method?: string; url?: string; ip?: string }) => ({
        method: req.method,
        path: clean((req.url ?? '').split('?')[0] ?? ''),
        remoteAddress: req.ip,
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
    hooks: {
      logMethod(args, method) {
        // logger.error(err) takes its message from the error, past this hook: pass it explicitly.
        const [first] = args;
        if (first instanceof Error && typeof args[1] !== 'string') args = [{ err: first }, first.message] as unknown as typeof args;
        const redacted = args.map((arg) => (typeof arg === 'string' ? clean(arg) : arg)) as typeof args;
        return method.apply(this, redacted);
      },
    },
  };
  const logger = destination ? pino(options, destination) : pino(options);
  // pino resets the bindings formatter for children, so child bindings are scrubbed here; every
  // descendant inherits this method through the prototype chain.
  type ChildFn = (this: Logger, bindings: pino.Bindings, opts?: pino.ChildLoggerOptions) => Logger;
  const pinoChild = logger.child as unknown as ChildFn;
  const scrubbedChild: ChildFn = function (bindings, opts) {
    return pinoChild.call(this, scrub(plain(bindings) as pino.Bindings), opts);
  };
  logger.child = scrubbedChild as unknown as Logger['child'];
  return logger;
}
