/**
 * How a brain runs clinic tools. The tool registry implements it (schema validation, timeouts,
 * ToolError → `{ ok: false }`); tests use hand-written fakes. Kept minimal on purpose: the
 * confirm gate sits in front of it inside the brain, not behind it.
 */
import type { ClinicToolName } from '../tools/calendar-schemas.js';

export type ToolOutcome =
  | { ok: true; result: unknown }
  /** An expected, speakable failure (`slot-taken`, `closed`, `past`, `not-found`, …) or a crash (`internal`). */
  | { ok: false; error: { code: string; message: string } };

export interface ToolInvoker {
  call(name: ClinicToolName, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolOutcome>;
}
