import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidArgumentError, ToolArgumentsError } from '../errors/index.js';
import { defineTool } from './define-tool.js';
import { parseToolArguments } from './parse-tool-arguments.js';
import { ToolSet } from './tool-set.js';

const weather = defineTool({
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: z.object({ city: z.string().describe('City name'), units: z.enum(['c', 'f']).default('c') }),
  execute: ({ city, units }) => ({ city, units, tempC: 21 }),
});

describe('defineTool', () => {
  it('derives the JSON schema the model sees from zod', () => {
    expect(weather.jsonSchema).toEqual({
      type: 'object',
      properties: { city: { type: 'string', description: 'City name' }, units: { type: 'string', enum: ['c', 'f'], default: 'c' } },
      required: ['city'],
    });
    expect(weather.definition()).toEqual({ name: 'get_weather', description: 'Current weather for a city', parameters: weather.jsonSchema });
    expect(weather.metadata).toEqual({});
    const toText = weather.toModelOutput as (output: unknown) => string;
    expect(toText({ a: 1 })).toBe('{"a":1}');
    expect(toText('plain')).toBe('plain');
  });

  it('rejects bad names, non-object schemas and schemas JSON cannot express', () => {
    const base = { description: 'x', parameters: z.object({}), execute: () => 1 };
    for (const name of ['', 'has space', 'a'.repeat(65), 'dots.not.ok', 42]) {
      expect(() => defineTool({ ...base, name: name as string })).toThrow(InvalidArgumentError);
    }
    expect(() => defineTool({ ...base, name: 'ok-Name_1' })).not.toThrow();
    expect(() => defineTool({ ...base, name: 's', parameters: z.string() as never })).toThrow(/object schema/);
    expect(() => defineTool({ ...base, name: 'd', parameters: z.object({ when: z.date() }) })).toThrow(InvalidArgumentError);
    expect(() => defineTool({ ...base, name: 'p', parameters: { city: 'string' } as never })).toThrow(/zod schema/);
    expect(() => defineTool({ ...base, name: 'e', execute: 'no' as never })).toThrow(/execute/);
  });
});

describe('parseToolArguments', () => {
  const call = (args: string) => ({ id: 'c1', name: 'get_weather', arguments: args });

  it('parses and applies defaults', async () => {
    expect(await parseToolArguments(weather.parameters, call('{"city":"Paris"}'))).toEqual({ ok: true, args: { city: 'Paris', units: 'c' } });
  });

  it('reports invalid JSON', async () => {
    const r = await parseToolArguments(weather.parameters, call('{"city": Paris'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(ToolArgumentsError);
    expect(r.error.message).toMatch(/not valid JSON/);
  });

  it('reports schema violations concisely, with paths', async () => {
    const r = await parseToolArguments(weather.parameters, call('{"city":3,"units":"k"}'));
    if (r.ok) throw new Error('expected a failure');
    expect(r.error.message).toBe(
      "Invalid arguments for tool 'get_weather': city: expected string, received number; units: expected one of \"c\"|\"f\"",
    );
    expect(r.error.issues).toHaveLength(2);
  });

  it('rejects arguments that are not JSON text (a malformed recording)', async () => {
    const r = await parseToolArguments(weather.parameters, { id: 'c1', name: 'get_weather', arguments: { city: 'x' } as never });
    expect(r.ok).toBe(false);
  });

  it('treats empty arguments as an empty object', async () => {
    expect(await parseToolArguments(z.object({}), call(''))).toEqual({ ok: true, args: {} });
  });
});

describe('ToolSet', () => {
  it('rejects duplicate names and keeps the given order', () => {
    const other = defineTool({ name: 'other', parameters: z.object({}), execute: () => 'x' });
    expect(() => new ToolSet([weather, other, weather])).toThrow(/duplicate tool name 'get_weather'/);
    expect(new ToolSet([other, weather]).definitions.map((d) => d.name)).toEqual(['other', 'get_weather']);
    expect(() => new ToolSet([{ name: 'fake' } as never])).toThrow(InvalidArgumentError);
  });
});
