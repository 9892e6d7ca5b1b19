/**
 * Typed failures of the origin. The HTTP layer maps each class to one status code, so a
 * caller can tell "no such thing" (404) from "not allowed in this state" (409) from
 * "bad input" (400) without parsing messages. Messages start with the offending field.
 */
export abstract class OriginError extends Error {
  abstract readonly status: 400 | 404 | 409;
  readonly field: string;

  constructor(field: string, detail: string) {
    super(`${field}: ${detail}`);
    this.field = field;
  }
}

export class OriginValidationError extends OriginError {
  override readonly name = "OriginValidationError";
  readonly status = 400;
}

export class OriginNotFoundError extends OriginError {
  override readonly name = "OriginNotFoundError";
  readonly status = 404;
}

export class OriginConflictError extends OriginError {
  override readonly name = "OriginConflictError";
  readonly status = 409;
}
