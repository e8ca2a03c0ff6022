export { OpenTelemetryAdapter, type OpenTelemetryAdapterStats } from './opentelemetry-adapter.js';
export { INSTRUMENTATION_NAME, type CapturedContent, type ContentSource, type OTelConfig } from './otel-config.js';
export { ATTR as SPAN_ATTRIBUTES, OPERATION as GEN_AI_OPERATIONS, SPAN as SPAN_NAMES } from './gen-ai-attributes.js';
