/**
 * Collects DTMF key presses into entries. In `single` mode (menus) each key is an entry at once, so a
 * menu answer costs no waiting; in `digits` mode keys gather until `#` or an inter-digit pause, and
 * `*` starts the entry over. Pure; the session owns the pause timer.
 */
import { realScheduler, type Scheduler, type Timer } from '../util/scheduler.js';

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

/** The stateful side: holds the keys and the pause timer, and reports complete entries. */
export class KeypadCollector {
  private state: KeypadState = { keys: '' };
  private timer: Timer | null = null;
  mode: KeypadMode = 'single';

  constructor(
    private readonly onEntry: (entry: string) => void,
    /** Called while an entry is still open (the caller is mid-number: no reprompt now). */
    private readonly onPending: () => void,
    private readonly pauseMs: number,
    private readonly scheduler: Scheduler = realScheduler,
  ) {}

  press(key: string): void {
    this.apply(pressKey(this.state, key, this.mode));
  }

  close(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private apply(result: KeypadResult): void {
    this.state = result.state;
    this.close();
    if (result.entry !== null) this.onEntry(result.entry);
    if (result.waitForMore) {
      this.onPending();
      this.timer = this.scheduler.after(this.pauseMs, () => this.apply(keypadTimeout(this.state)));
    }
  }
}
