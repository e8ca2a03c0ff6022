import { ExecutionEngine } from '../engine/execution-engine.js';
import type { ExecutionEngineOptions } from '../engine/engine-options.js';
import { ScriptedProvider, type ScriptedProviderOptions, type ScriptStep } from '../providers/scripted/index.js';

/** Test support, left out of the package like every `*.test.*` file: the `ExecutionEngine` over a `ScriptedProvider`. */
export function scriptedEngine(
  script: ScriptStep[],
  options: Omit<ScriptedProviderOptions, 'script'> = {},
  engineOptions: Omit<ExecutionEngineOptions, 'provider'> = {},
) {
  const provider = new ScriptedProvider({ ...options, script });
  const engine = new ExecutionEngine({ provider, ...engineOptions });
  return { engine, provider };
}
