import type { AgentMiddleware, Tool } from '@baton/llm-client';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineActionType } from '../actions/action-type.js';
import type { Plugin, PluginManifest } from './plugin.js';
import { PluginRegistry } from './plugin-registry.js';

const tool = (name: string): Tool => ({ name, description: name, parameters: z.object({}), jsonSchema: {}, execute: () => name, metadata: {}, toModelOutput: String, definition: () => ({ name, parameters: {} }) });
const middleware = (name: string): AgentMiddleware => ({ name });

function plugin(manifest: PluginManifest, log: string[] = [], fail?: 'init' | 'dispose'): Plugin {
  return {
    manifest,
    init: () => {
      if (fail === 'init') throw new Error(`${manifest.name} cannot start`);
      log.push(`init ${manifest.name}`);
    },
    dispose: () => {
      log.push(`dispose ${manifest.name}`);
      if (fail === 'dispose') throw new Error(`${manifest.name} cannot stop`);
    },
  };
}

describe('PluginRegistry', () => {
  it('initializes in dependency order and disposes in reverse', async () => {
    const log: string[] = [];
    const registry = new PluginRegistry({
      plugins: [
        plugin({ name: 'app', version: '1.0.0', requires: { crm: '^2.1.0', auth: '>=1.0.0' } }, log),
        plugin({ name: 'crm', version: '2.3.1', requires: { auth: '~1.4.0' } }, log),
        plugin({ name: 'auth', version: '1.4.7' }, log),
        plugin({ name: 'metrics', version: '0.1.0' }, log),
      ],
    });
    expect(registry.initOrder()).toEqual(['auth', 'crm', 'app', 'metrics']);
    await registry.initAll();
    await registry.initAll();
    expect(registry.state).toBe('ready');
    await registry.disposeAll();
    expect(log).toEqual(['init auth', 'init crm', 'init app', 'init metrics', 'dispose metrics', 'dispose app', 'dispose crm', 'dispose auth']);
    expect(registry.state).toBe('disposed');
  });

  it('looks up what plugins provide, and lets init see earlier plugins', async () => {
    const approval = defineActionType({ name: 'pick-slot', resolutionSchema: z.object({ slot: z.string() }) });
    let seen: Tool | undefined;
    const registry = new PluginRegistry();
    registry.register({ manifest: { name: 'calendar', version: '1.0.0', provides: { tools: [tool('calendar.book')], actionTypes: [approval], operators: [{ name: 'fan-out' }], middleware: [middleware('cal-mw')] } } });
    registry.register({
      manifest: { name: 'assistant', version: '1.0.0', requires: { calendar: '^1.0.0' }, provides: { policies: [{ name: 'assistant', version: '1' }], middleware: [middleware('assist-mw')] } },
      init: (ctx) => void (seen = ctx.registry.getTool('calendar.book')),
    });
    await registry.initAll();
    expect(seen?.name).toBe('calendar.book');
    expect(registry.tools().map((t) => t.name)).toEqual(['calendar.book']);
    expect(registry.getActionType('pick-slot')).toBe(approval);
    expect(registry.getOperator('fan-out')).toEqual({ name: 'fan-out' });
    expect(registry.getPolicySet('assistant', '1')?.name).toBe('assistant');
    expect(registry.middleware().map((m) => m.name)).toEqual(['cal-mw', 'assist-mw']);
    expect(registry.providerOf('tool', 'calendar.book')).toBe('calendar');
  });

  it('refuses the same plugin name with another version', () => {
    const registry = new PluginRegistry({ plugins: [plugin({ name: 'crm', version: '1.0.0' })] });
    expect(() => registry.register(plugin({ name: 'crm', version: '2.0.0' }))).toThrow(
      expect.objectContaining({ code: 'plugin_conflict', kind: 'plugin', existingPlugin: "'crm@1.0.0'", incomingPlugin: "'crm@2.0.0'" }),
    );
    const same = plugin({ name: 'x', version: '1.0.0' });
    expect(() => registry.register(same).register(same)).not.toThrow();
  });

  it('refuses two plugins providing one tool name, naming both, and registers nothing of the second', () => {
    const registry = new PluginRegistry({ plugins: [plugin({ name: 'a', version: '1.0.0', provides: { tools: [tool('send_email')] } })] });
    expect(() => registry.register(plugin({ name: 'b', version: '1.0.0', provides: { tools: [tool('search'), tool('send_email')] } }))).toThrow(
      expect.objectContaining({ code: 'plugin_conflict', kind: 'tool', conflictName: 'send_email', existingPlugin: "'a@1.0.0'", incomingPlugin: "'b@1.0.0'" }),
    );
    expect(registry.getPlugin('b')).toBeUndefined();
    expect(registry.getTool('search')).toBeUndefined();
    expect(() => registry.register(plugin({ name: 'c', version: '1.0.0', provides: { actionTypes: [defineActionType({ name: 'approval', resolutionSchema: z.any() })] } }))).not.toThrow();
    expect(() => registry.register(plugin({ name: 'd', version: '1.0.0', provides: { actionTypes: [defineActionType({ name: 'approval', resolutionSchema: z.any() })] } }))).toThrow(
      expect.objectContaining({ kind: 'actionType' }),
    );
  });

  it('names both plugins when a requirement is missing or out of range', async () => {
    const missing = new PluginRegistry({ plugins: [plugin({ name: 'app', version: '1.0.0', requires: { crm: '^2.0.0' } })] });
    await expect(missing.initAll()).rejects.toMatchObject({ code: 'plugin_requirement_unmet', plugin: 'app', required: 'crm', range: '^2.0.0', foundVersion: undefined });
    const old = new PluginRegistry({ plugins: [plugin({ name: 'app', version: '1.0.0', requires: { crm: '^2.0.0' } }), plugin({ name: 'crm', version: '1.9.0' })] });
    await expect(old.initAll()).rejects.toMatchObject({ code: 'plugin_requirement_unmet', message: expect.stringMatching(/'app' requires 'crm@\^2\.0\.0', but 'crm@1\.9\.0'/) });
  });

  it('reports a requirement cycle', () => {
    const registry = new PluginRegistry({
      plugins: [plugin({ name: 'a', version: '1.0.0', requires: { b: '*' } }), plugin({ name: 'b', version: '1.0.0', requires: { c: '*' } }), plugin({ name: 'c', version: '1.0.0', requires: { a: '*' } })],
    });
    expect(() => registry.initOrder()).toThrow(expect.objectContaining({ code: 'plugin_dependency_cycle', cycle: ['a', 'b', 'c', 'a'] }));
  });

  it('disposes what was initialized when an init fails, and keeps disposing past a failing dispose', async () => {
    const log: string[] = [];
    const registry = new PluginRegistry({
      plugins: [plugin({ name: 'a', version: '1.0.0' }, log), plugin({ name: 'b', version: '1.0.0' }, log, 'init'), plugin({ name: 'c', version: '1.0.0' }, log)],
    });
    await expect(registry.initAll()).rejects.toMatchObject({ code: 'plugin_init_failed', plugin: 'b' });
    expect(log).toEqual(['init a', 'dispose a']);
    expect(registry.state).toBe('registering');

    const log2: string[] = [];
    const second = new PluginRegistry({ plugins: [plugin({ name: 'a', version: '1.0.0' }, log2), plugin({ name: 'b', version: '1.0.0' }, log2, 'dispose'), plugin({ name: 'c', version: '1.0.0' }, log2)] });
    await second.initAll();
    await expect(second.disposeAll()).rejects.toMatchObject({ code: 'plugin_dispose_failed', plugins: ['b'] });
    expect(log2.slice(3)).toEqual(['dispose c', 'dispose b', 'dispose a']);
    expect(() => second.register(plugin({ name: 'late', version: '1.0.0' }))).toThrow(expect.objectContaining({ code: 'plugin_lifecycle' }));
  });

  it('rejects malformed manifests at once', () => {
    const registry = new PluginRegistry();
    expect(() => registry.register(plugin({ name: 'x', version: '1.0' }))).toThrow(expect.objectContaining({ argument: 'manifest.version' }));
    expect(() => registry.register(plugin({ name: 'bad name', version: '1.0.0' }))).toThrow(expect.objectContaining({ argument: 'manifest.name' }));
    expect(() => registry.register(plugin({ name: 'x', version: '1.0.0', requires: { y: 'latest' } }))).toThrow(expect.objectContaining({ argument: 'manifest.requires.y' }));
    expect(() => registry.register(plugin({ name: 'x', version: '1.0.0', provides: { tools: [tool('t'), tool('t')] } }))).toThrow(expect.objectContaining({ code: 'plugin_conflict' }));
  });
});
