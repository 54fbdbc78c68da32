import { describe, expect, it } from 'vitest';
import { loadAgentConfig } from '../../../src/config/load-agent-config.js';
import type { StepName } from '../../../src/config/dialog-schema.js';
import { buildArpa } from '../../../src/dialog/understanding/arpa.js';
import { IntentScorer } from '../../../src/dialog/understanding/intent-scorer.js';
import { understand } from '../../../src/dialog/understanding/understand.js';
import { choose, noiseAdjustedThreshold } from '../../../src/speech/pass-choice.js';
import { lineSnrDb } from '../../../src/speech/line-level.js';
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

  it.each([
    ['I was hoping to get my booking cancelled', 'cancel'],
    ['cancel my booking please', 'cancel'],
    ['I am rescheduling my visit', 'reschedule'],
    ['when do you close', 'hours'],
  ])('matches inflections by stem: "%s" → %s', (text, intent) => {
    expect(scorer.best(text)?.intent.id).toBe(intent);
  });

  it('hears a goodbye only where a closing goes: at the end', () => {
    expect(scorer.best('okay thanks then bye')?.intent.id).toBe('goodbye');
    expect(scorer.best('bye i was hoping to see the doctor this week')?.intent.id).toBe('book');
  });

  it('counts a cue and its inflection once', () => {
    expect(scorer.best('move my')?.score).toBe(2);
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
  it('takes the grammar answer when the believed open pass means nothing (a read-back follows)', () => {
    expect(run('date', 'book', rec('august the tenth', 'uh the bit then please', 'open'), dateAnswers)).toEqual({ kind: 'answer', text: 'august the tenth' });
  });
  it('does not take a forced grammar answer that would commit something', () => {
    expect(run('confirm', 'book', rec('yes', 'uh the bit then please', 'open'), (t) => t === 'yes')).toEqual({ kind: 'none' });
  });
  it('asks about a clear request in the open pass rather than take the forced answer', () => {
    expect(run('date', 'book', rec('august the tenth', 'i want to talk to a person', 'open'), dateAnswers)).toMatchObject({ kind: 'clarify', intent: { id: 'person' } });
  });
  it('commits on a yes only when both passes heard one', () => {
    const r = (grammar: string, open: string, fit: number): Recognition => ({ ...rec(grammar, open, 'grammar'), fit });
    const yes = (t: string) => /yes|yep|yup|good|okay/.test(t);
    expect(run('confirm', 'book', r('oh all good yup all good', 'two o clock can week', 1.5), yes)).toEqual({ kind: 'none' });
    expect(run('confirm', 'cancel', r('oh okay yup please', 'two o clock can delete', -1.8), yes)).toEqual({ kind: 'none' });
    expect(run('confirm', 'book', r('yes that is right', 'yeah that is right', 3), yes)).toMatchObject({ kind: 'answer' });
    // Not at a question that commits nothing.
    expect(run('phoneChoice', 'book', r('um yep', 'again', 2), yes)).toMatchObject({ kind: 'answer' });
  });
  it('hangs up on a goodbye at "anything else?" that the grammar heard, unless the open pass asks for more', () => {
    expect(run('anythingElse', null, rec('goodbye', 'move my', 'grammar'))).toMatchObject({ kind: 'act', intent: { id: 'goodbye' } });
    expect(run('menu', null, rec('goodbye', 'move my', 'grammar'))).toMatchObject({ kind: 'clarify', intent: { id: 'goodbye' } });
    expect(run('anythingElse', null, rec('goodbye', 'i want to reschedule my appointment', 'grammar'))).toMatchObject({ kind: 'clarify' });
  });
  it('asks about the clearer request of the open pass when the believed grammar pass carries one stray menu word', () => {
    expect(run('menu', null, rec('can i book two the fifth second eight please', 'can i talk to receptionist please', 'grammar'))).toMatchObject({ kind: 'clarify', intent: { id: 'person' } });
    // Not when the open pass was believed: then the grammar's words are what the audio was forced into.
    expect(run('menu', null, rec('can i talk to a person', 'could you fit me in for checkup', 'open'))).toMatchObject({ kind: 'clarify', intent: { id: 'book' } });
  });
  it('takes the name both passes heard, not the grammar\'s extra one', () => {
    const names = (t: string) => (t.match(/\b(david|jordan|taylor)\b/g) ?? []).join(' ') || null;
    const name = (r: Recognition) => understand({ step: 'name', task: 'book', text: r.grammar!.text, recognition: r, answers: (t) => names(t) !== null, value: names }, scorer, thresholds);
    expect(name(rec('uh david jordan', 'the name is jordan', 'grammar'))).toEqual({ kind: 'answer', text: 'the name is jordan' });
    expect(name(rec('david jordan', 'the name is taylor', 'grammar'))).toEqual({ kind: 'answer', text: 'david jordan' });
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
  it('asks more of the open pass on a noisy line', () => {
    // "goodbye" over hiss: the open pass explains the noise with words ("move my") and leads by 4 per frame.
    expect(choose(r('goodbye', -5400), r('move my', -5000), 2, 35).recognition.chosen).toBe('open');
    expect(choose(r('goodbye', -5400), r('move my', -5000), 2, 19).recognition).toMatchObject({ chosen: 'grammar', snrDb: 19 });
  });
  it.each([
    [null, 2],
    [40, 2],
    [30, 2],
    [20, 5.5],
  ])('noise-adjusted threshold at SNR %s dB is %s', (snr, threshold) => expect(noiseAdjustedThreshold(2, snr)).toBeCloseTo(threshold));
});

describe('line SNR', () => {
  const tone = (amplitude: number, n: number) => Array.from({ length: n }, (_, i) => Math.round(amplitude * Math.sin(i / 3)));
  const noise = (amplitude: number, n: number) => Array.from({ length: n }, (_, i) => ((i * 7919) % 13 - 6) * (amplitude / 6));
  it('is the gap between speech and the noise floor', () => {
    const clean = Int16Array.from([...noise(30, 4000), ...tone(8000, 8000), ...noise(30, 4000)]);
    const noisy = Int16Array.from([...noise(600, 4000), ...tone(8000, 8000).map((s, i) => s + noise(600, 8000)[i]!), ...noise(600, 4000)]);
    expect(lineSnrDb(clean)!).toBeGreaterThan(40);
    expect(lineSnrDb(noisy)!).toBeLessThan(25);
    expect(lineSnrDb(new Int16Array(800))).toBeNull();
    // Digital silence around the utterance (no line at all) is not the line's noise floor.
    const padded = Int16Array.from([...new Array<number>(8000).fill(0), ...noisy, ...new Array<number>(8000).fill(0)]);
    expect(lineSnrDb(padded)!).toBeLessThan(25);
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
