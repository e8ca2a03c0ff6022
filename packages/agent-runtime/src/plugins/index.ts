export type { Plugin, PluginContext, PluginLookup, PluginManifest, PluginOperator, PluginProvides } from './plugin.js';
export { PluginRegistry, type PluginRegistryState } from './plugin-registry.js';
export { compareSemver, isValidRange, isValidSemver, parseSemver, satisfies, type SemVer } from './semver.js';
