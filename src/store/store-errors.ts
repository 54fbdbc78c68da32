/** Faults of the store ports, independent of the adapter behind them. */

/**
 * The database did not answer (down, unreachable, statement timeout, pool exhausted). The call
 * goes on: the dialog apologises and offers a person; records are spooled.
 */
export class StoreUnavailableError extends Error {
  readonly code = 'store-unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
