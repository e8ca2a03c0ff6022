import { BatonError } from '../../errors/index.js';

/** A `ScriptedProvider` was called more times than its script has steps (and `loop` is off). */
export class ScriptExhaustedError extends BatonError {
  override readonly name = 'ScriptExhaustedError';
  readonly code = 'script_exhausted';
  readonly callIndex: number;
  readonly steps: number;

  constructor(callIndex: number, steps: number) {
    super({
      message: `ScriptedProvider script exhausted: call #${callIndex + 1} but the script has ${steps} step(s); add steps, pass a function, or set loop: true`,
      retryable: false,
    });
    this.callIndex = callIndex;
    this.steps = steps;
  }
}
