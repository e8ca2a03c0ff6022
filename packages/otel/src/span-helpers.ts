import type { RuntimeEvent } from '@baton/agent-runtime';
import type { Attributes, Span } from '@opentelemetry/api';
import { ATTR } from './gen-ai-attributes.js';

type Ev<K extends RuntimeEvent['type']> = RuntimeEvent<K>;

/** Sets the attributes and ends the span at `at` (epoch ms); nothing for an unsampled job. */
export function endSpan(span: Span | undefined, at: number, attributes: Attributes = {}): void {
  if (!span) return;
  span.setAttributes(attributes);
  span.end(new Date(at));
}

export function providerAttributes(provider: string): Attributes {
  return { [ATTR.providerName]: provider, [ATTR.system]: provider };
}

export function reasonOf(reason: string | undefined): Attributes {
  return reason === undefined ? {} : { [ATTR.jobReason]: reason };
}

export function modelKey(event: Ev<'model.started' | 'model.delta' | 'model.completed' | 'model.failed'>): string {
  // Without a step key (a call outside a journaled step) calls of one model pair up in order.
  return `model:${event.data.stepKey ?? `~${event.data.model}`}`;
}

export function toolKey(event: Ev<'tool.started' | 'tool.completed' | 'tool.failed'>): string {
  return `tool:${event.data.stepKey ?? event.data.toolCallId ?? `~${event.data.toolName}`}`;
}

/** Decisions that become span events on the run (policy, budget, interruption). */
export function spanEventOf(event: Ev<'policy.decision' | 'budget.warning' | 'budget.exceeded' | 'interruption.requested' | 'interruption.completed'>): {
  name: string;
  attributes: Attributes;
} {
  switch (event.type) {
    case 'policy.decision':
      return {
        name: 'baton.policy.decision',
        attributes: {
          [ATTR.policySubject]: event.data.subject,
          [ATTR.policyDecision]: event.data.decision,
          'baton.policy.name': event.data.name,
          ...(event.data.rule !== undefined ? { 'baton.policy.rule': event.data.rule } : {}),
        },
      };
    case 'budget.warning':
    case 'budget.exceeded':
      return {
        name: `baton.${event.type}`,
        attributes: {
          [ATTR.budgetDimension]: event.data.dimension,
          ...(event.data.level !== undefined ? { [ATTR.budgetLevel]: event.data.level } : {}),
          'baton.budget.used': String(event.data.used),
          'baton.budget.limit': String(event.data.limit),
        },
      };
    case 'interruption.requested':
    case 'interruption.completed':
      return { name: `baton.${event.type}`, attributes: { 'baton.interruption.strategy': event.data.strategy } };
  }
}

/**
 * A Baton finish reason as the GenAI conventions spell it (`tool-calls` → `tool_call`,
 * `content-filter` → `content_filter`); others unchanged.
 */
export function finishReasonOf(reason: string): string {
  if (reason === 'tool-calls') return 'tool_call';
  if (reason === 'content-filter') return 'content_filter';
  return reason;
}
