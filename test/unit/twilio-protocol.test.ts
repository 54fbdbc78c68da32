import { describe, expect, it } from 'vitest';
import {
  advanceMediaClock,
  checkSchema,
  clearMessage,
  decodePayload,
  markMessage,
  mediaMessage,
  parseInbound,
} from '../../src/media/twilio-protocol.js';

// Shapes exactly as Twilio's "Media Streams – WebSocket Messages" page shows them.
const connected = { event: 'connected', protocol: 'Call', version: '1.0.0' };
const start = {
  event: 'start',
  sequenceNumber: '1',
  start: {
    accountSid: 'ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
    streamSid: 'MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
    callSid: 'CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
    tracks: ['inbound'],
    mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    customParameters: { FirstName: 'Jane', LastName: 'Doe', RemoteParty: 'Bob' },
  },
  streamSid: 'MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
};
const media = {
  event: 'media',
  sequenceNumber: '4',
  media: { track: 'inbound', chunk: '2', timestamp: '5', payload: 'no+JhoaJjpzS' },
  streamSid: 'MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
};
const dtmf = {
  event: 'dtmf',
  streamSid: 'MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
  sequenceNumber: '5',
  dtmf: { track: 'inbound_track', digit: '1' },
};
const mark = { event: 'mark', sequenceNumber: '4', streamSid: 'MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX', mark: { name: 'my label' } };
const stop = {
  event: 'stop',
  sequenceNumber: '5',
  stop: { accountSid: 'ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX', callSid: 'CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX' },
  streamSid: 'MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
};

describe('parseInbound: Twilio shapes', () => {
  it.each([
    ['connected', connected],
    ['start', start],
    ['media', media],
    ['dtmf', dtmf],
    ['mark', mark],
    ['stop', stop],
  ])('accepts %s', (event, message) => {
    const result = parseInbound(JSON.stringify(message));
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.message.event).toBe(event);
  });

  it('turns string counters into numbers', () => {
    const result = parseInbound(JSON.stringify(media));
    if (!result.ok || result.message.event !== 'media') throw new Error('expected media');
    expect(result.message.media.timestamp).toBe(5);
    expect(result.message.media.chunk).toBe(2);
    expect(result.message.sequenceNumber).toBe(4);
  });

  it('keeps custom parameters from start', () => {
    const result = parseInbound(JSON.stringify(start));
    if (!result.ok || result.message.event !== 'start') throw new Error('expected start');
    expect(result.message.start.customParameters).toEqual({ FirstName: 'Jane', LastName: 'Doe', RemoteParty: 'Bob' });
    expect(result.message.start.callSid).toBe('CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX');
  });
});

describe('parseInbound: bad input is a typed error', () => {
  it.each([
    ['not JSON', 'hello', 'not-json'],
    ['JSON array', '[1,2]', 'not-json'],
    ['unknown event', JSON.stringify({ event: 'dance', streamSid: 'MZ1' }), 'unknown-event'],
    ['no event', JSON.stringify({ streamSid: 'MZ1' }), 'unknown-event'],
    ['media without payload', JSON.stringify({ ...media, media: { timestamp: '5' } }), 'invalid-message'],
    ['invalid base64', JSON.stringify({ ...media, media: { ...media.media, payload: '!!!not base64' } }), 'invalid-message'],
    ['non-numeric timestamp', JSON.stringify({ ...media, media: { ...media.media, timestamp: 'soon' } }), 'invalid-message'],
    ['mark without name', JSON.stringify({ ...mark, mark: {} }), 'invalid-message'],
    ['start without callSid', JSON.stringify({ ...start, start: { ...start.start, callSid: undefined } }), 'invalid-message'],
    [
      'start with PCM',
      JSON.stringify({ ...start, start: { ...start.start, mediaFormat: { encoding: 'audio/l16', sampleRate: 16000, channels: 1 } } }),
      'bad-media-format',
    ],
    ['bad dtmf digit', JSON.stringify({ ...dtmf, dtmf: { digit: 'x' } }), 'invalid-message'],
    ['1 MB frame', JSON.stringify({ ...media, media: { ...media.media, payload: 'A'.repeat(1024 * 1024) } }), 'frame-too-large'],
  ])('%s', (_name, raw, code) => {
    const result = parseInbound(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(code);
  });
});

describe('parseInbound: the media fast path answers as the schema does', () => {
  const m = media.media;
  // Each case: a media message, accepted or not; parseInbound (fast path) and the zod schema alone
  // must agree on the verdict, the message (unknown keys dropped, counters as numbers) and the code.
  const cases: Array<[string, unknown]> = [
    ['Twilio shape', media],
    ['numbers as numbers', { ...media, sequenceNumber: 4, media: { ...m, chunk: 2, timestamp: 5 } }],
    ['no optional fields', { event: 'media', streamSid: 'MZ1', media: { timestamp: '0', payload: '' } }],
    ['unknown keys dropped', { ...media, extra: 1, media: { ...m, extra: { a: 1 } } }],
    ['padded base64', { ...media, media: { ...m, payload: 'AA==' } }],
    ['negative, fractional, exponent', { ...media, sequenceNumber: '-1', media: { ...m, chunk: '1.5', timestamp: '1e3' } }],
    ['hex timestamp', { ...media, media: { ...m, timestamp: '0x10' } }],
    ['blank timestamp', { ...media, media: { ...m, timestamp: '  ' } }],
    ['empty sequenceNumber', { ...media, sequenceNumber: '' }],
    ['Infinity string', { ...media, media: { ...m, timestamp: 'Infinity' } }],
    ['null timestamp', { ...media, media: { ...m, timestamp: null } }],
    ['boolean chunk', { ...media, media: { ...m, chunk: true } }],
    ['null chunk', { ...media, media: { ...m, chunk: null } }],
    ['null sequenceNumber', { ...media, sequenceNumber: null }],
    ['numeric track', { ...media, media: { ...m, track: 1 } }],
    ['null track', { ...media, media: { ...m, track: null } }],
    ['missing streamSid', { event: 'media', media: m }],
    ['empty streamSid', { ...media, streamSid: '' }],
    ['numeric streamSid', { ...media, streamSid: 7 }],
    ['media is an array', { ...media, media: [m] }],
    ['media is null', { ...media, media: null }],
    ['payload a number', { ...media, media: { ...m, payload: 12 } }],
    ['payload with a newline', { ...media, media: { ...m, payload: 'AAAA\nAAAA' } }],
    ['payload with data after padding', { ...media, media: { ...m, payload: 'AA==AA' } }],
    ['url-safe base64', { ...media, media: { ...m, payload: 'ab-_' } }],
  ];
  it.each(cases)('%s', (_name, message) => {
    const fast = parseInbound(JSON.stringify(message));
    const reference = checkSchema(JSON.parse(JSON.stringify(message)), 'media');
    expect(fast.ok).toBe(reference.ok);
    if (fast.ok && reference.ok) expect(fast.message).toStrictEqual(reference.message);
    if (!fast.ok && !reference.ok) {
      expect(fast.error.code).toBe(reference.error.code);
      expect(fast.error.message).toBe(reference.error.message);
    }
  });
});

describe('outbound messages', () => {
  it('writes media as JSON.stringify would, whatever the streamSid holds', () => {
    const audio = Uint8Array.from({ length: 160 }, (_, i) => (i * 37) & 0xff);
    for (const sid of ['MZ1', 'MZ"quoted"\\', 'MZ\u2028\n', '']) {
      const payload = Buffer.from(audio).toString('base64');
      expect(mediaMessage(sid, audio)).toBe(JSON.stringify({ event: 'media', streamSid: sid, media: { payload } }));
    }
    // A view into a larger buffer: only its bytes.
    const backing = new Uint8Array(8).fill(1);
    const view = backing.subarray(2, 5);
    expect(JSON.parse(mediaMessage('MZ1', view)).media.payload).toBe(Buffer.from([1, 1, 1]).toString('base64'));
  });

  it('serialises media, mark and clear with the streamSid', () => {
    const audio = Uint8Array.of(0xff, 0x7f, 0x00);
    const m = JSON.parse(mediaMessage('MZ1', audio));
    expect(m).toEqual({ event: 'media', streamSid: 'MZ1', media: { payload: Buffer.from(audio).toString('base64') } });
    expect(decodePayload(m.media.payload)).toEqual(audio);
    expect(JSON.parse(markMessage('MZ1', 'g1:3'))).toEqual({ event: 'mark', streamSid: 'MZ1', mark: { name: 'g1:3' } });
    expect(JSON.parse(clearMessage('MZ1'))).toEqual({ event: 'clear', streamSid: 'MZ1' });
  });
});

describe('media clock gap filling', () => {
  it.each([
    // [expected next ts, frame ts, silence bytes inserted]
    [null, 0, 0],
    [20, 20, 0], // contiguous
    [20, 21, 0], // 1 ms jitter
    [20, 120, 800], // 100 ms missing → 800 bytes of silence
    [20, 10, 0], // late/overlapping frame: nothing
    [20, 20_000, 0], // clock jump beyond the cap: not silence
    [20, 9_020, 8_000], // a 9 s jump fills at most 1 s per frame
  ])('expected %s, got %i → %i bytes of silence', (expected, ts, bytes) => {
    // Plenty of wall time passed: only the timestamps and the per-frame cap decide.
    const [next, silence] = advanceMediaClock({ nextTimestampMs: expected, lastArrivalMs: 0 }, ts, 160, 60_000);
    expect(silence?.length ?? 0).toBe(bytes);
    if (silence) expect(silence.every((b) => b === 0xff)).toBe(true);
    expect(next.nextTimestampMs).toBeGreaterThanOrEqual(ts + 20);
  });
});

describe('media clock against forged timestamps', () => {
  it('never fills more than the wall time that passed', () => {
    // A frame 100 ms late by its timestamp but arriving 30 ms after the previous one: 30 ms at most.
    const [, silence] = advanceMediaClock({ nextTimestampMs: 20, lastArrivalMs: 1_000 }, 120, 160, 1_030);
    expect(silence?.length ?? 0).toBe(30 * 8);
  });

  it('300 frames jumping +9,999 ms each, sent at once, add (almost) no audio', () => {
    let clock = { nextTimestampMs: null as number | null, lastArrivalMs: null as number | null };
    let filled = 0;
    for (let i = 0; i < 300; i++) {
      const [next, silence] = advanceMediaClock(clock, i * 9_999, 160, 5_000 + i * 0.01);
      clock = { nextTimestampMs: next.nextTimestampMs, lastArrivalMs: next.lastArrivalMs ?? null };
      filled += silence?.length ?? 0;
    }
    expect(filled).toBeLessThan(8 * 20);
  });
});
