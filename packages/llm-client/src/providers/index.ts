export {
  ScriptedProvider,
  createScriptedProvider,
  ScriptExhaustedError,
  tokenizeText,
  type ScriptedProviderOptions,
  type ScriptedCall,
  type ScriptStep,
  type ScriptedAnswer,
  type ScriptedToolCall,
  type ScriptFunction,
} from './scripted/index.js';
