import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ToolRunner } from '../../../src/tools/registry.js';
import { createTransferTool, type TransferOptions } from '../../../src/tools/transfer.js';
import { FakeTwilioApi } from './support/fake-twilio-api.js';

const accountSid = 'AC00000000000000000000000000000001';
const authToken = 'test-auth-token';
const callSid = 'CA00000000000000000000000000000002';
const callResource = { sid: callSid, account_sid: accountSid, status: 'in-progress' };

describe('transfer_to_person', () => {
  let api: FakeTwilioApi;
  let apiBaseUrl: string;

  beforeEach(async () => {
    api = new FakeTwilioApi();
    apiBaseUrl = await api.start();
  });

  afterEach(async () => {
    await api.stop();
  });

  const runnerFor = (options: TransferOptions, sid = callSid) =>
    new ToolRunner({ tools: [createTransferTool(options)], call: { callSid: sid, from: '+15550001111' } });
  const configured = (): TransferOptions => ({ accountSid, authToken, apiBaseUrl, transferNumber: '+15557654321' });
  const transfer = (runner: ToolRunner, signal = new AbortController().signal) =>
    runner.call('transfer_to_person', { reason: 'caller asked for a person' }, signal);

  it('redirects the live call to a <Dial> of the transfer number', async () => {
    api.reply = { status: 200, body: callResource };
    const outcome = await transfer(runnerFor(configured()));
    expect(outcome).toMatchObject({ ok: true, result: { transferred: true } });
    expect(api.requests).toHaveLength(1);
    const request = api.requests[0];
    expect(request).toMatchObject({
      method: 'POST',
      path: `/2010-04-01/Accounts/${accountSid}/Calls/${callSid}.json`,
      username: accountSid,
      password: authToken,
    });
    expect(request?.form.Twiml).toMatch(/<Response><Dial>\+15557654321<\/Dial><\/Response>$/);
  });

  it('escapes the number into valid TwiML', async () => {
    api.reply = { status: 200, body: callResource };
    await transfer(runnerFor({ ...configured(), transferNumber: 'sip:desk@clinic.example?a=1&b=2' }));
    expect(api.requests[0]?.form.Twiml).toContain('<Dial>sip:desk@clinic.example?a=1&amp;b=2</Dial>');
  });

  it('reports not-configured without credentials or number, and sends nothing', async () => {
    for (const options of [
      { transferNumber: '+15557654321', apiBaseUrl },
      { accountSid, authToken, apiBaseUrl },
      { accountSid, transferNumber: '+15557654321', apiBaseUrl },
    ]) {
      const outcome = await transfer(runnerFor(options));
      expect(outcome).toMatchObject({ ok: true, result: { transferred: false, reason: 'not-configured' } });
    }
    expect(api.requests).toHaveLength(0);
  });

  it('maps a 404 (the call already ended) to call-not-found', async () => {
    api.reply = { status: 404, body: { code: 20404, message: 'The requested resource was not found', status: 404 } };
    const outcome = await transfer(runnerFor(configured()));
    expect(outcome).toMatchObject({ ok: false, error: { code: 'call-not-found' } });
  });

  it('maps a server error to transfer-failed', async () => {
    api.reply = { status: 500, body: { code: 20500, message: 'Internal Server Error', status: 500 } };
    const outcome = await transfer(runnerFor(configured()));
    expect(outcome).toMatchObject({ ok: false, error: { code: 'transfer-failed' } });
    if (!outcome.ok) expect(outcome.error.message).toContain('500');
  });

  it('maps an unreachable API to transfer-failed', async () => {
    await api.stop();
    const outcome = await transfer(runnerFor(configured()));
    expect(outcome).toMatchObject({ ok: false, error: { code: 'transfer-failed' } });
    api = new FakeTwilioApi(); // afterEach stops a fresh, never-started server
    await api.start();
  });

  it('aborts the HTTP request when the caller hangs up', async () => {
    api.reply = { status: 200, body: callResource, delayMs: 60_000 };
    const hangUp = new AbortController();
    const pending = transfer(runnerFor(configured()), hangUp.signal);
    while (api.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    hangUp.abort();
    expect(await pending).toMatchObject({ ok: false, error: { code: 'aborted' } });
    // The request itself was cancelled, not merely left to finish unobserved.
    await expect.poll(() => api.abandoned, { timeout: 5000 }).toBe(1);
  });

  it('times out a slow API', async () => {
    api.reply = { status: 200, body: callResource, delayMs: 60_000 };
    const outcome = await transfer(runnerFor({ ...configured(), timeoutMs: 200 }));
    expect(outcome).toMatchObject({ ok: false, error: { code: 'timeout' } });
    await expect.poll(() => api.abandoned, { timeout: 5000 }).toBe(1);
  });
});
