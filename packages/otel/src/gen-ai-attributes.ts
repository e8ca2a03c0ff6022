/**
 * Attribute names of the OpenTelemetry GenAI semantic conventions (status: development) that
 * the adapter sets, and the `baton.*` ones for what the conventions do not cover.
 */
export const ATTR = {
  operationName: 'gen_ai.operation.name',
  /** The provider, as the conventions name it now. */
  providerName: 'gen_ai.provider.name',
  /** The provider, as conventions up to 1.36 name it; set too, for backends that read only it. */
  system: 'gen_ai.system',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  finishReasons: 'gen_ai.response.finish_reasons',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  tokenType: 'gen_ai.token.type',
  conversationId: 'gen_ai.conversation.id',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  toolCallArguments: 'gen_ai.tool.call.arguments',
  toolCallResult: 'gen_ai.tool.call.result',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  errorType: 'error.type',

  jobId: 'baton.job.id',
  scopeId: 'baton.scope.id',
  sessionId: 'baton.session.id',
  jobStatus: 'baton.job.status',
  jobAttempt: 'baton.job.attempt',
  jobReason: 'baton.job.reason',
  jobInput: 'baton.job.input',
  jobOutput: 'baton.job.output',
  runOutcome: 'baton.run.outcome',
  stepKey: 'baton.step.key',
  stepName: 'baton.step.name',
  stepKind: 'baton.step.kind',
  actionId: 'baton.action.id',
  actionType: 'baton.action.type',
  actionOutcome: 'baton.action.outcome',
  actionDetails: 'baton.action.details',
  actionEscalatedTo: 'baton.action.escalated_to',
  /** Why a span was ended by the adapter rather than by its closing event: `ttl`, `capacity`, `close`, `superseded`, `job_ended`. */
  endedBy: 'baton.span.ended_by',
  costUsd: 'baton.model.cost_usd',
  policyDecision: 'baton.policy.decision',
  policySubject: 'baton.policy.subject',
  budgetDimension: 'baton.budget.dimension',
  budgetLevel: 'baton.budget.level',
} as const;

/** `gen_ai.operation.name` values. */
export const OPERATION = {
  chat: 'chat',
  executeTool: 'execute_tool',
  invokeAgent: 'invoke_agent',
} as const;

/** Span names. */
export const SPAN = {
  job: 'agent.job',
  run: 'agent.run',
  model: 'agent.model',
  tool: 'agent.tool',
  action: 'agent.action',
  step: 'agent.step',
} as const;
