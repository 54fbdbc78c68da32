/**
 * The understanding test set: natural caller phrasings written for this benchmark, not taken from
 * config/agent.yaml. Every third item (index % 3 === 2) is HELD OUT: never look at its results
 * while tuning the scorer, synonyms, language model or thresholds; report it separately.
 *
 * `step` is the question the caller is answering. Expected outcomes:
 *   intent  — the caller asked for this intent (from any step)
 *   slot    — the step's answer: a date (YYYY-MM-DD, "today" is BENCH_TODAY), time (HH:MM),
 *             phone digits, a first name, or yes/no.
 */
import type { StepName } from '../../src/config/dialog-schema.js';

/** Wednesday. Dates below are relative to it. */
export const BENCH_TODAY = '2026-11-25';
export const BENCH_NOW = new Date('2026-11-25T15:00:00Z'); // 10:00 in New York

export type Expectation =
  | { intent: string }
  | { slot: 'date' | 'time' | 'phone' | 'name' | 'yesno'; value: string };

export interface TestItem {
  say: string;
  step: StepName;
  task?: 'book' | 'reschedule' | 'cancel';
  expect: Expectation;
}

const I = (say: string, intent: string, step: StepName = 'menu'): TestItem => ({ say, step, expect: { intent } });
const S = (say: string, step: StepName, slot: 'date' | 'time' | 'phone' | 'name' | 'yesno', value: string, task: TestItem['task'] = 'book'): TestItem => ({
  say,
  step,
  task,
  expect: { slot, value },
});

export const TEST_SET: readonly TestItem[] = [
  I('hi, I was hoping to get in to see the doctor sometime this week', 'book'),
  I('yeah hello, can I set up a visit please', 'book'),
  I('I need to make a booking for my son', 'book'),
  I('could you fit me in for a checkup', 'book'),
  I('I would like to come in and see someone', 'book'),
  I('do you have anything available next week for a new patient', 'book'),
  I('I have to move my appointment to another day', 'reschedule'),
  I('something came up and I need a different time', 'reschedule'),
  I('can I change the time of my visit', 'reschedule'),
  I('I would like to push my appointment back a bit', 'reschedule'),
  I('my appointment on Friday does not work anymore, can we move it', 'reschedule'),
  I('I need to cancel my appointment', 'cancel'),
  I('I will not be able to make it tomorrow, please cancel it', 'cancel'),
  I('cancel the booking I have please', 'cancel'),
  I('I want to call off my visit', 'cancel'),
  I('please drop my appointment, I do not need it anymore', 'cancel'),
  I('what time do you open in the morning', 'hours'),
  I('are you open on saturdays', 'hours'),
  I('how late are you open today', 'hours'),
  I('what are your hours this week', 'hours'),
  I('when do you close on friday', 'hours'),
  I('where exactly are you located', 'address'),
  I('what is the address of the clinic', 'address'),
  I('how do I get to you', 'address'),
  I('can you give me directions', 'address'),
  I('which street are you on', 'address'),
  I('do you do blood tests', 'services'),
  I('what kind of services do you have', 'services'),
  I('can I get a flu shot there', 'services'),
  I('what treatments do you provide', 'services'),
  I('do you offer physical therapy', 'services'),
  I('can I talk to the receptionist please', 'person'),
  I('I would rather speak with a real human', 'person'),
  I('just put me through to somebody at the front desk', 'person'),
  I('can I talk to someone', 'person'),
  I('I want to speak to a person', 'person', 'date'),
  I('sorry, could you say that one more time', 'repeat'),
  I('I did not hear that, can you repeat it', 'repeat'),
  I('what was that again', 'repeat', 'time'),
  I('sorry, can you repeat that please', 'repeat', 'phone'),
  I('let us start from the beginning', 'start-over'),
  I('I want to start over', 'start-over', 'date'),
  I('go back to the main menu', 'start-over', 'time'),
  I('can we start again please', 'start-over', 'name'),
  I('that is everything, thanks, bye', 'goodbye', 'anythingElse'),
  I('no that is all for today, goodbye', 'goodbye', 'anythingElse'),
  I('okay thank you, bye bye', 'goodbye'),
  I('I have to go now, goodbye', 'goodbye', 'date'),
  // Out of order: a request while the flow waits for a slot.
  I('actually I need to cancel my appointment', 'cancel', 'time'),
  I('wait, I want to reschedule instead', 'reschedule', 'date'),
  I('hang on, what are your opening hours', 'hours', 'name'),
  I('before that, where are you located', 'address', 'phone'),
  I('actually I would like to book an appointment too', 'book', 'anythingElse'),
  I('can you tell me what time you close', 'hours', 'anythingElse'),
  // Slots, with extra words.
  S('it is um Tuesday I think', 'date', 'date', '2026-12-01'),
  S('tomorrow would be great', 'date', 'date', '2026-11-26'),
  S('how about next Monday', 'date', 'date', '2026-11-30'),
  S('the third of December please', 'date', 'date', '2026-12-03'),
  S('maybe Friday if you have it', 'date', 'date', '2026-11-27'),
  S('December the ninth', 'date', 'date', '2026-12-09'),
  S('the day after tomorrow', 'date', 'date', '2026-11-27'),
  S('on Thursday next week', 'date', 'date', '2026-12-03'),
  S('around two in the afternoon', 'time', 'time', '14:00'),
  S('ten thirty in the morning works for me', 'time', 'time', '10:30'),
  S('let us say three p m', 'time', 'time', '15:00'),
  S('eleven o clock please', 'time', 'time', '11:00'),
  S('half past nine', 'time', 'time', '09:30'),
  S('any time at four p m', 'time', 'time', '16:00'),
  S('quarter past one', 'time', 'time', '13:15'),
  S('um how about noon', 'time', 'time', '12:00'),
  S('my number is five five five two one three four eight seven six', 'phone', 'phone', '5552134876'),
  S('it is four one five, eight two two, nine zero one three', 'phone', 'phone', '4158229013'),
  S('sure, six one seven five five five zero one nine two', 'phone', 'phone', '6175550192'),
  S('you can reach me at two zero two four five six seven eight nine one', 'phone', 'phone', '2024567891'),
  S('three one two, five five five, four four three two', 'phone', 'phone', '3125554432'),
  S('the name is Jordan', 'name', 'name', 'jordan'),
  S('it is Taylor', 'name', 'name', 'taylor'),
  S('put it under Morgan please', 'name', 'name', 'morgan'),
  S('my name is Riley', 'name', 'name', 'riley'),
  S('yes that is right', 'confirm', 'yesno', 'yes'),
  S('yeah that sounds perfect', 'confirm', 'yesno', 'yes'),
  S('no, that is not correct', 'confirm', 'yesno', 'no'),
  S('nope, that is wrong', 'confirm', 'yesno', 'no'),
  S('yes please go ahead', 'confirm', 'yesno', 'yes', 'cancel'),
  S('no, do not cancel it', 'confirm', 'yesno', 'no', 'cancel'),
  S('yes, the number I am calling from is fine', 'phoneChoice', 'yesno', 'yes'),
  S('no, use a different one', 'phoneChoice', 'yesno', 'no'),
  S('correct', 'confirm', 'yesno', 'yes'),
  S('uh yes', 'confirm', 'yesno', 'yes'),
];

export const isHeldOut = (index: number) => index % 3 === 2;
