export { BatonError, errorCode, isRetryable, type BatonErrorOptions } from './baton-error.js';
export { InvalidArgumentError } from './invalid-argument-error.js';
export {
  ProviderError,
  RateLimitError,
  ProviderOverloadedError,
  ProviderServerError,
  AuthenticationError,
  InvalidRequestError,
  ProviderConnectionError,
  StreamInterruptedError,
  isRetryableStatus,
  type ProviderErrorInit,
} from './provider-errors.js';
export {
  TimeoutError,
  AbortError,
  CircuitOpenError,
  IdempotencyConflictError,
  AllProvidersFailedError,
  OutputValidationError,
} from './engine-errors.js';
export {
  BudgetExceededError,
  MaxTurnsExceededError,
  ToolNotFoundError,
  ToolArgumentsError,
  ToolExecutionError,
  ToolRepairLimitError,
  type BudgetKind,
} from './agent-errors.js';
