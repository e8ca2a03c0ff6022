export { OpenAIProvider, createOpenAI, type OpenAIProviderOptions } from './openai-provider.js';
export { toOpenAIParams, toOpenAIMessage } from './openai-request.js';
export { mapOpenAIFinishReason, mapOpenAIUsage } from './openai-response.js';
