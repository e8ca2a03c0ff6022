export { ScriptedProvider, createScriptedProvider, type ScriptedProviderOptions, type ScriptedCall } from './scripted-provider.js';
export type { ScriptStep, ScriptedAnswer, ScriptedToolCall, ScriptFunction } from './script-step.js';
export { ScriptExhaustedError } from './script-exhausted-error.js';
export { tokenizeText } from './tokenize.js';
