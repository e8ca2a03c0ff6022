import { TERMINAL_JOB_EVENT_TYPES, type JobRecord } from '@baton/agent-runtime';
import type { SseChannel } from './sse-channel.js';
import { sseFrame } from './sse-frame.js';
import { eventJson, sendStreamError, type StreamDeps } from './stream-deps.js';

/**
 * Sends a job's events from `fromSeq` (retained ones, then live ones, no gap, no duplicate) on
 * `channel` at the client's pace, and closes it after the job's terminal event. A client that
 * goes away only stops this loop; the job runs on. Events the bus no longer holds are reported
 * as a `stream.gap` message (`{ dropped, first, last }`).
 */
export async function pumpJobEvents(deps: StreamDeps, job: JobRecord, fromSeq: number, channel: SseChannel, maxBuffered: number): Promise<void> {
  try {
    const events = deps.kernel.stores.events.stream({
      jobId: job.id,
      scopeId: job.scopeId,
      fromSeq,
      maxBuffered,
      signal: channel.signal,
      until: (e) => TERMINAL_JOB_EVENT_TYPES.has(e.type),
      onGap: (gap) => channel.send(sseFrame(undefined, 'stream.gap', JSON.stringify(gap))),
    });
    for await (const event of events) {
      channel.send(event.type === 'action.required' ? sseFrame(String(event.seq), event.type, eventJson(deps, event)) : deps.frames.jobFrame(event));
      if (!(await channel.writable())) break;
    }
  } catch (error) {
    sendStreamError(channel, deps, error);
  } finally {
    channel.close();
  }
}
