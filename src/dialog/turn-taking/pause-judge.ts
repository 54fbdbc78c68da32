/**
 * The caller's words so far in their turn, and what they mean for turn-taking: how complete they
 * are for the step the dialog is on (how long to wait at a pause), and what they are as an
 * interjection over the agent (backchannel, no words, a real interruption). Fed by the recogniser's
 * interim or speculative results and the brain's `listen`; decides nothing itself: it produces the
 * turn machine's `pause-words` events.
 */
import type { AgentConfig } from '../../config/agent-schema.js';
import type { SttHints } from '../../speech/stt.js';
import { matchIntent } from '../intents.js';
import { parseYesNo } from '../slots/yes-no.js';
import type { TurnEvent } from '../turn-machine.js';
import { classifyHeard, DEFAULT_BACKCHANNELS, withBackchannels, type Interjection } from './backchannel.js';
import { expectationForStep, judgeCompleteness, type Completeness, type Expectation } from './completeness.js';
import { words } from '../slots/normalize.js';

export class PauseJudge {
  private expectation: Expectation = 'open';
  /** Words recognised so far in the caller's current turn (interim or speculative). */
  words = '';
  /** The same audio as the other recognition pass heard it (offline: grammar vs open vocabulary). */
  private otherWords: string | null = null;
  private readonly backchannels: readonly string[];

  constructor(private readonly agent: Pick<AgentConfig, 'turn' | 'offline' | 'slots'>) {
    this.backchannels = agent.turn.backchannels ?? DEFAULT_BACKCHANNELS;
  }

  get adaptive(): boolean {
    return this.agent.turn.adaptiveEndpointing;
  }

  /** The dialog moved to `step` (a flow step name; none for an open LLM turn). */
  listen(step: string | undefined): void {
    this.expectation = expectationForStep(step);
  }

  /** A new caller utterance starts: earlier words are answered or dropped. */
  reset(): void {
    this.words = '';
    this.otherWords = null;
  }

  /** New words for the caller's turn so far; `other`: what the other recognition pass heard. */
  heard(words: string, other?: string): void {
    this.words = words;
    this.otherWords = other ?? null;
  }

  /** The turn machine's event for the words so far; null when endpointing ignores words. */
  verdict(overYesNoQuestion = false): TurnEvent | null {
    if (!this.adaptive) return null;
    const text = this.words;
    const intents = this.agent.offline.intents;
    const names = this.agent.slots.names;
    const ctx = {
      isRequest: (t: string) => matchIntent(t, intents) !== null,
      isName: (t: string) => names.some((n) => ` ${t.toLowerCase()} `.includes(` ${n} `)),
    };
    const completeness = combinedCompleteness(text, this.otherWords, (t) => judgeCompleteness(t, this.expectation, ctx));
    return { type: 'pause-words', completeness, interjection: this.interjection(text, overYesNoQuestion, this.otherWords ?? undefined) };
  }

  /**
   * What `text` is over the agent. `overYesNoQuestion`: the agent was asking a yes/no question when
   * the caller spoke, so a "yes"/"no"-like listener sound answers it (the caller takes the turn).
   */
  interjection(text: string, overYesNoQuestion = false, otherPass?: string): Interjection {
    const kind = classifyHeard(otherPass === undefined ? [text] : [text, otherPass], this.backchannels);
    // Either pass: the listener sound that made it a backchannel may be the other pass's ("yeah"
    // for an rms "yes" the open pass heard as "that").
    const heardYesNo = parseYesNo(text) !== null || (otherPass !== undefined && parseYesNo(otherPass) !== null);
    if (kind === 'backchannel' && overYesNoQuestion && heardYesNo) return 'barge-in';
    return kind;
  }

  /** The end-of-turn silence for a verdict, ms. */
  silenceFor(completeness: Completeness): number {
    const turn = this.agent.turn;
    if (!turn.adaptiveEndpointing) return turn.endSilenceMs;
    return completeness === 'complete' ? turn.completeSilenceMs : completeness === 'incomplete' ? turn.incompleteSilenceMs : turn.endSilenceMs;
  }

  /** Wait at a pause whose words are still being decoded (offline): never end on a half sentence. */
  get undecidedSilenceMs(): number {
    return this.silenceFor('incomplete');
  }

  /** With held replies on, a grammar recogniser must be able to hear "okay" as "okay" (see withBackchannels). */
  grammarHints(hints: SttHints): SttHints {
    if (!hints.jsgf || !this.agent.turn.resumeFalseInterruptions) return hints;
    return { ...hints, jsgf: withBackchannels(hints.jsgf, this.backchannels) };
  }
}

/**
 * One verdict from what two recognition passes heard at the pause (`other` null: one pass).
 * - Unfinished in either pass is unfinished: a grammar can only return whole answers, so its
 *   "complete" for "can i…" is worth little if the open pass heard the dangling "i".
 * - A whole answer needs the other pass not to contradict it: when that pass does not hear a whole
 *   answer and ends on another word, the grammar may have forced the audio onto its nearest phrase
 *   ("i would like open", a menu answer by its keyword "open", for "i would like to…" heard by the
 *   open pass as "i would like tenth"): the normal wait, not the short one.
 */
export function combinedCompleteness(text: string, other: string | null, judge: (text: string) => Completeness): Completeness {
  const own = judge(text);
  if (other === null || other.trim() === '') return own;
  const theirs = judge(other);
  if (theirs === 'incomplete') return 'incomplete';
  if (own === 'complete' && theirs !== 'complete' && lastWord(text) !== lastWord(other)) return 'unknown';
  return own;
}

const lastWord = (text: string) => words(text).at(-1) ?? '';