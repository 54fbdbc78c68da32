/** The process logger: pino, with personal data redacted from every logged string. */
import { pino, type DestinationStream, type Logger } from 'pino';
import { redactDeep, type Redactor } from './redact.js';

export function createLogger(level: string, redact: Redactor, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    formatters: {
      log: (object) => redactDeep(object, redact),
    },
    hooks: {
      logMethod(args, method) {
        const redacted = args.map((arg) => (typeof arg === 'string' ? redact(arg) : arg)) as typeof args;
        return method.apply(this, redacted);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
