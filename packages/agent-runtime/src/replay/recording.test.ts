import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidRecordingError } from '../errors/orchestration-errors.js';
import { InMemoryEventBus } from '../events/in-memory-event-bus.js';
import type { RuntimeEvent } from '../events/runtime-event.js';
import { scope } from '../orchestration/orchestration.test.helpers.js';
import { Recording } from './recording.js';
import { ReplayMode, ReplayPlayer } from './replay-player.js';
import { ReplayRecorder } from './replay-recorder.js';
import { clockedStores, weatherKernel, weatherModel } from './replay.test.helpers.js';
import { RunMetadata } from './run-metadata.js';

async function recordWeatherRun() {
  const s = clockedStores();
  const kernel = weatherKernel(s, weatherModel(), []);
  const metadata = RunMetadata.create({ runtimeVersion: '0.0.0', modelVersion: 'scripted-1', labels: { suite: 'replay' } }, { now: () => 42 });
  const recorder = new ReplayRecorder(s.events, metadata, { journal: s.journal, jobs: s.jobs, filter: { scopeId: scope.scopeId } });
  recorder.start('Weather in Paris?');
  const handle = await kernel.execute({ ...scope, input: 'Weather in Paris?' });
  await handle.result();
  const recording = await recorder.stop();
  return { recording, jobId: handle.jobId };
}

function collect(bus: InMemoryEventBus): RuntimeEvent[] {
  const seen: RuntimeEvent[] = [];
  bus.subscribe((e) => void seen.push(e));
  return seen;
}

describe('ReplayRecorder and Recording', () => {
  it('records events, jobs and journals; saves and loads the versioned file', async () => {
    const { recording, jobId } = await recordWeatherRun();
    const types = recording.events.map((e) => e.type);
    expect(types[0]).toBe('job.created');
    expect(types).toContain('tool.completed');
    expect(types.at(-1)).toBe('job.completed');
    expect(recording.events.map((e) => e.seq)).toEqual(recording.events.map((_, i) => i + 1));
    expect(recording.journal(jobId).map((e) => e.kind)).toEqual(['model', 'tool', 'model']);
    expect(recording.job(jobId)).toMatchObject({ principalId: 'alice', input: 'Weather in Paris?', status: 'completed', result: { text: 'It is sunny in Paris.' } });
    expect(recording.metadata.toJSON()).toEqual({ runtimeVersion: '0.0.0', modelVersion: 'scripted-1', recordedAt: 42, labels: { suite: 'replay' } });

    const dir = await mkdtemp(join(tmpdir(), 'baton-rec-'));
    const path = join(dir, 'run.json');
    await recording.save(path);
    const file = JSON.parse(await readFile(path, 'utf8')) as { format: string; formatVersion: number };
    expect(file).toMatchObject({ format: 'baton.recording', formatVersion: 1 });
    const loaded = await Recording.load(path);
    expect(loaded.events).toEqual(recording.events);
    expect(loaded.journal(jobId)).toEqual(recording.journal(jobId));
    expect(loaded.initialInput).toBe('Weather in Paris?');
  });

  it('refuses a missing file, non-JSON, another format version and a corrupt event with InvalidRecordingError', async () => {
    const { recording } = await recordWeatherRun();
    const dir = await mkdtemp(join(tmpdir(), 'baton-rec-'));
    await expect(Recording.load(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'invalid_recording', issue: expect.stringContaining('ENOENT') });
    await writeFile(join(dir, 'text.json'), 'not json');
    await expect(Recording.load(join(dir, 'text.json'))).rejects.toBeInstanceOf(InvalidRecordingError);
    const json = recording.toJSON();
    await writeFile(join(dir, 'v2.json'), JSON.stringify({ ...json, formatVersion: 2 }));
    await expect(Recording.load(join(dir, 'v2.json'))).rejects.toMatchObject({ issue: expect.stringContaining('format version 2') });
    const events = [...json.events] as Array<Record<string, unknown>>;
    events[2] = { ...events[2], type: 'job.exploded' };
    await writeFile(join(dir, 'bad-event.json'), JSON.stringify({ ...json, events }));
    await expect(Recording.load(join(dir, 'bad-event.json'))).rejects.toMatchObject({ code: 'invalid_recording', issue: expect.stringMatching(/^events\.2: /) });
    await writeFile(join(dir, 'bad-journal.json'), JSON.stringify({ ...json, journals: { x: [{ seq: -1 }] } }));
    await expect(Recording.load(join(dir, 'bad-journal.json'))).rejects.toMatchObject({ issue: expect.stringMatching(/^journals\.x\.0/) });
  });
});

describe('ReplayPlayer', () => {
  it('replays fast, in order, onto another bus', async () => {
    const { recording } = await recordWeatherRun();
    const bus = new InMemoryEventBus();
    const seen = collect(bus);
    const stats = await new ReplayPlayer(recording, bus).replay({ mode: ReplayMode.FAST });
    await new Promise((r) => setImmediate(r));
    expect(stats.events).toBe(recording.events.length);
    expect(seen.map((e) => [e.type, e.seq, e.at])).toEqual(recording.events.map((e) => [e.type, e.seq, e.at]));
  });

  it('replays timed, keeping the original spacing divided by the speed (clock injected)', async () => {
    const { recording } = await recordWeatherRun();
    const slept: number[] = [];
    const player = new ReplayPlayer(recording, new InMemoryEventBus(), { _internal: { sleep: async (ms) => void slept.push(ms) } });
    await player.replay({ mode: ReplayMode.TIMED, speed: 2 });
    const span = recording.events.at(-1)!.at - recording.events[0]!.at;
    expect(slept.reduce((a, b) => a + b, 0)).toBe(span / 2);
    const gaps = recording.events.slice(1).map((e, i) => (e.at - recording.events[i]!.at) / 2);
    expect(slept).toEqual(gaps.filter((g) => g > 0));
    expect(slept.length).toBeGreaterThan(5);
    await expect(player.replay({ mode: ReplayMode.TIMED, speed: 0 })).rejects.toMatchObject({ code: 'invalid_argument', argument: 'speed' });
  });

  it('step() publishes one event per pull, and maps job ids', async () => {
    const { recording, jobId } = await recordWeatherRun();
    const bus = new InMemoryEventBus();
    const player = new ReplayPlayer(recording, bus, { mapJobId: (id) => `replay-${id}` });
    const steps = player.step();
    const first = await steps.next();
    expect(first.value).toMatchObject({ type: 'job.created', jobId: `replay-${jobId}`, seq: 1 });
    expect(await bus.replay({ jobId: `replay-${jobId}`, scopeId: scope.scopeId })).toHaveLength(1);
    let rest = 0;
    for await (const _e of steps) rest++;
    expect(rest).toBe(recording.events.length - 1);
  });
});
