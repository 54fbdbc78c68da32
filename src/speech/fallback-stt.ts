/**
 * Speech-to-text with a backup: the call runs on the primary engine (a cloud recogniser) until it
 * reports a fatal error, then switches, mid-call, to the backup (the offline engine) for the rest
 * of the call. Never silence: a turn in progress is finished by the backup. One per call: the
 * switch is reported to that call's FallbackListener.
 */
import type { FallbackListener } from '../observability/fallback.js';
import type { SpeechToText, SttEvent, SttHints, SttOpenOptions, SttStream } from './stt.js';

export class FallbackStt implements SpeechToText {
  readonly name: string;

  constructor(
    private readonly primary: SpeechToText,
    private readonly backup: SpeechToText,
    private readonly onFallback: FallbackListener,
  ) {
    this.name = primary.name;
  }

  open(options: SttOpenOptions): SttStream {
    let hints: SttHints = options.hints;
    let speaking = false;
    let switched = false;
    let closed = false;
    let current: SttStream;

    const switchToBackup = (reason: string) => {
      if (switched || closed) return;
      switched = true;
      current.close();
      this.onFallback({ stage: 'stt', from: this.primary.name, to: this.backup.name, reason });
      current = this.backup.open({ ...options, hints, onEvent: options.onEvent });
      if (speaking) current.speechStarted();
    };

    const onPrimaryEvent = (event: SttEvent) => {
      if (switched || closed) return;
      if (event.type === 'error' && event.fatal) {
        const wasSpeaking = speaking;
        switchToBackup(event.error.message);
        // The utterance that was cut off: the backup only has audio from now on, so end the turn
        // rather than leave the caller waiting for a transcript that cannot come.
        if (wasSpeaking) options.onEvent({ type: 'transcript-final', text: '', confidence: 0, endOfTurn: true, sttMs: 0 });
        return;
      }
      options.onEvent(event);
    };

    try {
      current = this.primary.open({ ...options, onEvent: onPrimaryEvent });
    } catch (error) {
      switched = true;
      this.onFallback({ stage: 'stt', from: this.primary.name, to: this.backup.name, reason: (error as Error).message });
      current = this.backup.open(options);
    }

    return {
      write: (mulaw) => current.write(mulaw),
      speechStarted: () => {
        speaking = true;
        current.speechStarted();
      },
      speechPaused: () => current.speechPaused?.(),
      get decodesAtPause() {
        return current.decodesAtPause ?? false;
      },
      speechEnded: () => {
        speaking = false;
        current.speechEnded();
      },
      setHints: (next) => {
        hints = next;
        current.setHints(next);
      },
      close: () => {
        closed = true;
        current.close();
      },
    };
  }
}
