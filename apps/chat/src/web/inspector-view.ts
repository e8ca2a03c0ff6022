import type { InspectedStep, JobInspection, Spend, TimelineItem } from '../shared/inspection.js';
import { api } from './api.js';
import { duration, el, offset, shortId } from './dom.js';

/**
 * The job inspector: a job's summary, its spend (the job's and the scope's day, from the
 * ledger), its timeline and its journaled steps. Refreshes while the job changes.
 */
export class InspectorView {
  private jobId: string | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private loading = false;
  private again = false;

  constructor(private readonly root: HTMLElement) {
    this.renderEmpty();
  }

  get current(): string | undefined {
    return this.jobId;
  }

  show(jobId: string): void {
    this.jobId = jobId;
    void this.load();
  }

  /** The job changed: reload soon (changes close together make one reload). */
  refreshSoon(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.load();
    }, 200);
  }

  private async load(): Promise<void> {
    const jobId = this.jobId;
    if (!jobId) return;
    if (this.loading) {
      this.again = true;
      return;
    }
    this.loading = true;
    try {
      const inspection = await api<JobInspection>(`/inspect/jobs/${encodeURIComponent(jobId)}`);
      if (jobId === this.jobId) this.render(inspection);
    } catch (error) {
      this.root.replaceChildren(el('h2', { text: 'Job inspector' }), el('p', { class: 'error', text: `Could not load job ${jobId}: ${(error as Error).message}` }));
    } finally {
      this.loading = false;
      if (this.again) {
        this.again = false;
        void this.load();
      }
    }
  }

  private renderEmpty(): void {
    this.root.replaceChildren(el('h2', { text: 'Job inspector' }), el('p', { class: 'hint', text: 'Choose “Inspect” on an answer to see its timeline: steps, model calls with tokens and cost, tool calls, approvals and interruptions.' }));
  }

  private render(x: JobInspection): void {
    const { job } = x;
    this.root.dataset['jobId'] = job.id;
    this.root.dataset['status'] = job.status;
    const parts: Array<HTMLElement | null> = [
      el('h2', { text: 'Job inspector' }),
      el(
        'div',
        { class: 'summary' },
        el('span', { class: `badge status-${job.status}`, text: job.status.replaceAll('_', ' ') }),
        el('code', { text: job.id }),
        el('span', { class: 'muted', text: duration(job.durationMs) }),
      ),
      el('p', { class: 'asked' }, el('span', { class: 'muted', text: 'Message: ' }), job.input),
      job.previousContext
        ? el('p', { class: 'note context-note' }, `Started by interrupting ${shortId(job.previousContext.jobId)}; its partial answer was the context: `, el('q', { text: job.previousContext.partialText }))
        : null,
      job.interrupted
        ? el('p', { class: 'note end-note' }, `Interrupted${job.interrupted.byJobId ? ` by ${shortId(job.interrupted.byJobId)}` : ''}; partial answer kept: `, el('q', { text: job.interrupted.partialText }))
        : null,
      spendSection(x.spend),
      el('section', { attrs: { 'aria-label': 'Timeline' } }, el('h3', { text: 'Timeline' }), el('ol', { class: 'timeline' }, ...x.timeline.map(timelineRow))),
      stepsSection(x.steps),
    ];
    this.root.replaceChildren(...parts.filter((p): p is HTMLElement => p !== null));
  }
}

function spendSection(spend: Spend): HTMLElement {
  const { job, scope } = spend;
  const share = scope.dailyTokens ? Math.min(1, scope.usedTokens / scope.dailyTokens) : 0;
  return el(
    'section',
    { class: 'spend', attrs: { 'aria-label': 'Spend' } },
    el('h3', { text: 'Spend (ledger)' }),
    el(
      'dl',
      {},
      el('dt', { text: 'This job' }),
      el('dd', { attrs: { 'data-testid': 'job-spend' } }, `${job.modelCalls} model call${job.modelCalls === 1 ? '' : 's'} · ${job.totalTokens} tokens (${job.inputTokens} in, ${job.outputTokens} out) · ${job.costUsd}`),
      el('dt', { text: `Your scope, ${scope.day}` }),
      el(
        'dd',
        { attrs: { 'data-testid': 'scope-spend' } },
        `${scope.usedTokens} tokens${scope.dailyTokens ? ` of ${scope.dailyTokens.toLocaleString('en-US')}` : ''} · ${scope.usedCostUsd}${scope.dailyCostUsd ? ` of ${scope.dailyCostUsd}` : ''}`,
        el('meter', { attrs: { min: 0, max: 1, value: share, 'aria-label': 'Share of the daily token budget used' } }),
      ),
    ),
  );
}

function timelineRow(item: TimelineItem): HTMLElement {
  return el(
    'li',
    { class: `tl tl-${item.kind} st-${item.status}`, attrs: { 'data-kind': item.kind } },
    el('span', { class: 'when', text: offset(item.offsetMs) }),
    el('span', { class: 'kind', text: item.kind }),
    el('span', { class: 'title', text: item.title }),
    item.durationMs !== undefined ? el('span', { class: 'took', text: duration(item.durationMs) }) : null,
    item.facts.length > 0 ? el('dl', { class: 'facts' }, ...item.facts.flatMap(([label, value]) => [el('dt', { text: label }), el('dd', { text: value })])) : null,
  );
}

function stepsSection(steps: readonly InspectedStep[]): HTMLElement {
  const longest = Math.max(1, ...steps.map((s) => s.durationMs));
  return el(
    'section',
    { attrs: { 'aria-label': 'Steps' } },
    el('h3', { text: `Steps (journal): ${steps.length}` }),
    steps.length === 0
      ? el('p', { class: 'muted', text: 'No finished step: an interrupted call is not journaled; its partial text went to the next job.' })
      : el(
          'table',
          { class: 'steps' },
          el('thead', {}, el('tr', {}, ...['#', 'kind', 'name', 'start', 'duration'].map((h) => el('th', { text: h, attrs: { scope: 'col' } })))),
          el(
            'tbody',
            {},
            ...steps.map((s) =>
              el(
                'tr',
                { class: s.status === 'failed' ? 'failed' : '' },
                el('td', { text: String(s.seq) }),
                el('td', { text: s.kind }),
                el('td', { text: s.name }),
                el('td', { text: offset(s.offsetMs) }),
                el('td', {}, el('span', { class: 'bar', attrs: { style: `width:${Math.max(2, Math.round((s.durationMs / longest) * 80))}px` } }), ` ${duration(s.durationMs)}`),
              ),
            ),
          ),
        ),
  );
}
