export { ActionManager, type ActionManagerOptions, type RequiredAction } from './action-manager.js';
export type { ActionEvent, ActionEventType } from './action-events.js';
export { ActionSpecSchema, normalizeActionSpec, type ActionSpec, type NormalizedActionSpec } from './action-spec.js';
export {
  approvalActionType,
  ApprovalResolutionSchema,
  decisionOf,
  defineActionType,
  parseResolution,
  type ActionType,
  type ApprovalDecision,
  type ApprovalResolution,
} from './action-type.js';
export { ActionTypeRegistry, type ActionTypeRegistryOptions } from './action-type-registry.js';
export { timeoutOutcome, type ExpiryOutcome, type ExpiryOutcomeKind, type ExpirySweepResult, type TimeoutPlan } from './action-expiry.js';
export { generateResumeToken, hashResumeToken, isWellFormedResumeToken } from './resume-token.js';
export { InMemoryActionStore } from './in-memory-action-store.js';
export { waitUntilFinal, type WaitUntilFinalOptions } from './action-waiter.js';
export { InMemorySignalChannel, type InMemorySignalChannelOptions } from './in-memory-signal-channel.js';
