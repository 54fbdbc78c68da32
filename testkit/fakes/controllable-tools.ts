/**
 * A clinic backend for brain tests (behind gated-tools.ts): the in-memory clinic behind per-tool delays (or a tool that never
 * answers), recording when each call started and ended so tests can see overlap without timing
 * assertions. Delays honour the AbortSignal, as the real registry's tools do.
 */
import type { ClinicToolName } from '../../src/tools/calendar-schemas.js';
import type { ToolOutcome } from '../../src/dialog/tool-invoker.js';
import type { ClinicBackend } from './gated-tools.js';
import { FakeClinicTools } from './fake-clinic-tools.js';

export interface CallLog {
  name: ClinicToolName;
  args: Record<string, unknown>;
  /** Sequence numbers: a call that started before another ended overlapped it. */
  startSeq: number;
  endSeq: number | null;
  aborted: boolean;
}

export class ControllableTools implements ClinicBackend {
  readonly clinic: FakeClinicTools;
  readonly log: CallLog[] = [];
  /** Per tool: ms to wait before answering, or 'hang' to answer only when aborted. */
  readonly delays: Partial<Record<ClinicToolName, number | 'hang'>> = {};
  private seq = 0;

  constructor(clinic = new FakeClinicTools()) {
    this.clinic = clinic;
  }

  async call(name: ClinicToolName, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolOutcome> {
    const entry: CallLog = { name, args, startSeq: ++this.seq, endSeq: null, aborted: false };
    this.log.push(entry);
    const wait = this.delays[name];
    if (wait !== undefined) {
      const ok = await new Promise<boolean>((resolve) => {
        const onAbort = () => resolve(false);
        if (signal.aborted) return resolve(false);
        signal.addEventListener('abort', onAbort, { once: true });
        if (wait !== 'hang') {
          setTimeout(() => {
            signal.removeEventListener('abort', onAbort);
            resolve(true);
          }, wait);
        }
      });
      if (!ok) {
        entry.aborted = true;
        entry.endSeq = ++this.seq;
        return { ok: false, error: { code: 'aborted', message: 'aborted' } };
      }
    }
    const outcome = await this.clinic.call(name, args, signal);
    entry.endSeq = ++this.seq;
    return outcome;
  }

  /** Calls that actually ran (reached the clinic). */
  ran(name: ClinicToolName): Record<string, unknown>[] {
    return this.clinic.calls.filter((c) => c.name === name).map((c) => c.args);
  }
}
