import { ActionTypeConflictError, UnknownActionTypeError } from '../errors/action-errors.js';
import { approvalActionType, defineActionType, type ActionType } from './action-type.js';

export interface ActionTypeRegistryOptions {
  /** Types to register at once. */
  types?: ActionType<any>[];
  /** Register the built-in `approval` type (default true). */
  builtins?: boolean;
}

/** The action types a runtime knows; plugins add theirs. */
export class ActionTypeRegistry {
  private readonly types = new Map<string, ActionType<any>>();

  constructor(options: ActionTypeRegistryOptions = {}) {
    if (options.builtins !== false) this.register(approvalActionType);
    for (const type of options.types ?? []) this.register(type);
  }

  /** Adds a type. Registering the same object again is a no-op; another type of that name is a conflict. */
  register(type: ActionType<any>): this {
    defineActionType(type);
    const existing = this.types.get(type.name);
    if (existing === type) return this;
    if (existing) throw new ActionTypeConflictError(type.name);
    this.types.set(type.name, type);
    return this;
  }

  get(name: string): ActionType<unknown> | undefined {
    return this.types.get(name);
  }

  /** The type of that name, or `UnknownActionTypeError`. */
  require(name: string): ActionType<unknown> {
    const type = this.types.get(name);
    if (!type) throw new UnknownActionTypeError(name);
    return type;
  }

  has(name: string): boolean {
    return this.types.has(name);
  }

  list(): ActionType<unknown>[] {
    return [...this.types.values()];
  }
}
