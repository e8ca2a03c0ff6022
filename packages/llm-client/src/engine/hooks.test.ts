import { describe, expect, it } from 'vitest';
import { HookEmitter } from './hooks.js';

interface Events {
  ping: { n: number };
  pong: { s: string };
}

describe('HookEmitter', () => {
  it('calls handlers in order with typed payloads; on() returns an unsubscribe function', () => {
    const hooks = new HookEmitter<Events>();
    const seen: string[] = [];
    const off = hooks.on('ping', (e) => void seen.push(`a${e.n}`));
    hooks.on('ping', (e) => void seen.push(`b${e.n}`));
    expect(hooks.has('ping')).toBe(true);
    expect(hooks.has('pong')).toBe(false);
    hooks.emit('ping', { n: 1 });
    off();
    hooks.emit('ping', { n: 2 });
    expect(seen).toEqual(['a1', 'b1', 'b2']);
  });

  it('a throwing or rejecting handler never breaks the emitter and is reported', async () => {
    const reported: unknown[] = [];
    const hooks = new HookEmitter<Events>({ onHandlerError: (error, name) => void reported.push([name, (error as Error).message]) });
    const seen: string[] = [];
    hooks.on('pong', () => {
      throw new Error('sync');
    });
    hooks.on('pong', async () => {
      throw new Error('async');
    });
    hooks.on('pong', (e) => void seen.push(e.s));
    expect(() => hooks.emit('pong', { s: 'ok' })).not.toThrow();
    await Promise.resolve();
    expect(seen).toEqual(['ok']);
    expect(reported).toEqual([
      ['pong', 'sync'],
      ['pong', 'async'],
    ]);
  });

  it('takes handlers at construction, and a handler removed during an emit does not disturb it', () => {
    const seen: number[] = [];
    const hooks = new HookEmitter<Events>({ handlers: { ping: (e) => void seen.push(e.n) } });
    const off: () => void = hooks.on('ping', () => off());
    hooks.on('ping', (e) => void seen.push(e.n * 10));
    hooks.emit('ping', { n: 1 });
    hooks.emit('ping', { n: 2 });
    expect(seen).toEqual([1, 10, 2, 20]);
  });
});
