import { BatonError, InvalidArgumentError } from '@baton/llm-client';
import { InvalidRequestError } from '../errors/invalid-request-error.js';

/** The JSON body of every error response. */
export interface ErrorBody {
  error: {
    /** `BatonError.code`, stable across releases. */
    code: string;
    message: string;
    /** The first request field at fault, for 400s (`input`, `history.0.role`, `query.limit`). */
    field?: string;
    retryable?: boolean;
  };
}

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  unauthenticated: 401,
  approver_not_allowed: 403,
  job_not_found: 404,
  route_not_found: 404,
  action_not_found: 404,
  // Another scope's token, a forged one and a used one look alike: nothing to find here.
  invalid_resume_token: 404,
  action_expired: 410,
  session_busy: 409,
  action_already_resolved: 409,
  action_cancelled: 409,
  duplicate_approval: 409,
  action_conflict: 409,
  job_already_exists: 409,
  illegal_transition: 409,
  payload_too_large: 413,
  too_many_streams: 429,
  upgrade_required: 426,
  invalid_request: 400,
  invalid_json: 400,
  invalid_last_event_id: 400,
  invalid_argument: 400,
  invalid_resolution: 400,
  unknown_workflow: 400,
  unknown_action_type: 400,
};

/** The HTTP status and JSON body for an error; `onUnexpected` hears about anything that is not a `BatonError`. */
export function errorResponse(error: unknown, onUnexpected: (error: unknown) => void): { status: number; body: ErrorBody } {
  if (!BatonError.isInstance(error)) {
    onUnexpected(error);
    return { status: 500, body: { error: { code: 'internal_error', message: 'internal error' } } };
  }
  const status = STATUS_BY_CODE[error.code] ?? 500;
  if (status === 500) onUnexpected(error);
  const body: ErrorBody = { error: { code: error.code, message: error.message } };
  const field = fieldOf(error);
  if (field !== undefined) body.error.field = field;
  if (error.retryable) body.error.retryable = true;
  return { status, body };
}

function fieldOf(error: BatonError): string | undefined {
  if (error instanceof InvalidRequestError) return error.field;
  if (error instanceof InvalidArgumentError || error.code === 'invalid_argument') {
    const argument = (error as { argument?: unknown }).argument;
    return typeof argument === 'string' ? argument.replace(/^request\.?/, '') || undefined : undefined;
  }
  if (error.code === 'invalid_resolution') return 'resolution';
  if (error.code === 'unknown_workflow') return 'workflow';
  return undefined;
}
