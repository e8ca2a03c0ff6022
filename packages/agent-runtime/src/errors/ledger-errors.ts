import { BatonError } from '@baton/llm-client';

/** No reservation with this id in the caller's scope. */
export class ReservationNotFoundError extends BatonError {
  override readonly name = 'ReservationNotFoundError';
  readonly code = 'reservation_not_found';
  readonly reservationId: string;
  readonly scopeId: string;
  constructor(reservationId: string, scopeId: string) {
    super({ message: `Budget reservation '${reservationId}' not found in scope '${scopeId}'` });
    this.reservationId = reservationId;
    this.scopeId = scopeId;
  }
}

/** The reservation was already settled or released; settling it again would count usage twice. */
export class ReservationClosedError extends BatonError {
  override readonly name = 'ReservationClosedError';
  readonly code = 'reservation_closed';
  readonly reservationId: string;
  readonly status: string;
  constructor(reservationId: string, status: string) {
    super({ message: `Budget reservation '${reservationId}' is already ${status}` });
    this.reservationId = reservationId;
    this.status = status;
  }
}

/** A scope's daily budget does not fit a call; thrown by `Ledger.reserveOrThrow`. */
export class ScopeBudgetExceededError extends BatonError {
  override readonly name = 'ScopeBudgetExceededError';
  readonly code = 'scope_budget_exceeded';
  readonly scopeId: string;
  readonly budget: 'daily_tokens' | 'daily_cost';
  readonly reason: string;
  constructor(scopeId: string, budget: 'daily_tokens' | 'daily_cost', reason: string) {
    super({ message: `Budget of scope '${scopeId}' exceeded: ${reason}` });
    this.scopeId = scopeId;
    this.budget = budget;
    this.reason = reason;
  }
}

/** A stored ledger row does not parse (corrupt, or written by an unknown schema version). */
export class CorruptLedgerRecordError extends BatonError {
  override readonly name = 'CorruptLedgerRecordError';
  readonly code = 'corrupt_ledger_record';
  readonly recordId: string;
  readonly reason: string;
  constructor(recordId: string, reason: string, cause?: unknown) {
    super({ message: `Stored ledger record '${recordId}' is unreadable: ${reason}`, cause });
    this.recordId = recordId;
    this.reason = reason;
  }
}
