import { quoteIdent } from './identifiers.js';

/** Every table of one schema, as quoted, schema-qualified names for SQL text. */
export interface Tables {
  readonly schema: string;
  readonly migrations: string;
  readonly jobs: string;
  readonly journalHeads: string;
  readonly journalEntries: string;
  readonly sharedData: string;
  readonly sharedLog: string;
  readonly deferredEvents: string;
  readonly eventSeqs: string;
  readonly events: string;
  /** Buses listening for other processes' events: publishers notify only while one is registered. */
  readonly busListeners: string;
  /** Where the orphan pass of `pruneFinished` stopped in each table, for the next call of any process. */
  readonly sweepCursors: string;
  readonly actions: string;
  readonly ledgerEvents: string;
  readonly ledgerReservations: string;
  readonly ledgerBudgets: string;
  readonly queue: string;
}

export function tablesOf(schema: string): Tables {
  const s = quoteIdent(schema);
  const t = (name: string) => `${s}.${quoteIdent(name)}`;
  return {
    schema: s,
    migrations: t('baton_migrations'),
    jobs: t('jobs'),
    journalHeads: t('journal_heads'),
    journalEntries: t('journal_entries'),
    sharedData: t('shared_data'),
    sharedLog: t('shared_log'),
    deferredEvents: t('deferred_events'),
    eventSeqs: t('event_seqs'),
    events: t('events'),
    busListeners: t('bus_listeners'),
    sweepCursors: t('sweep_cursors'),
    actions: t('actions'),
    ledgerEvents: t('ledger_events'),
    ledgerReservations: t('ledger_reservations'),
    ledgerBudgets: t('ledger_budgets'),
    queue: t('queue'),
  };
}

/** SQL for a TIMESTAMPTZ from integer epoch milliseconds in parameter `$n` (exact, any time zone). */
export function msToTs(param: string): string {
  return `(TIMESTAMPTZ 'epoch' + (${param})::int8 * INTERVAL '1 millisecond')`;
}

/** SQL for the integer epoch milliseconds of a TIMESTAMPTZ expression, as text (exact). */
export function tsToMs(expression: string): string {
  return `((EXTRACT(EPOCH FROM ${expression}) * 1000)::int8)::text`;
}

/** `text` with its parameters `$1`, `$2`, … renumbered to start at `$first` (for a CTE in another store's statement). */
export function renumber(text: string, first: number): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => `$${first + Number(n) - 1}`);
}
