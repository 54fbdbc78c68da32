import { describe, expect, it } from 'vitest';
import { isNotificationFor } from '../../../src/store/postgres/commands.js';

describe('isNotificationFor (LISTEN payloads that wake a worker’s command sweep)', () => {
  it.each([
    ['our channel, our worker', { channel: 'voice_call_commands', payload: '{"id":"c1","workerId":"w1"}' }, true],
    ['another worker', { channel: 'voice_call_commands', payload: '{"id":"c1","workerId":"w2"}' }, false],
    ['another channel', { channel: 'other', payload: '{"workerId":"w1"}' }, false],
    ['no payload', { channel: 'voice_call_commands' }, false],
    ['empty payload', { channel: 'voice_call_commands', payload: '' }, false],
    ['not JSON', { channel: 'voice_call_commands', payload: 'w1' }, false],
    ['JSON without a worker', { channel: 'voice_call_commands', payload: '{"id":"c1"}' }, false],
    ['JSON null', { channel: 'voice_call_commands', payload: 'null' }, false],
  ])('%s', (_name, message, expected) => {
    expect(isNotificationFor(message, 'w1')).toBe(expected);
  });
});
