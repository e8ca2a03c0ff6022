export { AnthropicProvider, createAnthropic, type AnthropicProviderOptions } from './anthropic-provider.js';
export { toAnthropicParams, toAnthropicMessages } from './anthropic-request.js';
export { mapAnthropicStopReason, mapAnthropicUsage } from './anthropic-response.js';
