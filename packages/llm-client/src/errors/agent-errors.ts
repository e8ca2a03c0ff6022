import { BatonError } from './baton-error.js';

export type BudgetKind = 'tokens' | 'cost' | 'turns' | 'toolCalls' | 'runtime';

/** A run would go past one of its budgets; the run stops before the call that would exceed it. */
export class BudgetExceededError extends BatonError {
  override readonly name = 'BudgetExceededError';
  readonly code = 'budget_exceeded';
  readonly budget: BudgetKind;
  readonly limit: number;
  readonly used: number;
  constructor(budget: BudgetKind, limit: number, used: number) {
    super({ message: `Budget '${budget}' exceeded: used ${used} of ${limit}`, retryable: false });
    this.budget = budget;
    this.limit = limit;
    this.used = used;
  }
}

/** The model kept asking for tools past `maxTurns`. */
export class MaxTurnsExceededError extends BatonError {
  override readonly name = 'MaxTurnsExceededError';
  readonly code = 'max_turns_exceeded';
  readonly maxTurns: number;
  constructor(maxTurns: number) {
    super({ message: `Agent stopped after ${maxTurns} turns without a final answer`, retryable: false });
    this.maxTurns = maxTurns;
  }
}

/** The model named a tool that is not registered. Sent back to the model as a tool error. */
export class ToolNotFoundError extends BatonError {
  override readonly name = 'ToolNotFoundError';
  readonly code = 'tool_not_found';
  readonly toolName: string;
  constructor(toolName: string) {
    super({ message: `Unknown tool '${toolName}'`, retryable: false });
    this.toolName = toolName;
  }
}

/** Tool arguments from the model were not JSON or did not match the tool's schema. */
export class ToolArgumentsError extends BatonError {
  override readonly name = 'ToolArgumentsError';
  readonly code = 'tool_arguments_invalid';
  readonly toolName: string;
  readonly toolCallId: string;
  readonly issues: unknown;
  constructor(toolName: string, toolCallId: string, message: string, issues?: unknown) {
    super({ message: `Invalid arguments for tool '${toolName}': ${message}`, retryable: false });
    this.toolName = toolName;
    this.toolCallId = toolCallId;
    this.issues = issues;
  }
}

/** A tool's `execute` threw. */
export class ToolExecutionError extends BatonError {
  override readonly name = 'ToolExecutionError';
  readonly code = 'tool_execution_failed';
  readonly toolName: string;
  readonly toolCallId: string;
  constructor(toolName: string, toolCallId: string, cause: unknown) {
    super({ message: `Tool '${toolName}' failed: ${cause instanceof Error ? cause.message : String(cause)}`, retryable: false, cause });
    this.toolName = toolName;
    this.toolCallId = toolCallId;
  }
}

/** The model kept producing invalid tool arguments past the repair limit. */
export class ToolRepairLimitError extends BatonError {
  override readonly name = 'ToolRepairLimitError';
  readonly code = 'tool_repair_limit';
  readonly toolName: string;
  readonly attempts: number;
  constructor(toolName: string, attempts: number, cause?: unknown) {
    super({ message: `Tool '${toolName}' got invalid arguments ${attempts} times; giving up`, retryable: false, cause });
    this.toolName = toolName;
    this.attempts = attempts;
  }
}
