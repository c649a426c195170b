/** Error codes the API answers with, beside the HTTP status. */
export type ErrorCode =
  'bad_request' | 'validation_failed' | 'unauthenticated' | 'forbidden' | 'not_found' | 'conflict' | 'too_many_requests' | 'unavailable' | 'internal';

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  422: 'validation_failed',
  429: 'too_many_requests',
  503: 'unavailable',
};

/** One validation problem, by field. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** The one error type of the controller: a status, a message for people and the field it concerns. */
export class AppError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly field: string | undefined;
  readonly issues: FieldIssue[] | undefined;
  /** Sent as `Retry-After` (seconds) with a 429 or 503. */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    status: number,
    message: string,
    options: { code?: ErrorCode; field?: string; issues?: FieldIssue[]; cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.status = status;
    this.code = options.code ?? CODE_BY_STATUS[status] ?? 'internal';
    this.field = options.field;
    this.issues = options.issues;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** 422 naming a field. */
export const invalid = (field: string, message: string): AppError => new AppError(422, message, { field, issues: [{ field, message }] });
/** 404 for a resource. */
export const notFound = (what: string): AppError => new AppError(404, `${what} not found`);
/** 409 naming a field. */
export const conflict = (message: string, field?: string): AppError => new AppError(409, message, field ? { field, issues: [{ field, message }] } : {});
