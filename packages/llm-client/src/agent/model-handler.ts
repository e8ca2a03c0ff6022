import type { EngineCallOptions, ModelExecutor } from '../engine/types.js';
import type { ModelResponse } from '../types/model.js';
import type { ModelHandler } from '../middleware/compose.js';
import { abortError } from './abort.js';

/**
 * The innermost model handler: the real engine call. When the run streams (`ctx.emit` is set)
 * it uses `engine.stream()` and forwards every event but `finish` to `emit`.
 */
export function engineModelHandler(engine: ModelExecutor): ModelHandler {
  return async (ctx) => {
    const options: EngineCallOptions = { context: ctx.context, signal: ctx.signal };
    if (ctx.timeoutMs !== undefined) options.timeoutMs = ctx.timeoutMs;
    if (ctx.idempotencyKey !== undefined) options.idempotencyKey = ctx.idempotencyKey;
    const emit = ctx.emit;
    if (emit === undefined) return engine.complete(ctx.request, options);

    const stream = engine.stream(ctx.request, options);
    // Settled below through iteration; never left as an unhandled rejection.
    stream.response.catch(() => undefined);
    const signal = ctx.signal;
    let final: ModelResponse | undefined;
    for await (const event of stream) {
      if (signal.aborted) throw abortError(signal);
      if (event.type === 'finish') final = event.response;
      else emit(event);
    }
    return final ?? (await stream.response);
  };
}
