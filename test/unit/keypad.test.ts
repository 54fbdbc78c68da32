import { describe, expect, it } from 'vitest';
import { keypadTimeout, pressKey, type KeypadMode, type KeypadState } from '../../src/dialog/keypad.js';

function press(keys: string, mode: KeypadMode): { entries: string[]; pending: string } {
  let state: KeypadState = { keys: '' };
  const entries: string[] = [];
  for (const key of keys) {
    const result = pressKey(state, key, mode);
    state = result.state;
    if (result.entry !== null) entries.push(result.entry);
  }
  return { entries, pending: state.keys };
}

describe('keypad collection', () => {
  it.each<[string, KeypadMode, string[], string]>([
    ['1', 'single', ['1'], ''],
    ['12', 'single', ['1', '2'], ''],
    ['5551234#', 'digits', ['5551234#'], ''],
    ['555*12#', 'digits', ['12#'], ''],
    ['#', 'digits', ['#'], ''],
    ['555', 'digits', [], '555'],
  ])('%s in %s mode', (keys, mode, entries, pending) => {
    expect(press(keys, mode)).toEqual({ entries, pending });
  });

  it('a pause ends a digit entry', () => {
    expect(keypadTimeout({ keys: '555' }).entry).toBe('555');
    expect(keypadTimeout({ keys: '' }).entry).toBeNull();
  });
});
