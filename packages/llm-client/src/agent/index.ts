export { Agent } from './agent.js';
export { AgentEventStream } from './agent-stream.js';
