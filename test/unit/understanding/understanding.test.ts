import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../../src/config/load-agent-config.js';
import type { StepName } from '../../../src/config/dialog-schema.js';
import { buildArpa } from '../../../src/dialog/understanding/arpa.js';
import { IntentScorer } from '../../../src/dialog/understanding/intent-scorer.js';
import { understand } from '../../../src/dialog/understanding/understand.js';
import { choose } from '../../../src/speech/pocketsphinx-stt.js';
import type { Recognition } from '../../../src/speech/stt.js';
import { parseDate } from '../../../src/dialog/slots/dates.js';

const config = loadAgentConfig('config/agent.yaml');
const scorer = new IntentScorer(config.offline.intents);
const thresholds = config.offline.understanding;

describe('intent scorer', () => {
  it.each([
    ['I need to cancel my appointment', 'cancel'],
    ['something came up, can we move my visit to another day', 'reschedule'],
    ['how late are you open on fridays', 'hours'],
    ['how do I find you', 'address'],
    ['can I speak with somebody at the front desk', 'person'],
    ['could you fit me in for a checkup', 'book'],
    ['what treatments do you provide', 'services'],
    ['can we go back to the beginning', 'start-over'],
    ['that is everything thanks bye', 'goodbye'],
    ['sorry I did not catch that', 'repeat'],
  ])('"%s" → %s', (text, intent) => {
    expect(scorer.best(text)?.intent.id).toBe(intent);
  });

  it('scores nothing for unrelated talk', () => {
    expect(scorer.best('the weather is lovely')).toBeNull();
  });
});

const rec = (grammar: string, open: string, chosen: 'grammar' | 'open'): Recognition => ({
  grammar: { text: grammar, confidence: 1, acousticScore: 0, decodeMs: 0 },
  open: { text: open, confidence: 1, acousticScore: 0, decodeMs: 0 },
  chosen,
  fit: chosen === 'open' ? 10 : 0,
});
const dateAnswers = (t: string) => parseDate(t, '2026-11-25') !== null;
const run = (step: StepName, task: string | null, r: Recognition, answers: (t: string) => boolean = () => false) =>
  understand({ step, task, text: r.chosen === 'open' ? r.open!.text : r.grammar!.text, recognition: r, answers }, scorer, thresholds);

describe('understand: act, ask or reprompt', () => {
  it('acts on a menu request both passes agree on', () => {
    expect(run('menu', null, rec('cancel my appointment', 'i need to cancel my appointment', 'open'))).toMatchObject({ kind: 'act', intent: { id: 'cancel' } });
  });
  it('asks before a transfer only one pass heard', () => {
    expect(run('menu', null, rec('talk to a person', 'i need to cancel my appointment', 'grammar'))).toMatchObject({ kind: 'clarify', intent: { id: 'person' } });
  });
  it('asks before leaving a task half done for another', () => {
    expect(run('date', 'book', rec('the thirtieth of july', 'actually i need to cancel my appointment', 'grammar'), dateAnswers)).toMatchObject({ kind: 'clarify', intent: { id: 'cancel' } });
  });
  it('fills a slot from the open pass when the grammar was forced', () => {
    expect(run('date', 'book', rec('the fifth of june', 'it is um tuesday i think', 'open'), dateAnswers)).toEqual({ kind: 'answer', text: 'it is um tuesday i think' });
  });
  it('does not parse the grammar text the audio was forced into', () => {
    expect(run('date', 'book', rec('august the tenth', 'uh the bit then please', 'open'), dateAnswers)).toEqual({ kind: 'none' });
  });
  it('takes no yes/no the two passes disagree on', () => {
    expect(run('confirm', 'book', rec('yes', 'no that is wrong', 'grammar'), () => true)).toEqual({ kind: 'none' });
  });
  it('keeps the old behaviour for a single (cloud) transcript', () => {
    const u = understand({ step: 'menu', task: null, text: 'i would like to book an appointment', answers: () => false }, scorer, thresholds);
    expect(u).toMatchObject({ kind: 'act', intent: { id: 'book' } });
  });
});

describe('which pass to believe', () => {
  const r = (text: string, acousticScore: number) => ({ text, confidence: 1, decodeMs: 1, cpuMs: 1, acousticScore, frames: 100 });
  it('believes the grammar when it fits as well', () => {
    expect(choose(r('book an appointment', -5000), r('book an appointment', -4950), 2).recognition.chosen).toBe('grammar');
  });
  it('believes the open pass when it explains the audio much better', () => {
    expect(choose(r('eight a m', -9000), r('i want to talk about my bill', -6000), 2).recognition).toMatchObject({ chosen: 'open', fit: 30 });
  });
  it('believes the open pass when the grammar matched a fragment', () => {
    expect(choose(r('come again', -5000), r('i would like to come in and see someone', -5100), 2).recognition.chosen).toBe('open');
  });
});

describe('ARPA trigram', () => {
  it('writes a well-formed model whose probabilities sum to about one', () => {
    const arpa = buildArpa(['book an appointment', 'cancel my appointment', 'book a checkup'], { extraWords: ['hello'] });
    expect(arpa).toMatch(/^\\data\\\nngram 1=\d+\nngram 2=\d+\nngram 3=\d+/);
    const unigrams = arpa.split('\\1-grams:\n')[1]!.split('\n\n')[0]!.split('\n').map((l) => l.split('\t'));
    const total = unigrams.filter(([, w]) => w !== '<s>').reduce((n, [p]) => n + 10 ** Number(p), 0);
    expect(total).toBeGreaterThan(0.99);
    expect(total).toBeLessThan(1.01);
    expect(unigrams.some(([, w]) => w === 'hello')).toBe(true);
  });
});
