import {
  InMemoryActionStore,
  InMemoryEventBus,
  InMemoryJobStore,
  InMemoryJournalStore,
  InMemoryLedgerWriter,
  InMemorySignalChannel,
  Ledger,
  RuntimeKernel,
  journalUsage,
  operatorWorkflow,
  type BudgetSpec,
  type JobUsage,
  type RuntimeStores,
} from '@baton/agent-runtime';
import type { LanguageModel } from '@baton/llm-client';
import { createAgents } from './agents.js';
import { ResearchOperator, type ResearchReport } from './research-operator.js';
import { ParallelTracker } from './tools.js';

export const RESEARCH_SCOPE = { scopeId: 'research-lab', principalId: 'analyst' } as const;

export interface RunResearchOptions {
  topic: string;
  model: LanguageModel;
  /** Researchers at once (default 3). */
  maxParallel?: number;
  /** The scope's daily token budget in the ledger (default: none). */
  scopeTokens?: number;
  /** The job's own budgets (each agent run stays within them). */
  jobBudgets?: BudgetSpec;
}

export interface ResearchRun {
  jobId: string;
  report: ResearchReport;
  usage: JobUsage;
  /** Researchers in flight at most, and researchers started. */
  parallel: { peak: number; started: number; maxParallel: number };
}

/** Runs one research job through a `RuntimeKernel` over in-memory stores. */
export async function runResearch(options: RunResearchOptions): Promise<ResearchRun> {
  const maxParallel = options.maxParallel ?? 3;
  const tracker = new ParallelTracker();
  const stores: RuntimeStores = {
    jobs: new InMemoryJobStore(),
    journal: new InMemoryJournalStore(),
    events: new InMemoryEventBus(),
    actions: new InMemoryActionStore(),
    signals: new InMemorySignalChannel(),
  };
  const budgets = options.scopeTokens !== undefined ? [{ scopeId: RESEARCH_SCOPE.scopeId, dailyTokens: options.scopeTokens }] : [];
  const ledger = new Ledger({ writer: new InMemoryLedgerWriter(), budgets });
  const operator = new ResearchOperator({ agents: createAgents(options.model), maxParallel, tracker });
  const kernel = RuntimeKernel.create({ stores, ledger, workflows: { research: operatorWorkflow(operator, { result: (r) => r.output }) } });
  const handle = await kernel.execute({
    ...RESEARCH_SCOPE,
    workflow: 'research',
    input: { topic: options.topic },
    ...(options.jobBudgets ? { budgets: options.jobBudgets } : {}),
  });
  const result = await handle.result();
  const journal = await stores.journal.list({ jobId: handle.jobId, scopeId: RESEARCH_SCOPE.scopeId });
  return {
    jobId: handle.jobId,
    report: result.output as unknown as ResearchReport,
    usage: journalUsage(journal),
    parallel: { peak: tracker.peak, started: tracker.started, maxParallel },
  };
}
