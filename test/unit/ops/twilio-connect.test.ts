import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../../../src/ops/connect-error.js';
import {
  buildVoiceUpdate,
  buildVoiceWiring,
  parseConnectArgs,
  twilioConnect,
  validateE164,
  validatePublicUrl,
} from '../../../src/ops/twilio-connect.js';
import type { IncomingNumber } from '../../../src/ops/twilio-numbers-api.js';
import { TwilioRestFake } from '../../../testkit/fakes/twilio-rest-fake.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const accountSid = 'AC0123456789abcdef0123456789abcdef';
const authToken = 'test-auth-token';
const numberSid = 'PN0123456789abcdef0123456789abcdef';
const phoneNumber = '+15551234567';
const publicUrl = 'https://agent.example.com';

describe('argument and URL validation (pure)', () => {
  it('parses --number, --public-url and --dry-run', () => {
    expect(parseConnectArgs(['--number', phoneNumber, '--public-url', publicUrl, '--dry-run'])).toEqual({
      number: phoneNumber,
      publicUrl,
      dryRun: true,
    });
    expect(parseConnectArgs([`--number=${phoneNumber}`])).toEqual({ number: phoneNumber, publicUrl: undefined, dryRun: false });
  });

  it('rejects a missing --number and unknown options with the usage line', () => {
    expect(() => parseConnectArgs([])).toThrow(/--number is required — usage: npm run twilio:connect/);
    expect(() => parseConnectArgs(['--number', phoneNumber, '--url', publicUrl])).toThrow(/'--url'.*usage:/);
  });

  it('accepts only E.164 numbers', () => {
    expect(validateE164('+442071838750')).toBe('+442071838750');
    for (const bad of ['15551234567', '+1 555 123 4567', '+1-555-123-4567', '+0123456', '+1234567890123456', '']) {
      expect(() => validateE164(bad), bad).toThrow(/not an E\.164 number.*e\.g\. \+15551234567/);
    }
  });

  it('normalizes an https base URL and refuses http, loopback and decorated URLs', () => {
    expect(validatePublicUrl('https://agent.example.com/')).toBe('https://agent.example.com');
    expect(validatePublicUrl('https://example.com/agent//')).toBe('https://example.com/agent');
    expect(() => validatePublicUrl('http://agent.example.com')).toThrow(/uses http: Twilio needs https/);
    expect(() => validatePublicUrl('https://localhost:8080')).toThrow(/Twilio cannot reach/);
    expect(() => validatePublicUrl('https://127.0.0.1')).toThrow(/Twilio cannot reach/);
    expect(() => validatePublicUrl('https://agent.example.com/?x=1')).toThrow(/plain base URL/);
    expect(() => validatePublicUrl('agent.example.com')).toThrow(/is not a URL/);
  });

  it('builds the webhook and status callback from the public URL, and skips an update that changes nothing', () => {
    const wiring = buildVoiceWiring(publicUrl);
    expect(wiring).toEqual({
      voiceUrl: `${publicUrl}/voice`,
      voiceMethod: 'POST',
      statusCallback: `${publicUrl}/voice/status`,
      statusCallbackMethod: 'POST',
    });
    const wired: IncomingNumber = {
      sid: numberSid,
      phoneNumber,
      friendlyName: 'Front desk',
      ...wiring,
      voiceApplicationSid: '',
      trunkSid: null,
    };
    expect(buildVoiceUpdate(wired, wiring)).toBeUndefined();
    expect(buildVoiceUpdate({ ...wired, voiceMethod: 'GET' }, wiring)).toEqual(wiring);
    // A TwiML App would keep routing the calls: the update clears it.
    expect(buildVoiceUpdate({ ...wired, voiceApplicationSid: 'AP0123' }, wiring)).toEqual({ ...wiring, voiceApplicationSid: '' });
  });
});

describe('twilio:connect against a fake Twilio REST API', () => {
  let fake: TwilioRestFake;
  let apiUrl: string;
  let stdout: string[];
  let stderr: string[];

  beforeEach(async () => {
    fake = new TwilioRestFake();
    apiUrl = await fake.start();
    fake.addAccount(accountSid, authToken);
    fake.addNumber({
      sid: numberSid,
      account_sid: accountSid,
      phone_number: phoneNumber,
      friendly_name: 'Front desk',
      voice_url: 'https://demo.twilio.com/welcome/voice/',
      voice_method: 'GET',
    });
    stdout = [];
    stderr = [];
  });

  afterEach(async () => {
    await fake.stop();
  });

  const env = (overrides: Record<string, string | undefined> = {}) => ({
    TWILIO_ACCOUNT_SID: accountSid,
    TWILIO_AUTH_TOKEN: authToken,
    PUBLIC_URL: publicUrl,
    TWILIO_API_URL: apiUrl,
    ...overrides,
  });
  const run = (argv: string[], environment = env()) =>
    twilioConnect(argv, environment, { log: (line) => stdout.push(line), error: (line) => stderr.push(line) });
  const posts = () => fake.requests.filter((r) => r.method === 'POST');

  it('finds the number by PhoneNumber and points its voice URL and status callback at the server', async () => {
    expect(await run(['--number', phoneNumber])).toBe(EXIT_OK);

    expect(fake.number(numberSid)).toMatchObject({
      voice_url: `${publicUrl}/voice`,
      voice_method: 'POST',
      status_callback: `${publicUrl}/voice/status`,
      status_callback_method: 'POST',
    });
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /2010-04-01/Accounts/${accountSid}/IncomingPhoneNumbers.json`,
      `POST /2010-04-01/Accounts/${accountSid}/IncomingPhoneNumbers/${numberSid}.json`,
    ]);
    expect(fake.requests[0]?.query.PhoneNumber).toBe(phoneNumber);
    const output = stdout.join('\n');
    expect(output).toMatch(/VoiceUrl\s+https:\/\/demo\.twilio\.com\/welcome\/voice\/\s+https:\/\/agent\.example\.com\/voice/);
    expect(output).toMatch(/StatusCallback\s+\(not set\)\s+https:\/\/agent\.example\.com\/voice\/status/);
    expect(output).toContain('Updated.');
    expect(stderr).toEqual([]);
  });

  it('--public-url wins over PUBLIC_URL, and a second run changes nothing', async () => {
    expect(await run(['--number', phoneNumber, '--public-url', 'https://other.example.net/'])).toBe(EXIT_OK);
    expect(fake.number(numberSid)?.voice_url).toBe('https://other.example.net/voice');

    stdout = [];
    expect(await run(['--number', phoneNumber, '--public-url', 'https://other.example.net'])).toBe(EXIT_OK);
    expect(posts()).toHaveLength(1);
    expect(stdout.join('\n')).toContain('Already wired to this server: nothing to change.');
  });

  it('--dry-run prints the planned change and sends no update', async () => {
    expect(await run(['--number', phoneNumber, '--dry-run'])).toBe(EXIT_OK);
    expect(posts()).toEqual([]);
    expect(fake.number(numberSid)?.voice_url).toBe('https://demo.twilio.com/welcome/voice/');
    const output = stdout.join('\n');
    expect(output).toMatch(/\* VoiceUrl\s+https:\/\/demo\.twilio\.com\/welcome\/voice\/\s+https:\/\/agent\.example\.com\/voice/);
    expect(output).toMatch(/ {2}StatusCallbackMethod\s+POST\s+POST/); // unchanged rows are not starred
    expect(output).toContain('Dry run');
  });

  it('clears a TwiML App that would otherwise keep routing the calls', async () => {
    fake.addNumber({ ...fake.number(numberSid)!, voice_application_sid: 'AP0123456789abcdef0123456789abcdef' });
    expect(await run(['--number', phoneNumber])).toBe(EXIT_OK);
    expect(posts()[0]?.form.VoiceApplicationSid).toBe('');
    expect(fake.number(numberSid)?.voice_application_sid).toBe('');
  });

  it('says so when the number is not on the account, and changes nothing', async () => {
    expect(await run(['--number', '+15559876543'])).toBe(EXIT_FAILED);
    expect(stderr).toEqual([
      `twilio:connect: +15559876543 is not a number on account ${accountSid}: check the number, or use the credentials of the (sub)account that owns it`,
    ]);
    expect(posts()).toEqual([]);
  });

  it('turns a 401 into "check your credentials"', async () => {
    expect(await run(['--number', phoneNumber], env({ TWILIO_AUTH_TOKEN: 'wrong-token' }))).toBe(EXIT_FAILED);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(/Twilio rejected the credentials \(HTTP 401\): check TWILIO_ACCOUNT_SID .* and TWILIO_AUTH_TOKEN/);
    expect(fake.number(numberSid)?.voice_method).toBe('GET');
  });

  it('refuses an http:// public URL before calling Twilio', async () => {
    expect(await run(['--number', phoneNumber, '--public-url', 'http://agent.example.com'])).toBe(EXIT_USAGE);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(/uses http: Twilio needs https/);
    expect(fake.requests).toEqual([]);
  });

  it('refuses a malformed number before calling Twilio', async () => {
    expect(await run(['--number', '555-1234'])).toBe(EXIT_USAGE);
    expect(stderr).toEqual([
      'twilio:connect: "555-1234" is not an E.164 number: write it as +, country code and digits with no spaces, e.g. +15551234567',
    ]);
    expect(fake.requests).toEqual([]);
  });

  it('names the missing environment variables', async () => {
    expect(await run(['--number', phoneNumber], env({ TWILIO_ACCOUNT_SID: undefined, TWILIO_AUTH_TOKEN: ' ' }))).toBe(EXIT_USAGE);
    expect(stderr[0]).toMatch(/TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set/);
    stderr = [];
    expect(await run(['--number', phoneNumber], env({ PUBLIC_URL: undefined }))).toBe(EXIT_USAGE);
    expect(stderr[0]).toMatch(/no public URL: pass --public-url https:\/\/… or set PUBLIC_URL/);
    stderr = [];
    expect(await run(['--number', phoneNumber], env({ TWILIO_ACCOUNT_SID: 'SK0123' }))).toBe(EXIT_USAGE);
    expect(stderr[0]).toMatch(/is not an Account SID/);
    expect(fake.requests).toEqual([]);
  });

  it('reports an unreachable API with the URL it tried', async () => {
    await fake.stop();
    expect(await run(['--number', phoneNumber])).toBe(EXIT_FAILED);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toContain(`could not reach the Twilio API at ${apiUrl}`);
    fake = new TwilioRestFake(); // afterEach stops a fresh, never-started server
  });

  describe('as the npm script, in a child process', () => {
    const execFileAsync = promisify(execFile);
    // Only what npm and node need: no proxy settings or real credentials from the test runner.
    const childEnv = (overrides: Record<string, string> = {}) => ({
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...(env() as Record<string, string>),
      ...overrides,
    });

    it('builds, wires the number, and exits 0; a bad token exits 1 with one line on stderr', async () => {
      // Asynchronous on purpose: the fake answers from this process's event loop.
      const { stdout: out } = await execFileAsync('npm', ['run', '--silent', 'twilio:connect', '--', '--number', phoneNumber], {
        cwd: repoRoot,
        env: childEnv(),
        timeout: 90_000,
      });
      expect(out).toContain('Updated.');
      expect(fake.number(numberSid)?.voice_url).toBe(`${publicUrl}/voice`);

      const failed = await execFileAsync('node', ['dist/cli/twilio-connect.js', '--number', phoneNumber], {
        cwd: repoRoot,
        env: childEnv({ TWILIO_AUTH_TOKEN: 'wrong-token' }),
      }).catch((error: { code: number; stderr: string }) => error);
      expect(failed).toMatchObject({ code: EXIT_FAILED });
      expect(failed.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^twilio:connect: Twilio rejected the credentials/)]);
    }, 120_000);
  });
});
