import type { ActionRecord, JournalEntry, LedgerEvent, RuntimeEvent } from '@baton/agent-runtime';
import type { TimelineItem, TimelineKind, TimelineStatus } from '../shared/inspection.js';
import { count, oneLine, usd } from './format.js';

/** Everything recorded about one job, as the stores hold it. */
export interface JobRecords {
  readonly createdAt: number;
  /** The job's events in seq order. */
  readonly events: readonly RuntimeEvent[];
  readonly journal: readonly JournalEntry[];
  /** The job's ledger entries in the order they were written. */
  readonly ledger: readonly LedgerEvent[];
  readonly actions: readonly ActionRecord[];
  /** What an interrupted job had said of the answer in flight. */
  readonly partialText?: string | undefined;
}

interface OpenItem {
  kind: TimelineKind;
  actionId?: string;
  at: number;
  title: string;
  facts: Array<readonly [string, string]>;
}

/**
 * The job's timeline: its status changes, each model call (duration, tokens, cost, streamed
 * chunks), each tool call (arguments, result), each wait for a person (how long, the answer and
 * its comment), policy decisions and interruptions, in the order they happened. Model calls are
 * priced from the ledger's settlements, which the kernel writes one per finished call, in order.
 */
export function buildTimeline(records: JobRecords): TimelineItem[] {
  const items: TimelineItem[] = [];
  // Events name a step by `<jobId>:<stepId>` (its logical position), the journal by seq.
  const journalByKey = new Map(records.journal.map((s) => [`${s.jobId}:${s.stepId ?? s.seq}`, s]));
  const toolArguments = toolArgumentsById(records.journal);
  const settlements = records.ledger.filter((e) => e.kind === 'settlement' || e.kind === 'model_usage');
  const actions = new Map(records.actions.map((a) => [a.id, a]));
  const open = new Map<string, OpenItem>();
  const deltas = new Map<string, number>();
  let modelCalls = 0;

  const push = (item: Omit<TimelineItem, 'offsetMs'> & { at: number }): void => {
    items.push({ ...item, offsetMs: Math.max(0, item.at - records.createdAt) });
  };
  const close = (key: string, at: number, status: TimelineStatus, more: Array<readonly [string, string]> = [], durationMs?: number): void => {
    const started = open.get(key);
    if (!started) return;
    open.delete(key);
    push({ kind: started.kind, at: started.at, title: started.title, status, durationMs: durationMs ?? at - started.at, facts: [...started.facts, ...more] });
  };

  for (const e of records.events) {
    switch (e.type) {
      case 'job.created':
        push({ kind: 'job', at: e.at, title: 'Job created', status: 'info', facts: [['by', e.data.principalId]] });
        break;
      case 'job.started':
        push({ kind: 'job', at: e.at, title: `Started (attempt ${e.data.attempt})`, status: 'info', facts: reason(e.data.reason) });
        break;
      case 'job.waiting':
        push({ kind: 'job', at: e.at, title: 'Waiting for a person', status: 'waiting', facts: [] });
        break;
      case 'job.resumed':
        push({ kind: 'job', at: e.at, title: 'Resumed', status: 'info', facts: reason(e.data.reason) });
        break;
      case 'job.completed':
        push({ kind: 'job', at: e.at, title: 'Completed', status: 'ok', facts: [] });
        break;
      case 'job.failed':
        push({ kind: 'job', at: e.at, title: 'Failed', status: 'failed', facts: [['error', `${e.data.error.code ?? 'error'}: ${e.data.error.message}`]] });
        break;
      case 'job.cancelled':
        push({ kind: 'job', at: e.at, title: 'Cancelled', status: 'failed', facts: reason(e.data.reason) });
        break;
      case 'job.interrupted':
        push({ kind: 'job', at: e.at, title: 'Interrupted', status: 'interrupted', facts: [...reason(e.data.reason), ...(e.data.byJobId ? [['by job', e.data.byJobId] as const] : [])] });
        break;
      case 'model.started':
        open.set(`model:${e.data.stepKey}`, { kind: 'model', at: e.at, title: `Model call ${e.data.model}`, facts: [['step', stepOf(e.data.stepKey, e.jobId)]] });
        break;
      case 'model.delta':
        deltas.set(e.data.stepKey ?? '', (deltas.get(e.data.stepKey ?? '') ?? 0) + 1);
        break;
      case 'model.completed': {
        const key = e.data.stepKey ?? '';
        const u = e.data.usage;
        const settled = settlements[modelCalls++];
        const step = journalByKey.get(key);
        const text = textOf(step?.output);
        close(`model:${key}`, e.at, 'ok', [
          ['tokens', `${count(u?.inputTokens ?? 0)} in · ${count(u?.outputTokens ?? 0)} out`],
          ['cost', settled ? usd(settled.costNanoUsd) : 'not billed'],
          ['streamed', `${count(deltas.get(key) ?? 0)} chunks, finish: ${e.data.finishReason ?? 'unknown'}`],
          ...(text ? [['said', oneLine(text, 160)] as const] : []),
        ], step?.durationMs ?? e.data.durationMs);
        break;
      }
      case 'model.failed': {
        const key = e.data.stepKey ?? '';
        const aborted = e.data.error.code === 'aborted';
        const partial = aborted && records.partialText !== undefined ? [['partial text', `${count(records.partialText.length)} characters, kept for the next job`] as const] : [];
        close(`model:${key}`, e.at, aborted ? 'interrupted' : 'failed', [['streamed', `${count(deltas.get(key) ?? 0)} chunks`], ...partial, ['cost', 'not billed (reservation released)'], ...(aborted ? [] : [['error', e.data.error.message] as const])]);
        break;
      }
      case 'tool.started': {
        const args = e.data.toolCallId ? toolArguments.get(e.data.toolCallId) : undefined;
        open.set(`tool:${e.data.stepKey}`, { kind: 'tool', at: e.at, title: `Tool ${e.data.toolName}`, facts: [['step', stepOf(e.data.stepKey, e.jobId)], ['arguments', args ?? '(unknown)']] });
        break;
      }
      case 'tool.completed': {
        const output = journalByKey.get(e.data.stepKey ?? '')?.output as { content?: unknown } | undefined;
        close(`tool:${e.data.stepKey}`, e.at, 'ok', output?.content !== undefined ? [['result', oneLine(output.content)]] : [], e.data.durationMs);
        break;
      }
      case 'tool.failed':
        close(`tool:${e.data.stepKey}`, e.at, 'failed', [['error', e.data.error.message]]);
        break;
      case 'action.required': {
        const action = actions.get(e.data.actionId);
        const payload = action?.payload as { arguments?: unknown } | undefined;
        open.set(`action:${e.data.actionId}`, {
          kind: 'action',
          actionId: e.data.actionId,
          at: e.at,
          title: action?.title ?? String(e.data.details?.['title'] ?? 'Action required'),
          facts: [['action', e.data.actionId], ...(payload?.arguments !== undefined ? [['arguments', oneLine(payload.arguments)] as const] : [])],
        });
        break;
      }
      case 'action.resolved': {
        const action = actions.get(e.data.actionId);
        const r = (action?.resolution ?? {}) as { approved?: unknown; comment?: unknown };
        const approved = r.approved === true;
        const comment = typeof r.comment === 'string' && r.comment !== '' ? r.comment : action?.approvals.find((a) => a.comment)?.comment;
        close(`action:${e.data.actionId}`, e.at, approved ? 'ok' : 'rejected', [
          ['answer', approved ? 'approved' : 'rejected'],
          ['by', e.data.resolvedBy ?? action?.resolvedBy ?? 'unknown'],
          ...(comment ? [['comment', comment] as const] : []),
        ]);
        break;
      }
      case 'action.expired':
        close(`action:${e.data.actionId}`, e.at, 'failed', [['answer', `expired (${e.data.outcome ?? 'no answer'})`]]);
        break;
      case 'policy.decision':
        push({ kind: 'policy', at: e.at, title: `Policy: ${e.data.subject} ${e.data.name} → ${e.data.decision.replace('_', ' ')}`, status: 'info', facts: [...(e.data.rule ? [['rule', e.data.rule] as const] : []), ...reason(e.data.reason)] });
        break;
      case 'interruption.requested':
        push({ kind: 'interruption', at: e.at, title: 'A newer message interrupts this job', status: 'interrupted', facts: [['strategy', e.data.strategy], ...(e.data.byJobId ? [['by job', e.data.byJobId] as const] : [])] });
        break;
      case 'interruption.completed':
        push({ kind: 'interruption', at: e.at, title: 'Interruption completed', status: 'interrupted', facts: [['kept steps', String(e.data.keptSteps ?? 0)], ...(e.data.nextJobId ? [['context passed to', e.data.nextJobId] as const] : [])] });
        break;
      default:
        // Step, checkpoint, budget and queue events are shown through the steps and the spend.
        break;
    }
  }
  // Calls and waits still in flight, and actions that ended without an answer (cancelled when
  // their job was interrupted or cancelled: no event says so, the action record does).
  for (const [key, item] of open) {
    open.delete(key);
    const action = item.actionId ? actions.get(item.actionId) : undefined;
    if (action && action.status !== 'pending') {
      const ended = action.resolvedAt ?? records.events.at(-1)?.at ?? item.at;
      push({ kind: 'action', at: item.at, title: item.title, status: action.status === 'cancelled' ? 'interrupted' : 'failed', durationMs: ended - item.at, facts: [...item.facts, ['answer', `none: ${action.status}`]] });
      continue;
    }
    push({ kind: item.kind, at: item.at, title: item.title, status: 'waiting', facts: [...item.facts, ['state', item.kind === 'action' ? 'waiting for an answer' : 'in progress']] });
  }
  return items.sort((a, b) => a.at - b.at);
}

/** Tool call id → its arguments, from the model steps that asked for them. */
function toolArgumentsById(journal: readonly JournalEntry[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const step of journal) {
    if (step.kind !== 'model') continue;
    const calls = (step.output as { toolCalls?: Array<{ id?: unknown; arguments?: unknown }> } | undefined)?.toolCalls ?? [];
    for (const call of calls) if (typeof call.id === 'string') out.set(call.id, oneLine(call.arguments));
  }
  return out;
}

function textOf(output: unknown): string | undefined {
  const text = (output as { text?: unknown } | undefined)?.text;
  return typeof text === 'string' && text !== '' ? text : undefined;
}

function stepOf(stepKey: string | undefined, jobId: string): string {
  return stepKey?.startsWith(`${jobId}:`) ? stepKey.slice(jobId.length + 1) : (stepKey ?? '?');
}

function reason(text: string | undefined): Array<readonly [string, string]> {
  return text ? [['reason', text]] : [];
}
