/**
 * A user-facing error: bad input or an impossible request.  The CLI prints `message` on one line
 * (no stack trace) and exits with status 2.  Messages name the offending field and the allowed range,
 * e.g. `model.data.xi: must be ≥ 0 (got -1)`.
 */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UserError";
  }
}
