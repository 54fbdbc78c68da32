import { describe, expect, it } from 'vitest';
import { initialTurnState, transition, type Phase, type TurnEffect, type TurnEvent, type TurnState } from '../../src/dialog/turn-machine.js';

const state = (phase: Phase, extra: Partial<TurnState> = {}): TurnState => ({ ...initialTurnState, phase, ...extra });
const types = (effects: TurnEffect[]) => effects.map((e) => e.type);

describe('a caller who talks over the goodbye', () => {
  const goodbye = state('speaking', { pendingExit: { kind: 'hang-up', reason: 'caller-goodbye' } });
  const interrupted = (from: TurnState) => {
    const [talking] = transition(from, { type: 'barge-in-eligible', agentAudioPending: true, bargeInEnabled: true });
    const [ended] = transition(talking, { type: 'speech-end' });
    return transition(ended, { type: 'transcript', text: 'oh one more thing', confidence: 1 })[0];
  };

  it('is answered when the brain has something to say, and the conversation goes on', () => {
    const asked = interrupted(goodbye);
    expect(asked).toMatchObject({ pendingExit: null, calledOffExit: 'caller-goodbye' });
    const [next, effects] = transition({ ...asked, phase: 'speaking' }, { type: 'reply-done', outcome: 'played', silent: false });
    expect(next).toMatchObject({ phase: 'listening', calledOffExit: null });
    expect(types(effects)).toEqual(['arm-inactivity']);
  });

  it('hears the goodbye again and the call ends when the brain has nothing more to say', () => {
    const [next, effects] = transition(interrupted(goodbye), { type: 'reply-done', outcome: 'played', silent: true });
    expect(next).toMatchObject({ closing: 'caller-goodbye', calledOffExit: null });
    expect(types(effects)).toEqual(['disarm-inactivity', 'say-goodbye']);
    const [ended, last] = transition(next, { type: 'closing-done' });
    expect(ended.phase).toBe('ended');
    expect(types(last)).toEqual(['hang-up', 'finalize']);
  });

  it('a held goodbye interrupted by words, and a silent reply when nothing was called off', () => {
    const [held] = transition(goodbye, { type: 'barge-in-eligible', agentAudioPending: true, bargeInEnabled: true, resumable: true });
    const [answered] = transition(held, { type: 'transcript', text: 'wait', confidence: 1, interjection: 'barge-in' });
    expect(answered.calledOffExit).toBe('caller-goodbye');
    const [plain] = transition(state('speaking'), { type: 'reply-done', outcome: 'played', silent: true });
    expect(plain.phase).toBe('listening'); // an ordinary silent reply: listen, as before
    const transfer = state('speaking', { pendingExit: { kind: 'transfer', reason: 'caller-request' } });
    expect(interrupted(transfer)).toMatchObject({ pendingExit: { kind: 'transfer' }, calledOffExit: null });
  });
});

describe('turn machine transitions', () => {
  it.each<[string, TurnState, TurnEvent, Phase, string[]]>([
    ['start greets', state('greeting'), { type: 'start' }, 'greeting', ['run-brain']],
    ['caller speaks while listening', state('listening'), { type: 'speech-start', agentAudioPending: false }, 'caller-speaking', ['disarm-inactivity', 'stt-speech-start']],
    ['speech over agent audio is not yet a barge-in', state('speaking'), { type: 'speech-start', agentAudioPending: true }, 'speaking', ['stt-speech-start']],
    ['sustained speech over agent audio barges in', state('speaking'), { type: 'barge-in-eligible', agentAudioPending: true, bargeInEnabled: true }, 'caller-speaking', ['barge-in', 'disarm-inactivity']],
    ['barge-in during the greeting', state('greeting'), { type: 'barge-in-eligible', agentAudioPending: true, bargeInEnabled: true }, 'caller-speaking', ['barge-in', 'disarm-inactivity']],
    ['barge-in disabled by config', state('speaking'), { type: 'barge-in-eligible', agentAudioPending: true, bargeInEnabled: false }, 'speaking', []],
    ['no barge-in when nothing is playing', state('speaking'), { type: 'barge-in-eligible', agentAudioPending: false, bargeInEnabled: true }, 'speaking', []],
    ['end of speech → thinking', state('caller-speaking'), { type: 'speech-end' }, 'thinking', ['stt-speech-end']],
    ['transcript → brain turn', state('thinking'), { type: 'transcript', text: 'book', confidence: 1 }, 'thinking', ['disarm-inactivity', 'run-brain']],
    ['transcript of speech the agent talked over is dropped', state('speaking'), { type: 'transcript', text: 'uh', confidence: 1 }, 'speaking', []],
    ['reply played → listening', state('speaking'), { type: 'reply-done', outcome: 'played' }, 'listening', ['arm-inactivity']],
    ['cleared reply changes nothing', state('caller-speaking'), { type: 'reply-done', outcome: 'cleared' }, 'caller-speaking', []],
    ['reply played with a pending hang-up', state('speaking', { pendingExit: { kind: 'hang-up', reason: 'caller-goodbye' } }), { type: 'reply-done', outcome: 'played' }, 'ended', ['hang-up', 'finalize']],
    ['reply played with a pending transfer', state('speaking', { pendingExit: { kind: 'transfer', reason: 'transfer' } }), { type: 'reply-done', outcome: 'played' }, 'ended', ['transfer', 'finalize']],
    ['barge-in calls off a pending hang-up', state('speaking', { pendingExit: { kind: 'hang-up', reason: 'caller-goodbye' } }), { type: 'barge-in-eligible', agentAudioPending: true, bargeInEnabled: true }, 'caller-speaking', ['barge-in', 'disarm-inactivity']],
    ['key press over agent audio clears it', state('speaking'), { type: 'dtmf', digits: '1', agentAudioPending: true }, 'thinking', ['barge-in', 'disarm-inactivity', 'run-brain']],
    ['key press while listening', state('listening'), { type: 'dtmf', digits: '1', agentAudioPending: false }, 'thinking', ['disarm-inactivity', 'run-brain']],
    ['inactivity reprompts', state('listening'), { type: 'inactivity', maxReprompts: 2 }, 'thinking', ['run-brain']],
    ['inactivity after the last reprompt says goodbye', state('listening', { inactivityCount: 2 }), { type: 'inactivity', maxReprompts: 2 }, 'listening', ['say-goodbye']],
    ['inactivity is ignored unless listening', state('speaking'), { type: 'inactivity', maxReprompts: 2 }, 'speaking', []],
    ['max duration', state('listening'), { type: 'max-duration' }, 'listening', ['disarm-inactivity', 'say-goodbye']],
    ['ops hang-up says goodbye first', state('speaking'), { type: 'remote-exit', reason: 'ops-hangup' }, 'speaking', ['disarm-inactivity', 'say-goodbye']],
    ['ops hang-up while already closing changes nothing', state('speaking', { closing: 'max-duration' }), { type: 'remote-exit', reason: 'ops-hangup' }, 'speaking', []],
    ['ops hand-off runs the brain', state('listening'), { type: 'remote-handoff' }, 'thinking', ['disarm-inactivity', 'run-brain']],
    ['ops hand-off while closing changes nothing', state('speaking', { closing: 'max-duration' }), { type: 'remote-handoff' }, 'speaking', []],
    ['ops hand-off with a transfer already pending changes nothing', state('speaking', { pendingExit: { kind: 'transfer', reason: 'caller-request' } }), { type: 'remote-handoff' }, 'speaking', []],
    ['closing line done hangs up', state('listening', { closing: 'inactivity' }), { type: 'closing-done' }, 'ended', ['hang-up', 'finalize']],
    ['brain failure apologises and ends', state('thinking'), { type: 'brain-failed' }, 'thinking', ['disarm-inactivity', 'say-goodbye']],
    ['stop finalizes', state('speaking'), { type: 'stop', reason: 'caller-hangup' }, 'ended', ['disarm-inactivity', 'disarm-resume-window', 'finalize']],
    ['nothing happens after the end', state('ended'), { type: 'start' }, 'ended', []],
  ])('%s', (_name, from, event, phase, effects) => {
    const [next, out] = transition(from, event);
    expect(next.phase).toBe(phase);
    expect(types(out)).toEqual(effects);
  });

  it('a transfer survives the caller talking over the hold line: they are put through once heard', () => {
    const holdLine = state('speaking', { pendingExit: { kind: 'transfer', reason: 'caller-request' } });
    const [talkedOver] = transition(holdLine, { type: 'barge-in-eligible', agentAudioPending: true, bargeInEnabled: true });
    expect(talkedOver.pendingExit).toEqual({ kind: 'transfer', reason: 'caller-request' });
    const [keyed] = transition(holdLine, { type: 'dtmf', digits: '1', agentAudioPending: true });
    expect(keyed.pendingExit?.kind).toBe('transfer');
    const [heard] = transition(talkedOver, { type: 'speech-end' });
    const [answered] = transition(heard, { type: 'transcript', text: 'okay thanks', confidence: 1 });
    expect(types(transition(answered, { type: 'reply-done', outcome: 'played' })[1])).toEqual(['transfer', 'finalize']);
  });

  it('an empty transcript is a no-match for the brain', () => {
    const [, effects] = transition(state('thinking'), { type: 'transcript', text: '  ', confidence: 0 });
    expect(effects).toContainEqual({ type: 'run-brain', input: { type: 'no-match' } });
  });

  it('end reasons follow the closing cause', () => {
    const [closing] = transition(state('listening', { inactivityCount: 2 }), { type: 'inactivity', maxReprompts: 2 });
    const [, effects] = transition(closing, { type: 'closing-done' });
    expect(effects).toEqual([{ type: 'hang-up', reason: 'inactivity' }, { type: 'finalize', reason: 'inactivity' }]);
  });

  it('an ops hang-up ends with its own reason', () => {
    const [closing] = transition(state('listening'), { type: 'remote-exit', reason: 'ops-transfer' });
    expect(transition(closing, { type: 'closing-done' })[1]).toEqual([{ type: 'hang-up', reason: 'ops-transfer' }, { type: 'finalize', reason: 'ops-transfer' }]);
  });

  it('while closing, caller speech and keys are ignored', () => {
    const closing = state('speaking', { closing: 'max-duration' });
    expect(transition(closing, { type: 'barge-in-eligible', agentAudioPending: true, bargeInEnabled: true })[1]).toEqual([]);
    expect(transition(closing, { type: 'dtmf', digits: '1', agentAudioPending: true })[1]).toEqual([]);
  });
});

describe('held replies: false interruptions and backchannels resume', () => {
  const held = (phase: Phase, extra: Partial<TurnState> = {}) => state(phase, { suspended: true, ...extra });
  it.each<[string, TurnState, TurnEvent, Phase, string[], boolean]>([
    ['sustained speech holds a resumable reply', state('speaking'), { type: 'barge-in-eligible', agentAudioPending: true, bargeInEnabled: true, resumable: true }, 'caller-speaking', ['suspend-reply', 'disarm-inactivity', 'arm-resume-window'], true],
    ['no words resume the reply', held('thinking'), { type: 'transcript', text: '', confidence: 0, interjection: 'none' }, 'speaking', ['disarm-resume-window', 'resume-reply'], false],
    ['a backchannel resumes the reply', held('thinking'), { type: 'transcript', text: 'uh huh', confidence: 1, interjection: 'backchannel' }, 'speaking', ['disarm-resume-window', 'resume-reply'], false],
    ['real words interrupt and are answered', held('thinking'), { type: 'transcript', text: 'wait', confidence: 1, interjection: 'barge-in' }, 'thinking', ['disarm-resume-window', 'barge-in', 'disarm-inactivity', 'run-brain'], false],
    ['a transcript without a verdict: empty is no words', held('thinking'), { type: 'transcript', text: ' ', confidence: 0 }, 'speaking', ['disarm-resume-window', 'resume-reply'], false],
    ['window ends while the caller still talks: interruption', held('caller-speaking'), { type: 'resume-window' }, 'caller-speaking', ['barge-in'], false],
    ['window ends with nothing recognised: resume', held('thinking'), { type: 'resume-window' }, 'speaking', ['resume-reply'], false],
    ['window after the decision changes nothing', state('speaking'), { type: 'resume-window' }, 'speaking', [], false],
    ['a key over a held reply interrupts it', held('caller-speaking'), { type: 'dtmf', digits: '1', agentAudioPending: false }, 'thinking', ['barge-in', 'disarm-resume-window', 'disarm-inactivity', 'run-brain'], false],
    ['a held reply does not report played', held('thinking'), { type: 'reply-done', outcome: 'played' }, 'thinking', [], true],
    ['speech again over a held reply is the caller speaking', held('thinking'), { type: 'speech-start', agentAudioPending: false }, 'caller-speaking', ['disarm-inactivity', 'stt-speech-start'], true],
    ['speech longer than a listener sound over a held reply interrupts it', held('caller-speaking'), { type: 'speech-long' }, 'caller-speaking', ['disarm-resume-window', 'barge-in'], false],
    ['long speech when nothing is held changes nothing', state('caller-speaking'), { type: 'speech-long' }, 'caller-speaking', [], false],
    ['stop disarms the window', held('caller-speaking'), { type: 'stop', reason: 'caller-hangup' }, 'ended', ['disarm-inactivity', 'disarm-resume-window', 'finalize'], false],
  ])('%s', (_name, from, event, phase, effects, suspended) => {
    const [next, out] = transition(from, event);
    expect(next.phase).toBe(phase);
    expect(types(out)).toEqual(effects);
    expect(next.suspended).toBe(suspended);
  });

  it('records why it resumed', () => {
    expect(transition(held('thinking'), { type: 'transcript', text: '', confidence: 0, interjection: 'none' })[1]).toContainEqual({ type: 'resume-reply', cause: 'no-words' });
    expect(transition(held('thinking'), { type: 'transcript', text: 'okay', confidence: 1, interjection: 'backchannel' })[1]).toContainEqual({ type: 'resume-reply', cause: 'backchannel' });
    expect(transition(held('thinking'), { type: 'resume-window' })[1]).toContainEqual({ type: 'resume-reply', cause: 'timeout' });
  });

  it('the real interruption answers the caller words', () => {
    const [, effects] = transition(held('thinking'), { type: 'transcript', text: 'what about friday', confidence: 0.9, interjection: 'barge-in' });
    expect(effects).toContainEqual({ type: 'run-brain', input: { type: 'speech', text: 'what about friday', confidence: 0.9 } });
  });

  it('keeps a pending hang-up through a resume, drops it on a real interruption', () => {
    const exit = { kind: 'hang-up' as const, reason: 'caller-goodbye' };
    expect(transition(held('thinking', { pendingExit: exit }), { type: 'transcript', text: 'okay', confidence: 1, interjection: 'backchannel' })[0].pendingExit).toEqual(exit);
    expect(transition(held('thinking', { pendingExit: exit }), { type: 'transcript', text: 'wait', confidence: 1, interjection: 'barge-in' })[0].pendingExit).toBeNull();
  });

  it('the reply text starting does not make a held reply speak', () => {
    expect(transition(held('thinking'), { type: 'reply-text' })).toEqual([held('thinking'), []]);
    expect(transition(state('thinking'), { type: 'reply-text' })).toEqual([state('speaking'), []]);
    expect(transition(state('listening'), { type: 'reply-text' })).toEqual([state('speaking'), []]);
    expect(transition(state('caller-speaking'), { type: 'reply-text' })).toEqual([state('caller-speaking'), []]);
  });
});

describe('endpointing from the words at a pause', () => {
  it.each<[string, TurnState, 'complete' | 'incomplete' | 'unknown', 'none' | 'backchannel' | 'barge-in', string | null]>([
    ['a whole answer ends the turn soon', state('caller-speaking'), 'complete', 'barge-in', 'complete'],
    ['half a sentence is waited for', state('caller-speaking'), 'incomplete', 'barge-in', 'incomplete'],
    ['unsure: the normal wait', state('caller-speaking'), 'unknown', 'barge-in', 'unknown'],
    ['a backchannel over a held reply ends fast', state('caller-speaking', { suspended: true }), 'unknown', 'backchannel', 'complete'],
    ['no words over a held reply end fast', state('caller-speaking', { suspended: true }), 'unknown', 'none', 'complete'],
    ['real words over a held reply: as usual', state('caller-speaking', { suspended: true }), 'incomplete', 'barge-in', 'incomplete'],
    ['late words after the turn ended are ignored', state('thinking'), 'complete', 'barge-in', null],
    ['ignored while closing', state('caller-speaking', { closing: 'inactivity' }), 'complete', 'barge-in', null],
  ])('%s', (_name, from, completeness, interjection, wait) => {
    const [next, effects] = transition(from, { type: 'pause-words', completeness, interjection });
    expect(next).toEqual(from);
    expect(effects).toEqual(wait ? [{ type: 'end-turn-after', completeness: wait }] : []);
  });
});
