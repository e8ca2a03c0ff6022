import { InvalidArgumentError } from '../errors/invalid-argument-error.js';
import type { ToolDefinition } from '../types/model.js';
import { validateToolName } from './define-tool.js';
import type { Tool } from './types.js';

/** The tools of one agent, by name; duplicates are rejected when it is built. */
export class ToolSet {
  private readonly byName = new Map<string, Tool>();
  /** What the model is sent, in the order the tools were given. */
  readonly definitions: readonly ToolDefinition[];

  constructor(tools: readonly Tool[] = [], argument = 'tools') {
    if (!Array.isArray(tools)) throw new InvalidArgumentError(argument, 'must be an array of tools (from defineTool)');
    tools.forEach((tool, i) => {
      if (!isTool(tool)) throw new InvalidArgumentError(`${argument}[${i}]`, 'must be a tool made by defineTool()');
      validateToolName(tool.name, `${argument}[${i}].name`);
      if (this.byName.has(tool.name)) throw new InvalidArgumentError(`${argument}[${i}]`, `duplicate tool name '${tool.name}'`);
      this.byName.set(tool.name, tool);
    });
    this.definitions = Object.freeze([...this.byName.values()].map((t) => t.definition()));
  }

  get size(): number {
    return this.byName.size;
  }

  get(name: string): Tool | undefined {
    return this.byName.get(name);
  }

  list(): Tool[] {
    return [...this.byName.values()];
  }
}

function isTool(value: unknown): value is Tool {
  if (typeof value !== 'object' || value === null) return false;
  const t = value as Partial<Tool>;
  return typeof t.name === 'string' && typeof t.execute === 'function' && typeof t.definition === 'function' && typeof t.toModelOutput === 'function' && typeof t.parameters === 'object';
}
