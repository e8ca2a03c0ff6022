import { InvalidArgumentError } from '@baton/llm-client';

/** The part of a zod schema used here (the runtime's record schemas). */
export interface RecordSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } };
}

/** Parses a caller's record with the runtime's schema; the first issue → `InvalidArgumentError` naming its path. */
export function validateInput<T>(schema: RecordSchema<T>, value: unknown, name: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.length ? `${name}.${issue.path.map(String).join('.')}` : name;
    throw new InvalidArgumentError(path, issue?.message ?? `invalid ${name}`, parsed.error);
  }
  return parsed.data;
}
