/**
 * The one Twilio simulator (testkit/twilio/fake-twilio-caller.ts): what advances playback, when
 * marks are echoed, and what `clear` does, against a bare WebSocket server playing our side.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { FakeTwilioCaller, type FakeCallerOptions } from '../../../testkit/twilio/fake-twilio-caller.js';
import { until } from '../../../testkit/helpers/process.js';

let wss: WebSocketServer;
let peer: Promise<{ socket: WebSocket; inbound: Array<Record<string, any>> }>;
const callers: FakeTwilioCaller[] = [];

beforeEach(async () => {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => wss.once('listening', resolve));
  peer = new Promise((resolve) =>
    wss.once('connection', (socket) => {
      const inbound: Array<Record<string, any>> = [];
      socket.on('message', (data) => inbound.push(JSON.parse(data.toString())));
      resolve({ socket, inbound });
    }),
  );
});
afterEach(async () => {
  for (const caller of callers.splice(0)) caller.close();
  await new Promise((resolve) => wss.close(resolve));
});

async function connect(options: Partial<FakeCallerOptions>) {
  const { port } = wss.address() as { port: number };
  const caller = new FakeTwilioCaller({ url: `ws://127.0.0.1:${port}/media`, announce: false, ...options });
  callers.push(caller);
  await caller.start();
  const server = await peer;
  const say = (ms: number, mark: string) => {
    server.socket.send(JSON.stringify({ event: 'media', streamSid: caller.streamSid, media: { payload: Buffer.alloc(ms * 8, 0x55).toString('base64') } }));
    server.socket.send(JSON.stringify({ event: 'mark', streamSid: caller.streamSid, mark: { name: mark } }));
  };
  const echoes = () => server.inbound.filter((m) => m.event === 'mark').map((m) => m.mark.name as string);
  const frame = { kind: 'frame' as const, audio: new Uint8Array(160).fill(0xff) };
  return { caller, server, say, echoes, frame };
}

describe('Twilio simulator playback', () => {
  it("media-clock: each caller frame plays 20 ms; a mark is echoed once the caller's clock reaches it", async () => {
    const { caller, say, echoes, frame } = await connect({ playback: 'media-clock' });
    say(40, 'g1:1:end');
    await until(() => caller.count('mark') === 1, 'agent audio');
    expect(caller.utterances.talking).toBe(true);
    caller.sendItem(frame);
    expect(caller.playedMs(1)).toBe(20);
    caller.sendItem(frame);
    expect(caller.playedMs(1)).toBe(40);
    await until(() => echoes().length === 1, 'echo');
    expect(echoes()).toEqual(['g1:1:end']);
    expect(caller.utterances.talking).toBe(false);
    expect(caller.played.map((p) => [p.atMs, p.audio.length])).toEqual([[0, 160], [20, 160]]);
    expect(caller.callerAudio.map((c) => c.atMs)).toEqual([0, 20]);
    expect(caller.clockMs).toBe(40);
  });

  it('instant: everything plays on arrival and marks are echoed at once', async () => {
    const { caller, say, echoes } = await connect({ playback: 'instant' });
    say(500, 'g1:1:end');
    await until(() => echoes().length === 1, 'echo');
    expect(caller.playedAudioMs).toBe(500);
    expect(caller.received.map((m) => m.event)).toEqual(['media', 'mark']);
  });

  it('realtime: the mark waits for the audio before it to play out', async () => {
    const { caller, say, echoes } = await connect({ playback: 'realtime' });
    say(200, 'g1:1:end');
    await until(() => caller.count('mark') === 1, 'agent audio');
    expect(echoes()).toEqual([]);
    await until(() => echoes().length === 1, 'echo', 5_000);
    expect(caller.playedAudioMs).toBe(200);
  });

  it('clear drops the buffer and echoes every pending mark, which is not playback', async () => {
    const { caller, server, say, echoes } = await connect({ playback: 'media-clock' });
    say(1000, 'g1:1');
    say(1000, 'g1:2:end');
    await until(() => caller.count('mark') === 2, 'agent audio');
    server.socket.send(JSON.stringify({ event: 'clear', streamSid: caller.streamSid }));
    await until(() => echoes().length === 2, 'echoes');
    expect(echoes()).toEqual(['g1:1', 'g1:2:end']);
    expect(caller.bufferedAudioMs).toBe(0);
    expect(caller.playedAudioMs).toBe(0);
    expect(caller.utterances.talking).toBe(false);
  });

  it('never-echo: plays but never answers a mark (a broken peer)', async () => {
    const { caller, say, echoes } = await connect({ playback: 'never-echo' });
    say(40, 'g1:1:end');
    await until(() => caller.playedAudioMs === 40, 'playback', 5_000);
    expect(echoes()).toEqual([]);
  });

  it('drive at pace max: frames go back to back, and a waiting caller waits for the server instead of sending silence', async () => {
    const { caller, server, say, frame } = await connect({ playback: 'media-clock', pace: 'max' });
    const script: Array<'wait' | { send: typeof frame }> = [{ send: frame }, { send: frame }, 'wait'];
    let waited = 0;
    const driving = caller.drive(() => {
      const step = script.shift();
      if (step) return step === 'wait' ? 'wait' : { send: step.send };
      return ++waited > 1 ? 'done' : 'wait';
    });
    setTimeout(() => say(20, 'g1:1:end'), 50);
    await driving;
    const media = () => server.inbound.filter((m) => m.event === 'media');
    // Two scripted frames, then one silent frame to play the agent's 20 ms once it arrived.
    await until(() => media().length >= 3, 'frames on the server');
    await new Promise((r) => setTimeout(r, 50));
    expect(media()).toHaveLength(3);
    expect(caller.playedMs(1)).toBe(20);
  });
});
