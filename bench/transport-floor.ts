/**
 * Runs the transport floor (transport-floor-proc.ts) with `n` paced Twilio peers for `seconds`:
 * each sends `connected`, `start`, then a 20 ms μ-law frame every 20 ms on an absolute schedule and
 * reads the echoes. Returns the floor process's CPU per call (% of one core), measured from /proc.
 */
import { WebSocket } from 'ws';
import { Child, sleep } from './harness.js';
import { TreeMonitor } from './process-tree.js';

const FRAME = Buffer.alloc(160, 0xff).toString('base64');

async function floorCaller(url: string, index: number, seconds: number): Promise<number> {
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let echoes = 0;
  ws.on('message', () => echoes++);
  const streamSid = `MZfloor${index}`;
  ws.send(JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' }));
  ws.send(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid, start: { streamSid, callSid: `CAfloor${index}`, accountSid: 'ACfloor', tracks: ['inbound'], customParameters: {}, mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 } } }));
  const t0 = performance.now();
  const total = Math.round((seconds * 1000) / 20);
  for (let k = 0; k < total; ) {
    while (k < total && t0 + k * 20 <= performance.now() + 1) {
      ws.send(JSON.stringify({ event: 'media', sequenceNumber: String(k + 2), streamSid, media: { track: 'inbound', chunk: String(k + 1), timestamp: String(k * 20), payload: FRAME } }));
      k++;
    }
    await sleep(Math.max(0, t0 + k * 20 - performance.now()));
  }
  await sleep(200);
  ws.close();
  return echoes;
}

export interface FloorResult { n: number; seconds: number; cpuPercent: number; cpuPercentPerCall: number; echoedShare: number }

export async function measureTransportFloor(n: number, seconds = 15): Promise<FloorResult> {
  const floor = await Child.start('transport-floor-proc.js', {});
  const url = floor.info.url!;
  const monitor = new TreeMonitor(floor.proc.pid!);
  const echoes = await Promise.all(Array.from({ length: n }, (_, i) => sleep((i * 1000) / n).then(() => floorCaller(url, i, seconds))));
  const usage = monitor.stop();
  await floor.stop();
  const expected = n * Math.round((seconds * 1000) / 20);
  return {
    n,
    seconds,
    cpuPercent: usage.cpuPercent,
    cpuPercentPerCall: Math.round((usage.cpuPercent / n) * 1000) / 1000,
    echoedShare: Math.round((echoes.reduce((a, b) => a + b, 0) / expected) * 1000) / 1000,
  };
}
