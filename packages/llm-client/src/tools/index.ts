export { defineTool, validateToolName, TOOL_NAME_PATTERN } from './define-tool.js';
export { parseToolArguments, describeIssues, type ParsedToolArguments } from './parse-tool-arguments.js';
export { ToolSet } from './tool-set.js';
export { defaultToModelOutput, toolErrorContent } from './tool-output.js';
