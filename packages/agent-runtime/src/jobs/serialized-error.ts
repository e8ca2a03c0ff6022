import { BatonError } from '@baton/llm-client';
import { z } from 'zod';

/** An error as jobs, journal entries and events store it: no stack, no cause chain. */
export interface SerializedError {
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
  readonly name?: string | undefined;
}

export const SerializedErrorSchema = z.object({
  code: z.string().min(1),
  message: z.string(),
  retryable: z.boolean(),
  name: z.string().optional(),
});

/** Turns anything thrown into a `SerializedError` (Baton errors keep their code and flag). */
export function serializeError(error: unknown): SerializedError {
  if (BatonError.isInstance(error)) {
    return Object.freeze({ code: error.code, message: error.message, retryable: error.retryable, name: error.name });
  }
  if (error instanceof Error) return Object.freeze({ code: 'error', message: error.message, retryable: false, name: error.name });
  return Object.freeze({ code: 'error', message: typeof error === 'string' ? error : String(error), retryable: false });
}
