/** How a clarifying question names an intent: "Did you want {describe}?" */
import type { IntentConfig } from '../../config/dialog-schema.js';

const BY_ACTION: Record<string, string> = {
  book: 'to book an appointment',
  reschedule: 'to change the time of an appointment',
  cancel: 'to cancel an appointment',
  transfer: 'to talk to a person',
  repeat: 'me to repeat that',
  goodbye: 'to end the call',
  'start-over': 'to start over',
};
const ANSWERS_BY_ID: Record<string, string> = {
  hours: 'our opening hours',
  address: 'our address',
  services: 'to hear which services we offer',
};

export function describeIntent(intent: IntentConfig): string {
  if (intent.describe) return intent.describe;
  if (intent.action === 'answer') return ANSWERS_BY_ID[intent.id] ?? `to hear about ${intent.id.replace(/[-_]/g, ' ')}`;
  return BY_ACTION[intent.action] ?? intent.id;
}
