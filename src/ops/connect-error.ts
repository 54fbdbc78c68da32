/** Exit codes and the one-line, user-fixable failure of the ops commands. */

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A failure the user can fix: `message` is the one line we print, saying what to do. */
export class ConnectError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILED,
  ) {
    super(message);
    this.name = 'ConnectError';
  }
}
