import { defineTool, type Tool } from '@baton/llm-client';
import { z } from 'zod';
import { searchNotes } from './corpus.js';

/** Counts researchers in flight, to show (and test) that at most `maxParallel` run at once. */
export class ParallelTracker {
  running = 0;
  peak = 0;
  started = 0;

  enter(): void {
    this.running++;
    this.started++;
    this.peak = Math.max(this.peak, this.running);
  }

  leave(): void {
    this.running--;
  }
}

/** The researchers' tool: searches the offline notes. */
export function searchNotesTool(): Tool {
  return defineTool({
    name: 'search_notes',
    description: 'Searches the research notes; returns up to 3 passages with their ids.',
    parameters: z.object({ query: z.string().min(1) }),
    execute: ({ query }) => ({ query, notes: searchNotes(query).map((n) => ({ id: n.id, text: n.text })) }),
  });
}
