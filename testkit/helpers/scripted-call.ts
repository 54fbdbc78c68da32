/**
 * Drives a BrainSession through a text-level script, the way the call session would, and checks
 * on the way that every caller phrase is matchable by the grammar the previous turn emitted.
 */
import { expect } from 'vitest';
import type { BrainEvent, BrainInput, BrainSession, ConversationTurn } from '../../src/dialog/brain.js';
import { normalizeUtterance } from '../../src/dialog/slots/normalize.js';
import { jsgfMatcher } from './jsgf-matcher.js';

export interface TurnResult {
  events: BrainEvent[];
  /** All text events joined with spaces. */
  text: string;
  sentences: string[];
}

/** Every grammar emitted by any scripted call in this test process (for the dictionary check). */
export const emittedGrammars = new Set<string>();

export class ScriptedCall {
  readonly history: ConversationTurn[] = [];
  readonly turns: TurnResult[] = [];
  private jsgf: string | null = null;

  constructor(private readonly session: BrainSession) {}

  get grammar(): string | null {
    return this.jsgf;
  }

  start(): Promise<TurnResult> {
    return this.run({ type: 'call-start' });
  }

  /** The caller says `phrase`; it must be something the last grammar lets the recogniser return. */
  say(phrase: string): Promise<TurnResult> {
    const words = normalizeUtterance(phrase);
    expect(this.jsgf, 'a grammar was emitted before the caller spoke').not.toBeNull();
    expect(jsgfMatcher(this.jsgf!)(words), `"${words}" is not in the grammar of the previous turn`).toBe(true);
    this.history.push({ role: 'caller', text: phrase });
    return this.run({ type: 'speech', text: phrase, confidence: 1 });
  }

  /** Speech a cloud recogniser could return but the grammar would not (out-of-grammar input). */
  sayUnchecked(text: string): Promise<TurnResult> {
    return this.run({ type: 'speech', text, confidence: 1 });
  }

  press(digits: string): Promise<TurnResult> {
    return this.run({ type: 'dtmf', digits });
  }

  silence(): Promise<TurnResult> {
    return this.run({ type: 'no-input' });
  }

  noMatch(): Promise<TurnResult> {
    return this.run({ type: 'no-match' });
  }

  async run(input: BrainInput, signal: AbortSignal = new AbortController().signal): Promise<TurnResult> {
    const events: BrainEvent[] = [];
    for await (const event of this.session.turn(input, { signal, history: this.history })) {
      events.push(event);
      if (event.type === 'listen') {
        this.jsgf = event.hints.jsgf ?? null;
        if (this.jsgf) emittedGrammars.add(this.jsgf);
      }
    }
    const sentences = events.flatMap((e) => (e.type === 'text' ? [e.text.trim()] : []));
    const result = { events, text: sentences.join(' '), sentences };
    if (result.text) this.history.push({ role: 'agent', text: result.text });
    this.turns.push(result);
    return result;
  }
}

export const toolCalls = (r: TurnResult) => r.events.flatMap((e) => (e.type === 'tool-call' ? [e.call] : []));
export const lastEvent = (r: TurnResult) => r.events[r.events.length - 1];
