import { describe, expect, it } from 'vitest';
import { RequestContext } from './request-context.js';

describe('RequestContext', () => {
  it('child keeps trace and tenant, links the parent, and gets a new request id', () => {
    const root = RequestContext.create({ tenantId: 't1', userId: 'u1', sessionId: 's1', attributes: { app: 'x' } });
    const child = root.child({ attributes: { step: 1 } });
    expect(child.traceId).toBe(root.traceId);
    expect(child.parentRequestId).toBe(root.requestId);
    expect(child.requestId).not.toBe(root.requestId);
    expect(child.tenantId).toBe('t1');
    expect(child.attributes).toEqual({ app: 'x', step: 1 });
    expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('withJob sets the job id on a child', () => {
    const ctx = RequestContext.create({ tenantId: 't' }).withJob('job-1');
    expect(ctx.jobId).toBe('job-1');
    expect(ctx.toJSON()).toMatchObject({ tenantId: 't', jobId: 'job-1' });
  });
});
