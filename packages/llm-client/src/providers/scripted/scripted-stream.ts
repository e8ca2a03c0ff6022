import type { ModelStreamEvent } from '../../types/model.js';
import { abortErrorFrom, sleep } from '../shared/abort.js';
import type { ResolvedAnswer } from './script-step.js';
import { playAnswer, type AnswerMeta } from './scripted-events.js';

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * The async iterator behind `ScriptedProvider.stream()`. Without delays it allocates no timers
 * and no promise beyond the one each `next()` must return; with delays it sleeps with one timer
 * per delayed event. An aborted signal rejects the pending or next `next()` with `AbortError`
 * (unless `ignoreAbort`).
 */
export class ScriptedStream implements AsyncIterableIterator<ModelStreamEvent, undefined> {
  private events: Generator<ModelStreamEvent, void, undefined> | undefined;
  private tokenDelayMs = 0;
  private done = false;

  constructor(
    private readonly resolve: () => ResolvedAnswer | Promise<ResolvedAnswer>,
    private readonly meta: AnswerMeta,
    private readonly signal: AbortSignal | undefined,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ModelStreamEvent, undefined>> {
    if (this.done) return Promise.resolve(DONE);
    if (this.signal?.aborted) return this.fail(abortErrorFrom(this.signal));
    if (this.events === undefined) return this.start();
    return this.step();
  }

  return(): Promise<IteratorResult<ModelStreamEvent, undefined>> {
    this.done = true;
    this.events = undefined;
    return Promise.resolve(DONE);
  }

  private start(): Promise<IteratorResult<ModelStreamEvent, undefined>> {
    let answer: ResolvedAnswer | Promise<ResolvedAnswer>;
    try {
      answer = this.resolve();
    } catch (error) {
      return this.fail(error);
    }
    if (answer instanceof Promise) {
      return raceAbort(answer, this.signal).then(
        (a) => this.begin(a),
        (error: unknown) => this.fail(error),
      );
    }
    return this.begin(answer);
  }

  private begin(answer: ResolvedAnswer): Promise<IteratorResult<ModelStreamEvent, undefined>> {
    this.events = playAnswer(answer, this.meta);
    this.tokenDelayMs = answer.tokenDelayMs;
    if (answer.delayMs > 0) {
      return sleep(answer.delayMs, this.signal).then(
        () => this.step(),
        (error: unknown) => this.fail(error),
      );
    }
    return this.step();
  }

  private step(): Promise<IteratorResult<ModelStreamEvent, undefined>> {
    const events = this.events;
    if (events === undefined) return Promise.resolve(DONE);
    let r: IteratorResult<ModelStreamEvent, void>;
    try {
      r = events.next();
    } catch (error) {
      return this.fail(error);
    }
    if (r.done) {
      this.done = true;
      this.events = undefined;
      return Promise.resolve(DONE);
    }
    const value = r.value;
    if (this.tokenDelayMs > 0 && (value.type === 'text-delta' || value.type === 'tool-call-delta')) {
      return sleep(this.tokenDelayMs, this.signal).then(
        () => (this.done ? DONE : { done: false, value }),
        (error: unknown) => this.fail(error),
      );
    }
    return Promise.resolve({ done: false, value });
  }

  private fail(error: unknown): Promise<never> {
    this.done = true;
    this.events = undefined;
    return Promise.reject(error);
  }
}

/** Settles with `promise`, or rejects with `AbortError` as soon as `signal` fires. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortErrorFrom(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortErrorFrom(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
