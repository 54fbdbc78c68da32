import { describe, expect, it } from 'vitest';
import { classifyHeard, classifyInterjection, withBackchannels, type Interjection } from '../../../src/dialog/turn-taking/backchannel.js';
import { isYesNoQuestion } from '../../../src/dialog/agent-voice.js';
import { combinedCompleteness, PauseJudge } from '../../../src/dialog/turn-taking/pause-judge.js';
import { loadAgentConfig } from '../../../src/config/load-agent-config.js';
import { expectationForStep, judgeCompleteness, type Completeness, type Expectation } from '../../../src/dialog/turn-taking/completeness.js';

const ctx = {
  isRequest: (t: string) => /\b(book|cancel|reschedule|hours|address)\b/.test(t),
  isName: (t: string) => /\b(riley|jordan|maple)\b/.test(t),
};

describe('completeness at the caller pause', () => {
  it.each<[string, Expectation, Completeness]>([
    // Whole answers for the step.
    ['yes', 'yes-no', 'complete'],
    ['no', 'yes-no', 'complete'],
    ['yeah that is right', 'yes-no', 'complete'],
    ['five five five one two three four five six seven', 'phone', 'complete'],
    ['my number is 555 123 4567', 'phone', 'complete'],
    ['five five five one two three four', 'phone', 'complete'],
    ['next tuesday', 'date', 'complete'],
    ['tomorrow at three p m', 'date', 'complete'],
    ['the fourth of march', 'date', 'complete'],
    ['ten thirty', 'time', 'complete'],
    ['at two p m', 'time', 'complete'],
    ['noon', 'time', 'complete'],
    ['half past two', 'time', 'complete'],
    ['riley', 'name', 'complete'],
    ['book an appointment', 'request', 'complete'],
    ['i would like to book an appointment please', 'request', 'complete'],
    ['the second one', 'choice', 'complete'],
    ['the time', 'field', 'complete'],
    ['What are your opening hours?', 'open', 'complete'],
    ['yes', 'phone-or-yes-no', 'complete'],
    ['yes it is', 'yes-no', 'complete'],
    ['no i can', 'yes-no', 'complete'],
    ['cancel it', 'request', 'complete'],
    ['can you call me', 'open', 'unknown'],
    // Half sentences: wait for the rest.
    ['i would like to', 'request', 'incomplete'],
    ['i want', 'open', 'incomplete'],
    ['my number is five five five', 'phone', 'incomplete'],
    ['five five five one two', 'phone-or-yes-no', 'incomplete'],
    ['my number is', 'phone', 'incomplete'],
    ['tuesday and', 'date', 'incomplete'],
    ['um', 'date', 'incomplete'],
    ['my name is', 'name', 'incomplete'],
    ['quarter past', 'time', 'incomplete'],
    ['can i book an appointment for', 'request', 'incomplete'],
    ['can i', 'request', 'incomplete'],
    ['could i', 'request', 'incomplete'],
    ['it is five five five one', 'open', 'incomplete'],
    ['I would like to book an appointment and', 'open', 'incomplete'],
    ['yes and', 'yes-no', 'incomplete'],
    ['the booking is under', 'open', 'incomplete'],
    ['I would', 'open', 'incomplete'],
    // Not sure either way: the normal wait.
    ['', 'request', 'unknown'],
    ['at ten', 'time', 'unknown'],
    ['ten', 'time', 'unknown'],
    ['something else entirely', 'request', 'unknown'],
    ['I need help with something', 'open', 'unknown'],
    ['bob', 'name', 'unknown'],
    ['five five five one two three four five six seven eight nine', 'phone', 'unknown'],
  ])('%j expecting %s → %s', (text, expectation, verdict) => {
    expect(judgeCompleteness(text, expectation, ctx)).toBe(verdict);
  });

  it.each<[string | undefined, Expectation]>([
    ['menu', 'request'],
    ['phone', 'phone'],
    ['confirm', 'yes-no'],
    ['time', 'time'],
    [undefined, 'open'],
    ['some-new-step', 'open'],
  ])('step %s expects %s', (step, expectation) => {
    expect(expectationForStep(step)).toBe(expectation);
  });
});

describe('completeness from both offline passes', () => {
  const judge = (t: string) => judgeCompleteness(t, 'request', ctx);
  it.each<[string, string | null, Completeness]>([
    ['book an appointment', 'book an appointment', 'complete'],
    ['book an appointment', null, 'complete'],
    ['book an appointment', '', 'complete'],
    ['cancel my appointment', 'can sell my appointment', 'complete'], // the same ending: agreed
    ['i would like to', 'i would like to', 'incomplete'],
    ['cancel', 'can i', 'incomplete'], // unfinished in either pass
    ['can i', 'kenya', 'incomplete'],
    // A forced grammar answer the open pass does not back: the normal wait.
    ['i would like to cancel', 'i would like tenth', 'unknown'],
    ['cancel my appointment', 'council', 'unknown'],
    ['something', 'book an appointment', 'unknown'], // the chosen pass decides a whole answer
  ])('%j with the other pass %j → %s', (text, other, verdict) => {
    expect(combinedCompleteness(text, other, judge)).toBe(verdict);
  });

  it('the judge waits the normal time, not the short one, for an answer only one pass heard whole', () => {
    const pause = new PauseJudge(loadAgentConfig('config/agent.yaml'));
    pause.listen('menu');
    pause.heard('i would like open', 'i would like tenth');
    expect(pause.verdict()).toMatchObject({ completeness: 'unknown' });
    pause.heard('can i', 'can i');
    expect(pause.verdict()).toMatchObject({ completeness: 'incomplete' });
    expect(pause.silenceFor('incomplete')).toBe(1200);
  });
});

describe('interjections over the agent', () => {
  it.each<[string, Interjection]>([
    ['', 'none'],
    ['  ', 'none'],
    ['[noise]', 'none'],
    ['okay', 'backchannel'],
    ['Uh-huh.', 'backchannel'],
    ['uh huh', 'backchannel'],
    ['mm hmm', 'backchannel'],
    ['Right, right.', 'backchannel'],
    ['yeah okay', 'backchannel'],
    ['oh okay i see', 'backchannel'],
    ['um', 'backchannel'],
    ['no', 'barge-in'],
    ['wait', 'barge-in'],
    ['yeah but what about friday', 'barge-in'],
    ['what are your hours', 'barge-in'],
    ['cancel my appointment', 'barge-in'],
    ['okay stop', 'barge-in'],
    ['no no no', 'barge-in'],
  ])('%j → %s', (text, kind) => {
    expect(classifyInterjection(text)).toBe(kind);
  });

  it('takes a configured list of listener sounds', () => {
    expect(classifyInterjection('bien', ['bien', 'vale'])).toBe('backchannel');
    expect(classifyInterjection('okay', ['bien'])).toBe('barge-in');
  });
});

describe('listener sounds in a step grammar', () => {
  const jsgf = '#JSGF V1.0;\n\ngrammar flow;\n\npublic <utterance> = <yes> | <no>;\n<yes> = yes;\n<no> = no;\n';
  it('adds them as one more alternative of the public rule', () => {
    const out = withBackchannels(jsgf, ['okay', 'uh huh', 'Mm-hmm', 'right']);
    expect(out).toContain('public <utterance> = (<yes> | <no>) | <listener_sound> | <unfinished> | <interruption>;');
    expect(out).toMatch(/<interruption> = \(wait \| no \|/);
    expect(out).toMatch(/<unfinished> = \(i would like to \|/);
    expect(out).toContain('<listener_sound> = (okay | uh huh | right);');
    expect(out).toContain('<yes> = yes;');
  });
  it('is idempotent and leaves other text alone', () => {
    const once = withBackchannels(jsgf);
    expect(withBackchannels(once)).toBe(once);
    expect(withBackchannels('not a grammar')).toBe('not a grammar');
  });
});

describe('a listener sound over a yes/no question answers it', () => {
  it.each<[string, boolean]>([
    ['Shall I book Tuesday at ten thirty for Riley?', true],
    ['Is that right?', true],
    ['Your number is 555 0100, is that correct?', true],
    ['Tuesday at ten, okay?', true],
    ['Did you want the morning?', true],
    ['What day would you like?', false],
    ['Which booking should I cancel?', false],
    ['You are booked for Tuesday.', false],
    ['How can I help?', false],
  ])('%j is a yes/no question: %s', (sentence, yes) => {
    expect(isYesNoQuestion(sentence)).toBe(yes);
  });

  const judge = new PauseJudge(loadAgentConfig('config/agent.yaml'));
  it.each<[string, boolean, Interjection]>([
    ['yes', true, 'barge-in'],
    ['yeah', true, 'barge-in'],
    ['okay', true, 'barge-in'],
    ['uh huh', false, 'backchannel'],
    ['yeah', false, 'backchannel'],
    ['mm hmm', true, 'backchannel'],
    ['', true, 'none'],
    ['wait', false, 'barge-in'],
  ])('%j over a yes/no question (%s) → %s', (text, overQuestion, kind) => {
    expect(judge.interjection(text, overQuestion)).toBe(kind);
  });

  it.each<[string, string, boolean, Interjection]>([
    ['that', 'yeah', true, 'barge-in'], // the other pass heard the answer
    ['yeah', 'that', true, 'barge-in'],
    ['that', 'yeah', false, 'backchannel'],
    ['mm hmm', 'um', true, 'backchannel'],
  ])('%j (other pass %j) over a yes/no question (%s) → %s', (text, other, overQuestion, kind) => {
    expect(judge.interjection(text, overQuestion, other)).toBe(kind);
  });
});

describe('an utterance over the agent as two recognition passes heard it', () => {
  it.each<[string[], Interjection]>([
    [['mm hmm', 'i am home'], 'backchannel'],
    [['open eight', 'uh huh'], 'backchannel'],
    [['cancel', ''], 'none'],
    [['oh', 'no'], 'barge-in'], // a floor-taking word in either pass wins
    [['open one', 'no'], 'barge-in'], // a floor-taking word in any pass
    [['wait', 'okay'], 'barge-in'],
    [['cancel my appointment', 'can sell my appointment'], 'barge-in'],
    [['okay', 'okay'], 'backchannel'],
    [[], 'none'],
    // Passes that share no word heard a sound, not words (a hummed "mm hmm", tuning voice rms).
    [['um um agent um', 'open monday two monday'], 'none'],
    [['a blood', 'provide'], 'none'],
    [['um', 'uh'], 'backchannel'],
    // Shared words are words: an interruption.
    [['cancel my appointment', 'council my appointment'], 'barge-in'],
    [['book an appointment', 'book a appointment please'], 'barge-in'],
    [['speak to an agent', 'agent'], 'barge-in'],
  ])('%j → %s', (texts, kind) => {
    expect(classifyHeard(texts)).toBe(kind);
  });
});
