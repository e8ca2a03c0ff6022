import { randomUUID } from 'node:crypto';

export interface RequestContextInit {
  requestId?: string;
  traceId?: string;
  parentRequestId?: string;
  tenantId?: string;
  userId?: string;
  sessionId?: string;
  jobId?: string;
  /** Free-form attributes carried to hooks and providers (never secrets). */
  attributes?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * Who and what a call is for. Immutable: `child()` and `withJob()` return new contexts that
 * keep the trace and tenant. Passed to hooks, middleware and providers.
 */
export class RequestContext {
  readonly requestId: string;
  readonly traceId: string;
  readonly parentRequestId: string | undefined;
  readonly tenantId: string | undefined;
  readonly userId: string | undefined;
  readonly sessionId: string | undefined;
  readonly jobId: string | undefined;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;

  constructor(init: RequestContextInit = {}) {
    this.requestId = init.requestId ?? randomUUID();
    this.traceId = init.traceId ?? randomTraceId();
    this.parentRequestId = init.parentRequestId;
    this.tenantId = init.tenantId;
    this.userId = init.userId;
    this.sessionId = init.sessionId;
    this.jobId = init.jobId;
    this.attributes = Object.freeze({ ...(init.attributes ?? {}) });
  }

  static create(init: RequestContextInit = {}): RequestContext {
    return new RequestContext(init);
  }

  /** A new request in the same trace, with this one as parent. */
  child(overrides: Omit<RequestContextInit, 'traceId' | 'parentRequestId'> = {}): RequestContext {
    return new RequestContext({
      ...this.toJSON(),
      ...overrides,
      requestId: overrides.requestId ?? randomUUID(),
      traceId: this.traceId,
      parentRequestId: this.requestId,
      attributes: { ...this.attributes, ...(overrides.attributes ?? {}) },
    });
  }

  withJob(jobId: string): RequestContext {
    return this.child({ jobId });
  }

  toJSON(): RequestContextInit {
    const out: RequestContextInit = { requestId: this.requestId, traceId: this.traceId };
    if (this.parentRequestId !== undefined) out.parentRequestId = this.parentRequestId;
    if (this.tenantId !== undefined) out.tenantId = this.tenantId;
    if (this.userId !== undefined) out.userId = this.userId;
    if (this.sessionId !== undefined) out.sessionId = this.sessionId;
    if (this.jobId !== undefined) out.jobId = this.jobId;
    if (Object.keys(this.attributes).length > 0) out.attributes = this.attributes;
    return out;
  }
}

/** 32 hex characters, as in W3C trace context. */
export function randomTraceId(): string {
  return randomUUID().replaceAll('-', '');
}
