import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptedBrain, scriptedEngines } from '../../testkit/fakes/scripted-engines.js';
import { FakeTwilioCaller } from '../../testkit/twilio/fake-twilio-caller.js';
import { startTestServer, type TestServer } from '../../testkit/helpers/test-app.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('bad input on the media socket', () => {
  it('drops malformed frames, keeps the call going and leaves another call unaffected', async () => {
    const brains: ScriptedBrain[] = [];
    server = await startTestServer({
      engines: () => {
        const brain = new ScriptedBrain(() => [{ type: 'text', text: 'Hello there.' }]);
        brains.push(brain);
        return scriptedEngines({ brain });
      },
    });
    const good = new FakeTwilioCaller({ url: server.wsUrl, playback: 'instant' });
    const bad = new FakeTwilioCaller({ url: server.wsUrl, playback: 'instant' });
    await good.start();
    await bad.opened();

    // Before start: media is not accepted (and must not crash anything).
    await bad.sendAudio(0xff, 40, true);
    await bad.start();
    await bad.waitFor(() => server!.app.context.calls.active === 2, 5000, 'both calls active');
    bad.send('this is not json');
    bad.send(JSON.stringify({ event: 'dance', streamSid: bad.streamSid }));
    bad.send(JSON.stringify({ event: 'media', streamSid: bad.streamSid, media: { timestamp: '1', payload: '%%%not-base64%%%' } }));
    bad.ws.send(Buffer.from([1, 2, 3, 4]), { binary: true });
    bad.send(JSON.stringify({ event: 'mark', streamSid: bad.streamSid, mark: { name: 'not-one-of-ours' } }));
    bad.send(JSON.stringify({ event: 'start', streamSid: bad.streamSid, start: { streamSid: bad.streamSid, callSid: 'CAdup' } }));

    // Both calls still work: the bad one still gets a reply to a key press.
    await bad.waitFor(() => bad.count('media') > 0, 5000, 'greeting on the bad call');
    bad.dtmf('1');
    // Frames on one socket are handled in order: once the key press reached the brain, every bad
    // frame before it has been dealt with.
    const badBrain = () => brains.find((b) => b.inputs.some((i) => i.type === 'dtmf'));
    await bad.waitFor(() => badBrain() !== undefined, 5000, 'key press on the bad call');
    await bad.waitFor(() => badBrain()!.inputs.length === 2 && bad.count('mark') >= 2, 5000, 'reply on the bad call');
    expect(bad.ws.readyState).toBe(WebSocket.OPEN);
    expect(good.ws.readyState).toBe(WebSocket.OPEN);
    expect(server.app.context.calls.active).toBe(2);

    const record = await server.app.context.records.get(bad.callSid);
    expect(record?.protocolErrors).toMatchObject({
      'not-json': 1,
      'unknown-event': 1,
      'invalid-message': 1,
      'binary-frame': 1,
      'duplicate-start': 1,
    });
    const metrics = (await server.app.fastify.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/voice_protocol_errors_total\{code="before-start"\} 2/);

    // An abrupt close (no stop) ends that call only.
    bad.ws.terminate();
    await good.waitFor(() => server!.app.context.calls.active === 1, 5000, 'bad call ended');
    await server.app.context.records.flush();
    expect((await server.app.context.records.get(bad.callSid))?.endReason).toBe('socket-closed');
    const stillHealthy = await server.app.fastify.inject({ url: '/healthz' });
    expect(stillHealthy.statusCode).toBe(200);
    good.stop();
    await good.waitFor(() => server!.app.context.calls.active === 0, 5000, 'good call ended');
    good.close();
  });

  it('a frame above the socket cap closes only that socket', async () => {
    server = await startTestServer();
    const good = new FakeTwilioCaller({ url: server.wsUrl, playback: 'instant' });
    const huge = new FakeTwilioCaller({ url: server.wsUrl, playback: 'instant' });
    await good.start();
    await huge.start();
    await good.waitFor(() => server!.app.context.calls.active === 2, 5000, 'both calls');
    // Just over 64 KB: the app's own frame limit is the socket's (ws closes with 1009 before buffering more).
    huge.send(JSON.stringify({ event: 'media', streamSid: huge.streamSid, media: { timestamp: '1', payload: 'A'.repeat(64 * 1024) } }));
    expect(await huge.closed()).toBe(1009);
    await good.waitFor(() => server!.app.context.calls.active === 1, 5000, 'huge call ended');
    expect(good.ws.readyState).toBe(WebSocket.OPEN);
    good.close();
  });
});
