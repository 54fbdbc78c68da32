/**
 * The whisper: what the person hears before pressing 1. Who is calling, what they want, what they
 * have confirmed so far. Written by Claude when ANTHROPIC_API_KEY is set (a short, natural
 * summary), from the dialog state otherwise, and from the dialog state whenever Claude is slow or
 * fails: the person must never wait on a model.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { AgentConfig } from '../config/agent-schema.js';
import { formatDateForSpeech } from '../dialog/slots/dates.js';
import { callerIdDigits, formatDigitsForSpeech } from '../dialog/slots/digits.js';
import { formatTimeForSpeech } from '../dialog/slots/times.js';
import type { ConversationSnapshot } from '../store/transfer-store.js';

export interface Summary {
  text: string;
  source: 'claude' | 'dialog-state';
}

const TOPIC_TEXT: Record<string, string> = {
  book: 'book an appointment',
  reschedule: 'move an appointment',
  cancel: 'cancel an appointment',
  callback: 'arrange a call back',
};

/** The summary from the dialog state: deterministic, always available. */
export function stateSummary(snapshot: ConversationSnapshot, topic: string, config: AgentConfig): string {
  const record = snapshot.record;
  const digits = callerIdDigits(record.from);
  const name = record.slots.name;
  const who = `${name ? `${name}, ` : 'A caller '}${digits ? `calling from ${formatDigitsForSpeech(digits)}` : 'with a withheld number'}`;
  const wants = TOPIC_TEXT[topic] ? `wants to ${TOPIC_TEXT[topic]}` : 'asked to speak to a person';
  const confirmed = Object.entries(record.slots)
    .filter(([key]) => key !== 'name')
    .map(([key, value]) => spokenSlot(config, key, value))
    .filter((text) => text !== '');
  const lastWords = [...snapshot.history].reverse().find((t) => t.role === 'caller' && t.text.trim() !== '')?.text.trim();
  return [
    `${who}, ${wants}.`,
    confirmed.length > 0 ? `Confirmed so far: ${confirmed.join(', ')}.` : '',
    lastWords ? `They said: ${lastWords.slice(0, 160)}.` : '',
  ]
    .filter(Boolean)
    .join(' ')
    .replace(/\.\./g, '.');
}

function spokenSlot(config: AgentConfig, key: string, value: string): string {
  const label = config.slots.fields[key as keyof typeof config.slots.fields]?.label ?? key;
  if (key === 'date') return `${label} ${formatDateForSpeech(value)}`;
  if (key === 'time') return `${label} ${formatTimeForSpeech(value)}`;
  if (key === 'phone') return `${label} ${formatDigitsForSpeech(value)}`;
  if (key === 'bookingId') return '';
  return `${label} ${value}`;
}

export interface SummarizerOptions {
  config: AgentConfig;
  /** With a key, Claude writes the summary. */
  anthropic?: { apiKey: string; baseUrl?: string | undefined } | undefined;
  /** Longest wait for Claude before the dialog-state summary is used, ms. */
  timeoutMs?: number;
}

export class Summarizer {
  private readonly client: Anthropic | null;

  constructor(private readonly options: SummarizerOptions) {
    this.client = options.anthropic
      ? new Anthropic({ apiKey: options.anthropic.apiKey, baseURL: options.anthropic.baseUrl ?? 'https://api.anthropic.com', maxRetries: 0, logLevel: 'off' })
      : null;
  }

  async summarize(snapshot: ConversationSnapshot, topic: string, signal: AbortSignal): Promise<Summary> {
    const fallback: Summary = { text: stateSummary(snapshot, topic, this.options.config), source: 'dialog-state' };
    if (!this.client) return fallback;
    const timeout = AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs ?? 2500)]);
    try {
      const transcript = snapshot.history.map((t) => `${t.role === 'caller' ? 'Caller' : 'Agent'}: ${t.text}`).join('\n');
      const message = await this.client.messages
        .stream(
          {
            model: this.options.config.llm.model,
            max_tokens: 120,
            system:
              `You brief a member of staff at ${this.options.config.business.name} who is about to take a transferred phone call. ` +
              'In at most three short spoken sentences, no lists: who is calling, what they want, and the details they have confirmed. ' +
              'Say numbers as words a text-to-speech voice reads well. Only facts from the transcript.',
            messages: [{ role: 'user', content: `Facts: ${fallback.text}\n\nTranscript:\n${transcript || '(none)'}` }],
          },
          { signal: timeout },
        )
        .finalMessage();
      const text = message.content
        .flatMap((block) => (block.type === 'text' ? [block.text] : []))
        .join(' ')
        .trim();
      return text ? { text: text.slice(0, 600), source: 'claude' } : fallback;
    } catch {
      return fallback;
    }
  }
}
