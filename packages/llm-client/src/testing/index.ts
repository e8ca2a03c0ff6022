export { startWireServer, type WireServer, type WireServerOptions } from './wire-server.js';
export type { WireAnswer, WireError, WireHang, WireRaw, WireResponse, WireRequest, WireHandler, WireToolCall, WireUsage, WireFormat } from './wire-types.js';
export {
  ScriptedProvider,
  createScriptedProvider,
  ScriptExhaustedError,
  type ScriptedProviderOptions,
  type ScriptedCall,
  type ScriptStep,
  type ScriptedAnswer,
  type ScriptedToolCall,
  type ScriptFunction,
} from '../providers/scripted/index.js';
