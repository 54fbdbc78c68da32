/** Nothing unredacted or unbounded reaches the log: messages, objects, errors, stacks, child bindings, requests. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, MAX_LOGGED_CHARS } from '../../src/observability/logger.js';
import { createRedactor } from '../../src/observability/redact.js';

const redact = createRedactor({ cardNumbers: true, phoneNumbers: true, datesOfBirth: true, emails: true, custom: [] });

function capture() {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  const logger = createLogger('debug', redact, sink);
  return { logger, text: () => lines.join('') };
}

describe('logger redaction', () => {
  it('redacts error messages, stacks and extra properties', () => {
    const { logger, text } = capture();
    const error = Object.assign(new Error('caller jane@example.com gave 4111 1111 1111 1111'), { detail: 'phone 555-123-4567' });
    logger.error({ err: error }, 'failed');
    logger.error(new Error('call me at 555-987-6543'));
    const out = text();
    expect(out).not.toMatch(/jane@example\.com|4111 1111|555-123-4567|555-987-6543/);
    expect(out).toContain('[email]');
    expect(out).toContain('"stack"');
  });

  it('redacts child-logger bindings, also of grandchildren', () => {
    const { logger, text } = capture();
    logger.child({ from: '+1 555 123 4567' }).child({ email: 'a.b@example.org' }).info('call started');
    const out = text();
    expect(out).not.toMatch(/555 123 4567|a\.b@example\.org/);
    expect(out).toContain('[phone]');
  });

  it('cuts long strings before redacting them', () => {
    const { logger, text } = capture();
    logger.info({ url: `/voice?${'a'.repeat(100_000)}` }, 'x'.repeat(100_000));
    const line = JSON.parse(text()) as { url: string; msg: string };
    expect(line.url.length).toBeLessThan(MAX_LOGGED_CHARS + 20);
    expect(line.msg.length).toBeLessThan(MAX_LOGGED_CHARS + 20);
  });

  it('logs requests by path only, never their query string', () => {
    const { logger, text } = capture();
    logger.info({ req: { method: 'POST', url: '/voice?secret=1&From=%2B15551234567', ip: '203.0.113.9', headers: {} } }, 'incoming request');
    const out = text();
    expect(out).toContain('"path":"/voice"');
    expect(out).not.toContain('secret');
  });
});
