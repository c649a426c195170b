/**
 * A refusal in RouterOS's own words, shared by the store, the query evaluator and both transports so
 * that the API and the CLI answer one mistake alike.
 */

/** A refusal, as the API's `!trap` (with `=category=` when RouterOS gives one) or a CLI error line. */
export class RosError extends Error {
  constructor(
    message: string,
    readonly category?: number,
  ) {
    super(message);
    this.name = 'RosError';
  }
}
