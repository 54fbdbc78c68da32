/** A tool's expected, speakable failure (slot taken, closed, not found), as opposed to a crash. */
export class ToolError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
