import { BatonError } from '@baton/llm-client';

export type PluginProvisionKind = 'plugin' | 'tool' | 'policy' | 'middleware' | 'operator' | 'actionType';

/**
 * Two registrations collide: the same plugin name with another version (or another object), or
 * two plugins providing the same tool / policy set / middleware / operator / action type name.
 */
export class PluginConflictError extends BatonError {
  override readonly name = 'PluginConflictError';
  readonly code = 'plugin_conflict';
  readonly kind: PluginProvisionKind;
  /** The name both registrations claim. */
  readonly conflictName: string;
  /** The plugin registered first (and its version). */
  readonly existingPlugin: string;
  /** The plugin being registered (and its version). */
  readonly incomingPlugin: string;
  constructor(kind: PluginProvisionKind, conflictName: string, existingPlugin: string, incomingPlugin: string) {
    super({
      message:
        kind === 'plugin'
          ? `Plugin '${conflictName}' is already registered as ${existingPlugin}; cannot register ${incomingPlugin}`
          : `${kind} '${conflictName}' is provided by both ${existingPlugin} and ${incomingPlugin}`,
    });
    this.kind = kind;
    this.conflictName = conflictName;
    this.existingPlugin = existingPlugin;
    this.incomingPlugin = incomingPlugin;
  }
}

/** A plugin requires another that is missing or whose version is outside the required range. */
export class PluginRequirementError extends BatonError {
  override readonly name = 'PluginRequirementError';
  readonly code = 'plugin_requirement_unmet';
  readonly plugin: string;
  readonly required: string;
  readonly range: string;
  /** The version found, when the plugin is registered but out of range. */
  readonly foundVersion: string | undefined;
  constructor(plugin: string, required: string, range: string, foundVersion?: string) {
    super({
      message:
        foundVersion === undefined
          ? `Plugin '${plugin}' requires '${required}@${range}', which is not registered`
          : `Plugin '${plugin}' requires '${required}@${range}', but '${required}@${foundVersion}' is registered`,
    });
    this.plugin = plugin;
    this.required = required;
    this.range = range;
    this.foundVersion = foundVersion;
  }
}

/** The plugins' requirements form a cycle; `cycle` lists it (first name repeated at the end). */
export class PluginDependencyCycleError extends BatonError {
  override readonly name = 'PluginDependencyCycleError';
  readonly code = 'plugin_dependency_cycle';
  readonly cycle: readonly string[];
  constructor(cycle: readonly string[]) {
    super({ message: `Plugin requirements form a cycle: ${cycle.join(' -> ')}` });
    this.cycle = cycle;
  }
}

/** A plugin's `init` failed; the plugins initialized before it were disposed again. */
export class PluginInitError extends BatonError {
  override readonly name = 'PluginInitError';
  readonly code = 'plugin_init_failed';
  readonly plugin: string;
  constructor(plugin: string, cause: unknown) {
    super({ message: `Plugin '${plugin}' failed to initialize: ${cause instanceof Error ? cause.message : String(cause)}`, cause });
    this.plugin = plugin;
  }
}

/** One or more plugins failed to dispose; every plugin was still asked to dispose. */
export class PluginDisposeError extends BatonError {
  override readonly name = 'PluginDisposeError';
  readonly code = 'plugin_dispose_failed';
  readonly plugins: readonly string[];
  readonly errors: readonly unknown[];
  constructor(plugins: readonly string[], errors: readonly unknown[]) {
    super({ message: `Plugin(s) failed to dispose: ${plugins.join(', ')}`, cause: errors[0] });
    this.plugins = plugins;
    this.errors = errors;
  }
}

/** The registry was used out of order (e.g. `register` after `initAll`). */
export class PluginLifecycleError extends BatonError {
  override readonly name = 'PluginLifecycleError';
  readonly code = 'plugin_lifecycle';
  readonly state: string;
  constructor(state: string, message: string) {
    super({ message });
    this.state = state;
  }
}
