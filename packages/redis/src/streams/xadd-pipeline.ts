import type { EventBatchWriteResult, RuntimeEvent } from '@baton/agent-runtime';
import type { RedisConnection } from '../connection/redis-connection.js';
import { mapRedisError } from '../errors/map-redis-error.js';
import { EVENT_FIELD } from './stream-entries.js';

export interface XaddPipelineOptions {
  readonly connection: RedisConnection;
  readonly streamOf: (event: RuntimeEvent) => string;
  /** Approximate bound on each stream's length (`MAXLEN ~`). */
  readonly maxLen: number;
  /** Told of lost events: once per pipeline, with the first error and how many were lost. */
  readonly onError: (error: unknown, info: { events: number }) => void;
}

/**
 * Appends a batch of events in one pipeline of `XADD <stream> MAXLEN ~ <maxLen> * event <json>`.
 * Resolves with how many commands failed (the first error goes to `onError`, as a
 * `RedisCommandError`); rejects when the pipeline as a whole failed, after reporting every event
 * of the batch to `onError`.
 */
export async function writeXaddPipeline(batch: readonly RuntimeEvent[], options: XaddPipelineOptions): Promise<EventBatchWriteResult> {
  const { connection, streamOf, onError } = options;
  const maxLen = String(options.maxLen);
  let results: Array<[error: Error | null, result: unknown]> | null;
  try {
    results = await connection.run('streams.xadd', (client) => {
      const pipeline = client.pipeline();
      for (const event of batch) pipeline.xadd(streamOf(event), 'MAXLEN', '~', maxLen, '*', EVENT_FIELD, JSON.stringify(event));
      return pipeline.exec();
    });
  } catch (error) {
    onError(error, { events: batch.length });
    throw error;
  }
  let failed = 0;
  let first: unknown;
  for (const [error] of results ?? []) {
    if (error) {
      failed++;
      first ??= error;
    }
  }
  if (failed > 0) onError(mapRedisError(first, 'streams.xadd'), { events: failed });
  return { failed };
}
