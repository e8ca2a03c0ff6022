import { BatonError } from './baton-error.js';

/** A public function was called with an option that is missing or out of range. */
export class InvalidArgumentError extends BatonError {
  override readonly name = 'InvalidArgumentError';
  readonly code = 'invalid_argument';
  readonly argument: string;

  constructor(argument: string, message: string, cause?: unknown) {
    super({ message: `Invalid argument '${argument}': ${message}`, cause });
    this.argument = argument;
  }
}
