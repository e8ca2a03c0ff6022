import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent } from '../agent/agent.js';
import { scriptedEngine } from '../agent/scripted-engine.test.helpers.js';
import { defineTool } from '../tools/define-tool.js';
import type { Logger } from './logger.js';
import type { TelemetryEvent } from './telemetry-middleware.js';

const secretTool = defineTool({ name: 'lookup', parameters: z.object({ token: z.string() }), execute: () => 'found' });
const failing = defineTool({ name: 'fail', parameters: z.object({}), execute: () => { throw new Error('nope'); } });

describe('telemetry middleware', () => {
  it('reports start and finish/error of each call with durations from the clock', async () => {
    let now = 0;
    const events: TelemetryEvent[] = [];
    const { engine } = scriptedEngine([{ toolCalls: [{ name: 'lookup', arguments: { token: 't' } }, { name: 'fail', arguments: {} }] }, 'done']);
    const agent = new Agent({
      engine,
      tools: [secretTool, failing],
      defaultMiddleware: { onEvent: (e) => { events.push(e); now += 5; }, toolRetry: false },
      _internal: { now: () => now },
    });
    await agent.run('x');
    const names = events.map((e) => `${e.type}#${e.callIndex}`);
    // The two tools run concurrently: both start before either ends, in either finishing order.
    expect([...names.slice(0, 4), ...names.slice(4, 6).sort(), ...names.slice(6)]).toEqual([
      'model.start#0', 'model.finish#0',
      'tool.start#1', 'tool.start#2', 'tool.error#2', 'tool.finish#1',
      'model.start#3', 'model.finish#3',
    ]);
    const finish = events[1]!;
    expect(finish.type === 'model.finish' && finish.durationMs).toBe(5);
    expect(finish).toMatchObject({ provider: 'scripted', finishReason: 'tool-calls', toolCalls: 2 });
    expect(events.every((e) => e.agentName === 'agent' && typeof e.runId === 'string')).toBe(true);
  });

  it('never lets a throwing observer break the run', async () => {
    const { engine } = scriptedEngine(['fine']);
    const agent = new Agent({ engine, defaultMiddleware: { onEvent: () => { throw new Error('observer bug'); } } });
    expect((await agent.run('x')).text).toBe('fine');
  });
});

describe('logging middleware', () => {
  it('logs ids, counts and timings, not prompts or arguments unless asked', async () => {
    const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
    const logger: Logger = {
      debug: (m, f) => lines.push(['debug', m, f]),
      info: (m, f) => lines.push(['info', m, f]),
      warn: (m, f) => lines.push(['warn', m, f]),
      error: (m, f) => lines.push(['error', m, f]),
    };
    const script = [{ toolCalls: [{ name: 'lookup', arguments: { token: 'sk-SECRET' } }, { name: 'fail', arguments: {} }] }, 'the answer'];
    await new Agent({ engine: scriptedEngine(script).engine, instructions: 'PROMPT-TEXT', tools: [secretTool, failing], defaultMiddleware: { logger, toolRetry: false } }).run('x');
    const dump = JSON.stringify(lines);
    expect(dump).not.toContain('sk-SECRET');
    expect(dump).not.toContain('PROMPT-TEXT');
    const names = lines.map(([level, m]) => `${level}:${m}`);
    expect([...names.slice(0, 4), ...names.slice(4, 6).sort(), ...names.slice(6)]).toEqual([
      'debug:model call started', 'debug:model call finished',
      'debug:tool call started', 'debug:tool call started', 'debug:tool call finished', 'warn:tool call returned an error',
      'debug:model call started', 'debug:model call finished',
    ]);
    expect(lines.find(([level]) => level === 'warn')![2]).toMatchObject({ tool: 'fail', error: { code: 'tool_execution_failed' } });

    lines.length = 0;
    await new Agent({ engine: scriptedEngine(script).engine, instructions: 'PROMPT-TEXT', tools: [secretTool, failing], defaultMiddleware: { logger, logContent: true, toolRetry: false } }).run('x');
    expect(JSON.stringify(lines)).toContain('PROMPT-TEXT');
  });
});
