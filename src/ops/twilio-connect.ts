/**
 * `twilio:connect`: point a Twilio number's voice webhook and status callback at this server.
 * Everything here is pure or takes its collaborators as arguments (argv, an env object, the
 * numbers API, an output sink), so tests drive it directly; src/cli/twilio-connect.ts is the thin
 * entry that hands in process.argv/process.env.
 */
import { parseArgs } from 'node:util';
import { ConnectError, EXIT_FAILED, EXIT_OK, EXIT_USAGE } from './connect-error.js';
import { createTwilioNumbersApi, type IncomingNumber, type TwilioNumbersApi, type VoiceWiring } from './twilio-numbers-api.js';

export const USAGE = 'usage: npm run twilio:connect -- --number +15551234567 [--public-url https://agent.example.com] [--dry-run]';

export interface ConnectArgs {
  number: string;
  publicUrl: string | undefined;
  dryRun: boolean;
}

export function parseConnectArgs(argv: readonly string[]): ConnectArgs | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        number: { type: 'string' },
        'public-url': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    // node:util names the offending option; add how to call it correctly.
    throw new ConnectError(`${error instanceof Error ? error.message : String(error)} — ${USAGE}`, EXIT_USAGE);
  }
  const { values } = parsed;
  if (values.help) return 'help';
  if (values.number === undefined) throw new ConnectError(`--number is required — ${USAGE}`, EXIT_USAGE);
  return { number: values.number, publicUrl: values['public-url'], dryRun: values['dry-run'] ?? false };
}

/** E.164: "+", a country code that does not start with 0, at most 15 digits, nothing else. */
export function validateE164(number: string): string {
  if (/^\+[1-9]\d{1,14}$/.test(number)) return number;
  throw new ConnectError(
    `"${number}" is not an E.164 number: write it as +, country code and digits with no spaces, e.g. +15551234567`,
    EXIT_USAGE,
  );
}

const LOOPBACK_HOSTS = new Set(['localhost', '0.0.0.0', '[::1]', '[::]']);

/**
 * The base URL Twilio will call, without a trailing slash. It must be https: the webhook answers
 * with a wss:// media-stream URL built from it, and Twilio will not stream to an unencrypted socket.
 */
export function validatePublicUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConnectError(`public URL "${raw}" is not a URL: pass the server's https address, e.g. https://agent.example.com`, EXIT_USAGE);
  }
  if (url.protocol === 'http:') {
    throw new ConnectError(
      `public URL ${raw} uses http: Twilio needs https (and wss for the media stream) — use your host's or tunnel's https:// URL`,
      EXIT_USAGE,
    );
  }
  if (url.protocol !== 'https:') {
    throw new ConnectError(`public URL ${raw} must start with https://`, EXIT_USAGE);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new ConnectError(`public URL ${raw} must be a plain base URL (no query, fragment or credentials)`, EXIT_USAGE);
  }
  if (LOOPBACK_HOSTS.has(url.hostname) || url.hostname.startsWith('127.')) {
    throw new ConnectError(
      `public URL ${raw} points at this machine, which Twilio cannot reach: use a public https URL (a host, or a tunnel such as ngrok)`,
      EXIT_USAGE,
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** What the number should look like once it is wired to the server at `publicUrl`. */
export function buildVoiceWiring(publicUrl: string): VoiceWiring {
  return {
    voiceUrl: `${publicUrl}/voice`,
    voiceMethod: 'POST',
    statusCallback: `${publicUrl}/voice/status`,
    statusCallbackMethod: 'POST',
  };
}

export interface ConnectSettings extends ConnectArgs {
  publicUrl: string;
  accountSid: string;
  authToken: string;
  /** `https://api.twilio.com`, or TWILIO_API_URL (a regional endpoint, a proxy, a test fake). */
  apiBaseUrl: string;
}

export const DEFAULT_TWILIO_API_URL = 'https://api.twilio.com';

/** Validates the arguments and the environment together; throws the first thing to fix. */
export function resolveConnectSettings(args: ConnectArgs, env: Readonly<Record<string, string | undefined>>): ConnectSettings {
  const number = validateE164(args.number.trim());
  const value = (name: string) => env[name]?.trim() || undefined;
  const missing = ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'].filter((name) => !value(name));
  if (missing.length > 0) {
    throw new ConnectError(
      `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set: export the Account SID and Auth Token from console.twilio.com (Account info)`,
      EXIT_USAGE,
    );
  }
  const accountSid = value('TWILIO_ACCOUNT_SID') ?? '';
  if (!/^AC[0-9a-fA-F]{32}$/.test(accountSid)) {
    throw new ConnectError(`TWILIO_ACCOUNT_SID "${accountSid}" is not an Account SID: it starts with AC followed by 32 hex digits`, EXIT_USAGE);
  }
  const rawPublicUrl = args.publicUrl ?? value('PUBLIC_URL');
  if (!rawPublicUrl) {
    throw new ConnectError('no public URL: pass --public-url https://… or set PUBLIC_URL to the https address Twilio can reach', EXIT_USAGE);
  }
  const apiBaseUrl = (value('TWILIO_API_URL') ?? DEFAULT_TWILIO_API_URL).replace(/\/+$/, '');
  if (!URL.canParse(apiBaseUrl) || !['http:', 'https:'].includes(new URL(apiBaseUrl).protocol)) {
    throw new ConnectError(`TWILIO_API_URL "${apiBaseUrl}" is not an http(s) URL: unset it to use ${DEFAULT_TWILIO_API_URL}`, EXIT_USAGE);
  }
  return { ...args, number, publicUrl: validatePublicUrl(rawPublicUrl.trim()), accountSid, authToken: value('TWILIO_AUTH_TOKEN') ?? '', apiBaseUrl };
}

export interface FieldChange {
  field: string;
  before: string;
  after: string;
  changed: boolean;
}

const NOT_SET = '(not set)';

/**
 * Before/after for each field we manage. A TwiML App on the number (VoiceApplicationSid) takes
 * precedence over VoiceUrl, so wiring the number means clearing it; it is shown like any change.
 */
export function planVoiceChanges(current: IncomingNumber, wiring: VoiceWiring): FieldChange[] {
  const rows: [string, string | null, string][] = [
    ['VoiceUrl', current.voiceUrl, wiring.voiceUrl],
    ['VoiceMethod', current.voiceMethod, wiring.voiceMethod],
    ['StatusCallback', current.statusCallback, wiring.statusCallback],
    ['StatusCallbackMethod', current.statusCallbackMethod, wiring.statusCallbackMethod],
  ];
  if (current.voiceApplicationSid) rows.push(['VoiceApplicationSid', current.voiceApplicationSid, '']);
  return rows.map(([field, before, after]) => ({
    field,
    before: before || NOT_SET,
    after: after || NOT_SET,
    changed: (before ?? '') !== after,
  }));
}

/** The update to send: only when something differs, and the TwiML App cleared if one was set. */
export function buildVoiceUpdate(current: IncomingNumber, wiring: VoiceWiring): VoiceWiring | undefined {
  if (!planVoiceChanges(current, wiring).some((change) => change.changed)) return undefined;
  return current.voiceApplicationSid ? { ...wiring, voiceApplicationSid: '' } : wiring;
}

export function formatChangeTable(changes: readonly FieldChange[]): string[] {
  const headers = { field: 'field', before: 'before', after: 'after' };
  const width = (key: 'field' | 'before') => Math.max(headers[key].length, ...changes.map((c) => c[key].length));
  const line = (c: { field: string; before: string; after: string }, marker: string) =>
    `${marker} ${c.field.padEnd(width('field'))}  ${c.before.padEnd(width('before'))}  ${c.after}`.trimEnd();
  return [line(headers, ' '), ...changes.map((c) => line(c, c.changed ? '*' : ' '))];
}

export interface ConnectOutput {
  log(line: string): void;
  error(line: string): void;
}

/** The whole command: parse, validate, look up, (maybe) update, report. Returns the exit code. */
export async function twilioConnect(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  out: ConnectOutput,
): Promise<number> {
  try {
    const args = parseConnectArgs(argv);
    if (args === 'help') {
      out.log(USAGE);
      out.log('Env: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, PUBLIC_URL (unless --public-url), TWILIO_API_URL (optional API base).');
      return EXIT_OK;
    }
    const settings = resolveConnectSettings(args, env);
    const api = createTwilioNumbersApi(settings);
    await connectNumber(settings, api, out);
    return EXIT_OK;
  } catch (error) {
    if (error instanceof ConnectError) {
      out.error(`twilio:connect: ${error.message}`);
      return error.exitCode;
    }
    out.error(`twilio:connect: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return EXIT_FAILED;
  }
}

async function connectNumber(settings: ConnectSettings, api: TwilioNumbersApi, out: ConnectOutput): Promise<void> {
  const matches = await api.findByPhoneNumber(settings.number);
  const current = matches.find((n) => n.phoneNumber === settings.number);
  if (!current) {
    throw new ConnectError(
      `${settings.number} is not a number on account ${settings.accountSid}: check the number, or use the credentials of the (sub)account that owns it`,
    );
  }
  const wiring = buildVoiceWiring(settings.publicUrl);
  out.log(`${current.phoneNumber} (${current.sid}, "${current.friendlyName}") on account ${settings.accountSid}`);
  if (current.trunkSid) {
    out.log(`warning: the number belongs to SIP trunk ${current.trunkSid}, which routes its calls instead of VoiceUrl; remove it from the trunk first`);
  }

  const update = buildVoiceUpdate(current, wiring);
  if (!update) {
    logLines(out, formatChangeTable(planVoiceChanges(current, wiring)));
    out.log('Already wired to this server: nothing to change.');
    return;
  }
  if (settings.dryRun) {
    logLines(out, formatChangeTable(planVoiceChanges(current, wiring)));
    out.log('Dry run: the fields marked * would change; nothing was changed.');
    return;
  }
  const updated = await api.updateVoice(current.sid, update);
  // "after" is what Twilio now reports, not what we asked for, so an ignored field shows up.
  logLines(out, formatChangeTable(planVoiceChanges(current, wiring).map((c) => ({ ...c, after: reported(updated, c.field) }))));
  const notApplied = planVoiceChanges(updated, wiring).filter((c) => c.changed);
  if (notApplied.length > 0) {
    throw new ConnectError(`Twilio did not apply ${notApplied.map((c) => c.field).join(', ')}: check the number in the Twilio console`);
  }
  out.log(`Updated. Call ${current.phoneNumber}: Twilio will POST ${wiring.voiceUrl}.`);
}

function logLines(out: ConnectOutput, lines: readonly string[]): void {
  for (const line of lines) out.log(line);
}

function reported(number: IncomingNumber, field: string): string {
  const values: Record<string, string | null> = {
    VoiceUrl: number.voiceUrl,
    VoiceMethod: number.voiceMethod,
    StatusCallback: number.statusCallback,
    StatusCallbackMethod: number.statusCallbackMethod,
    VoiceApplicationSid: number.voiceApplicationSid,
  };
  return values[field] || NOT_SET;
}
