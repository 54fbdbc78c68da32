/**
 * Collects DTMF key presses into entries. In `single` mode (menus) each key is an entry at once, so a
 * menu answer costs no waiting; in `digits` mode keys gather until `#` or an inter-digit pause, and
 * `*` starts the entry over. Pure; the session owns the pause timer.
 */
export type KeypadMode = 'single' | 'digits';

export interface KeypadState {
  keys: string;
}

export type KeypadResult = { state: KeypadState; entry: string | null; waitForMore: boolean };

export function pressKey(state: KeypadState, key: string, mode: KeypadMode): KeypadResult {
  if (mode === 'single' && state.keys === '') {
    return { state, entry: key, waitForMore: false };
  }
  if (key === '*') return { state: { keys: '' }, entry: null, waitForMore: true };
  if (key === '#') {
    return { state: { keys: '' }, entry: state.keys === '' ? '#' : `${state.keys}#`, waitForMore: false };
  }
  return { state: { keys: state.keys + key }, entry: null, waitForMore: true };
}

/** The pause ended the entry. */
export function keypadTimeout(state: KeypadState): KeypadResult {
  return { state: { keys: '' }, entry: state.keys === '' ? null : state.keys, waitForMore: false };
}
