import { BatonError } from '@baton/llm-client';

/**
 * A Redis Streams entry does not hold a valid runtime event: no `event` field, not JSON, or an
 * event the runtime's parser refuses (`cause` is then its `CorruptRecordError`, naming the job
 * and seq). Names the stream and the entry, so a reader can skip past it (`afterId`) or inspect it.
 */
export class CorruptStreamEntryError extends BatonError {
  override readonly name = 'CorruptStreamEntryError';
  readonly code = 'corrupt_stream_entry';
  readonly stream: string;
  readonly entryId: string;
  readonly issue: string;
  constructor(options: { stream: string; entryId: string; issue: string; cause?: unknown }) {
    super({ message: `Corrupt event in stream '${options.stream}' at entry ${options.entryId}: ${options.issue}`, cause: options.cause });
    this.stream = options.stream;
    this.entryId = options.entryId;
    this.issue = options.issue;
  }
}
