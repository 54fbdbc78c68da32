/** What a tool run leaves behind: one entry in the call log per tool that actually ran. */
export interface ToolCallRecord {
  name: string;
  args: Record<string, unknown>;
  /** The tool's result, or its failure (`{ code, message }`). */
  result: unknown;
  ms: number;
  ok: boolean;
}

/** A tool's answer as the dialog sees it. */
export type ToolOutcome =
  | { ok: true; result: unknown }
  /** An expected, speakable failure (`slot-taken`, `closed`, `past`, `not-found`, …), a timeout, an abort, or a crash (`internal`). */
  | { ok: false; error: ToolFailure };

export interface ToolFailure {
  /** A ToolError code, or one of: unknown-tool, invalid-args, timeout, aborted, internal. */
  code: string;
  message: string;
}
