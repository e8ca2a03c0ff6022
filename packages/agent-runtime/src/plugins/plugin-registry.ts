import { InvalidArgumentError, type AgentMiddleware, type Tool } from '@baton/llm-client';
import type { ActionType } from '../actions/action-type.js';
import {
  PluginConflictError,
  PluginDependencyCycleError,
  PluginDisposeError,
  PluginInitError,
  PluginLifecycleError,
  PluginRequirementError,
  type PluginProvisionKind,
} from '../errors/plugin-errors.js';
import type { PolicySet } from '../policy/policy-types.js';
import type { Plugin, PluginLookup, PluginManifest, PluginOperator } from './plugin.js';
import { isValidRange, isValidSemver, satisfies } from './semver.js';

export type PluginRegistryState = 'registering' | 'initializing' | 'ready' | 'disposing' | 'disposed';

type Provided = Exclude<PluginProvisionKind, 'plugin'>;

const NAME = /^[A-Za-z0-9@][A-Za-z0-9@/._-]{0,213}$/;

/**
 * Holds plugins and what they provide. `register` checks for conflicts at once (same plugin name
 * with another version or object; one tool / policy set / middleware / operator / action type
 * name provided twice); `initAll` checks every requirement, then initializes in dependency
 * order (ties keep registration order); `disposeAll` disposes in the reverse order.
 */
export class PluginRegistry implements PluginLookup {
  private readonly plugins = new Map<string, Plugin>();
  private readonly provided: Record<Provided, Map<string, { plugin: string; item: unknown }>> = {
    tool: new Map(),
    policy: new Map(),
    middleware: new Map(),
    operator: new Map(),
    actionType: new Map(),
  };
  private initialized: Plugin[] = [];
  private currentState: PluginRegistryState = 'registering';

  constructor(options: { plugins?: Plugin[] } = {}) {
    for (const plugin of options.plugins ?? []) this.register(plugin);
  }

  get state(): PluginRegistryState {
    return this.currentState;
  }

  register(plugin: Plugin): this {
    if (this.currentState !== 'registering') throw new PluginLifecycleError(this.currentState, `Cannot register plugins once the registry is ${this.currentState}`);
    const manifest = checkManifest(plugin);
    const existing = this.plugins.get(manifest.name);
    if (existing === plugin) return this;
    if (existing) throw new PluginConflictError('plugin', manifest.name, label(existing.manifest), label(manifest));
    const entries = provisions(manifest);
    const seen = new Set<string>();
    for (const [kind, key] of entries) {
      const holder = this.provided[kind].get(key);
      if (holder) throw new PluginConflictError(kind, key, label(this.plugins.get(holder.plugin)!.manifest), label(manifest));
      if (seen.has(`${kind}:${key}`)) throw new PluginConflictError(kind, key, label(manifest), label(manifest));
      seen.add(`${kind}:${key}`);
    }
    this.plugins.set(manifest.name, plugin);
    for (const [kind, key, item] of entries) this.provided[kind].set(key, { plugin: manifest.name, item });
    return this;
  }

  /**
   * The order `initAll` uses. Throws `PluginRequirementError` for a missing or out-of-range
   * requirement and `PluginDependencyCycleError` for a cycle.
   */
  initOrder(): string[] {
    for (const plugin of this.plugins.values()) {
      for (const [required, range] of Object.entries(plugin.manifest.requires ?? {})) {
        const found = this.plugins.get(required);
        if (!found) throw new PluginRequirementError(plugin.manifest.name, required, range);
        if (!satisfies(found.manifest.version, range)) throw new PluginRequirementError(plugin.manifest.name, required, range, found.manifest.version);
      }
    }
    const order: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, path: string[]) => {
      const mark = state.get(name);
      if (mark === 'done') return;
      if (mark === 'visiting') throw new PluginDependencyCycleError([...path.slice(path.indexOf(name)), name]);
      state.set(name, 'visiting');
      for (const required of Object.keys(this.plugins.get(name)!.manifest.requires ?? {})) visit(required, [...path, name]);
      state.set(name, 'done');
      order.push(name);
    };
    for (const name of this.plugins.keys()) visit(name, []);
    return order;
  }

  /**
   * Initializes every plugin in dependency order. If one fails, those already initialized are
   * disposed in reverse and `PluginInitError` is thrown; the registry can then be fixed and
   * initialized again. Calling it when ready does nothing.
   */
  async initAll(): Promise<void> {
    if (this.currentState === 'ready') return;
    if (this.currentState !== 'registering') throw new PluginLifecycleError(this.currentState, `Cannot initialize a registry that is ${this.currentState}`);
    const order = this.initOrder().map((name) => this.plugins.get(name)!);
    this.currentState = 'initializing';
    this.initialized = [];
    for (const plugin of order) {
      try {
        await plugin.init?.({ manifest: plugin.manifest, registry: this });
        this.initialized.push(plugin);
      } catch (error) {
        await this.disposeInitialized().catch(() => {});
        this.currentState = 'registering';
        throw new PluginInitError(plugin.manifest.name, error);
      }
    }
    this.currentState = 'ready';
  }

  /** Disposes the initialized plugins in reverse order; every one is tried even if some fail. */
  async disposeAll(): Promise<void> {
    if (this.currentState === 'disposed' || this.currentState === 'registering') {
      this.currentState = 'disposed';
      return;
    }
    if (this.currentState !== 'ready') throw new PluginLifecycleError(this.currentState, `Cannot dispose a registry that is ${this.currentState}`);
    this.currentState = 'disposing';
    try {
      await this.disposeInitialized();
    } finally {
      this.currentState = 'disposed';
    }
  }

  list(): Plugin[] {
    return [...this.plugins.values()];
  }

  getPlugin(name: string): Plugin | undefined {
    return this.plugins.get(name);
  }

  /** Which plugin provides `name` of that kind. */
  providerOf(kind: Provided, name: string): string | undefined {
    return this.provided[kind].get(name)?.plugin;
  }

  tools(): Tool[] {
    return this.items<Tool>('tool');
  }

  getTool(name: string): Tool | undefined {
    return this.provided.tool.get(name)?.item as Tool | undefined;
  }

  policies(): PolicySet[] {
    return this.items<PolicySet>('policy');
  }

  getPolicySet(name: string, version?: string): PolicySet | undefined {
    return this.provided.policy.get(policyKey(name, version))?.item as PolicySet | undefined;
  }

  /** Middleware of every plugin, in dependency order (a plugin's own list keeps its order). */
  middleware(): AgentMiddleware[] {
    const order = safeOrder(this);
    return this.items<AgentMiddleware>('middleware', order);
  }

  operators(): PluginOperator[] {
    return this.items<PluginOperator>('operator');
  }

  getOperator<T extends PluginOperator = PluginOperator>(name: string): T | undefined {
    return this.provided.operator.get(name)?.item as T | undefined;
  }

  actionTypes(): ActionType<unknown>[] {
    return this.items<ActionType<unknown>>('actionType');
  }

  getActionType(name: string): ActionType<unknown> | undefined {
    return this.provided.actionType.get(name)?.item as ActionType<unknown> | undefined;
  }

  private items<T>(kind: Provided, pluginOrder?: string[]): T[] {
    const all = [...this.provided[kind].values()];
    if (pluginOrder) all.sort((a, b) => pluginOrder.indexOf(a.plugin) - pluginOrder.indexOf(b.plugin));
    return all.map((entry) => entry.item as T);
  }

  private async disposeInitialized(): Promise<void> {
    const failed: string[] = [];
    const errors: unknown[] = [];
    for (const plugin of [...this.initialized].reverse()) {
      try {
        await plugin.dispose?.();
      } catch (error) {
        failed.push(plugin.manifest.name);
        errors.push(error);
      }
    }
    this.initialized = [];
    if (failed.length > 0) throw new PluginDisposeError(failed, errors);
  }
}

function safeOrder(registry: PluginRegistry): string[] {
  try {
    return registry.initOrder();
  } catch {
    return registry.list().map((p) => p.manifest.name);
  }
}

function label(manifest: PluginManifest): string {
  return `'${manifest.name}@${manifest.version}'`;
}

function policyKey(name: string, version: string | undefined): string {
  return version === undefined ? name : `${name}@${version}`;
}

function checkManifest(plugin: Plugin): PluginManifest {
  const manifest = plugin?.manifest;
  if (!manifest || typeof manifest.name !== 'string' || !NAME.test(manifest.name)) throw new InvalidArgumentError('manifest.name', 'a plugin name is 1-214 characters of letters, digits, @ / . _ -');
  if (typeof manifest.version !== 'string' || !isValidSemver(manifest.version)) throw new InvalidArgumentError('manifest.version', `'${String(manifest.version)}' is not a semantic version`);
  for (const [name, range] of Object.entries(manifest.requires ?? {})) {
    if (name === manifest.name) throw new InvalidArgumentError(`manifest.requires.${name}`, 'a plugin cannot require itself');
    if (!isValidRange(range)) throw new InvalidArgumentError(`manifest.requires.${name}`, `'${range}' is not a supported version range`);
  }
  if (plugin.init !== undefined && typeof plugin.init !== 'function') throw new InvalidArgumentError('init', 'must be a function');
  if (plugin.dispose !== undefined && typeof plugin.dispose !== 'function') throw new InvalidArgumentError('dispose', 'must be a function');
  return manifest;
}

function provisions(manifest: PluginManifest): Array<[Provided, string, unknown]> {
  const p = manifest.provides ?? {};
  const named = (kind: Provided, items: Array<{ name: string }> | undefined, key: (item: any) => string = (i) => i.name): Array<[Provided, string, unknown]> =>
    (items ?? []).map((item, i) => {
      if (!item || typeof item.name !== 'string' || item.name.length === 0) throw new InvalidArgumentError(`manifest.provides.${kind}.${i}.name`, 'is required');
      return [kind, key(item), item];
    });
  return [
    ...named('tool', p.tools),
    ...named('policy', p.policies, (set: PolicySet) => policyKey(set.name, set.version)),
    ...named('middleware', p.middleware),
    ...named('operator', p.operators),
    ...named('actionType', p.actionTypes),
  ];
}
