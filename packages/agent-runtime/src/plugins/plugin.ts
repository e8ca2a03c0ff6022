import type { AgentMiddleware, Tool } from '@baton/llm-client';
import type { ActionType } from '../actions/action-type.js';
import type { PolicySet } from '../policy/policy-types.js';

/** Anything a plugin contributes to the graph/kernel as an operator; identified by `name`. */
export interface PluginOperator {
  readonly name: string;
}

/** What a plugin contributes. Each name must be unique across all registered plugins. */
export interface PluginProvides {
  tools?: Tool[];
  /** Policy sets, unique by name and version. */
  policies?: PolicySet[];
  middleware?: AgentMiddleware[];
  operators?: PluginOperator[];
  actionTypes?: ActionType<any>[];
}

export interface PluginManifest {
  /** Package-like name: letters, digits, `@ / . _ -`. */
  name: string;
  /** A semantic version (`1.4.2`). */
  version: string;
  description?: string;
  /** Other plugins this one needs, by name, with a version range (`^1.2.0`, `~1.2.0`, `>=1.0.0`, exact). */
  requires?: Record<string, string>;
  provides?: PluginProvides;
}

/** Given to `init`: read what the other plugins (initialized before this one) provide. */
export interface PluginContext {
  readonly manifest: PluginManifest;
  readonly registry: PluginLookup;
}

/** The read side of a `PluginRegistry`. */
export interface PluginLookup {
  getPlugin(name: string): Plugin | undefined;
  getTool(name: string): Tool | undefined;
  getOperator<T extends PluginOperator = PluginOperator>(name: string): T | undefined;
  getActionType(name: string): ActionType<unknown> | undefined;
  getPolicySet(name: string, version?: string): PolicySet | undefined;
}

/**
 * A unit of extension. `init` runs after the plugins it requires have been initialized;
 * `dispose` runs in reverse order. Both are optional.
 */
export interface Plugin {
  readonly manifest: PluginManifest;
  init?(ctx: PluginContext): void | Promise<void>;
  dispose?(): void | Promise<void>;
}
