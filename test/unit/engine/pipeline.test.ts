import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PipelineEvent } from '../../../src/engine/events.js';
import { Guards } from '../../../src/engine/guard.js';
import { InternalError, InterruptedError, LockHeldError, UsageError } from '../../../src/errors.js';
import { fileStage, removeDir, tempDir, toyPipeline, type ToyApp } from '../../support/engine.js';

let app: ToyApp;
const stages = () => [fileStage('a', []), fileStage('b', ['a']), fileStage('c', ['b']), fileStage('d', ['a'])];

beforeEach(async () => {
  app = { dir: await tempDir(), inputs: { a: '1', b: '1', c: '1', d: '1' }, runs: [] };
});
afterEach(async () => removeDir(app.dir));

describe('skipping', () => {
  it('runs every stage the first time and none the second', async () => {
    await toyPipeline(app, stages()).run();
    expect(app.runs).toEqual(['a', 'b', 'c', 'd']);
    app.runs = [];
    const summary = await toyPipeline(app, stages()).run();
    expect(app.runs).toEqual([]);
    expect(summary.skipped).toEqual(['a', 'b', 'c', 'd']);
  });

  it('re-runs a stage whose fingerprint matches but whose outputs changed on disk', async () => {
    await toyPipeline(app, stages()).run();
    app.runs = [];
    await writeFile(path.join(app.dir, 'b.out'), 'tampered');
    const events: PipelineEvent[] = [];
    await toyPipeline(app, stages(), events).run();
    expect(app.runs).toEqual(['b']);
    expect(events.find((e) => e.type === 'stage-start')).toMatchObject({ stage: 'b', reason: 'outputs changed on disk: b.out changed' });
  });

  it('changing one input re-runs exactly the stages that depend on it', async () => {
    await toyPipeline(app, stages()).run();
    app.runs = [];
    app.inputs.b = '2';
    await toyPipeline(app, stages()).run();
    expect(app.runs).toEqual(['b', 'c']);
  });

  it('does not re-run dependents when a re-run stage produced the same outputs', async () => {
    await toyPipeline(app, stages()).run();
    app.runs = [];
    await toyPipeline(app, stages()).run({ force: ['a'] });
    expect(app.runs).toEqual(['a']);
  });
});

describe('plan', () => {
  it('names the input that changed and marks dependents as waiting', async () => {
    await toyPipeline(app, stages()).run();
    app.inputs.a = '2';
    const plan = await toyPipeline(app, stages()).plan();
    expect(plan.map((e) => [e.stage, e.status])).toEqual([
      ['a', 'stale'],
      ['b', 'waits'],
      ['c', 'waits'],
      ['d', 'waits'],
    ]);
    expect(plan[0]!.reason).toBe('changed: value');
  });
});

describe('selection', () => {
  it('--from, --until and --only select stages; unknown ids name the valid ones', () => {
    const pipeline = toyPipeline(app, stages());
    expect(pipeline.select({ from: 'b', until: 'c' })).toEqual(['b', 'c']);
    expect(pipeline.select({ only: ['d', 'a'] })).toEqual(['a', 'd']);
    expect(() => pipeline.select({ from: 'x' })).toThrow(UsageError);
    expect(() => pipeline.select({ from: 'x' })).toThrow(/Stages: a, b, c, d/);
  });

  it("--from uses earlier stages' recorded outputs and fails clearly without them", async () => {
    await expect(toyPipeline(app, stages()).run({ from: 'b' })).rejects.toThrow(/Stage a has not completed yet/);
    await toyPipeline(app, stages()).run({ until: 'a' });
    app.runs = [];
    await toyPipeline(app, stages()).run({ from: 'b' });
    expect(app.runs).toEqual(['b', 'c', 'd']);
  });
});

describe('state, guards and repair', () => {
  it('--from refuses the recorded outputs of an earlier stage whose last run died, instead of trusting them', async () => {
    await toyPipeline(app, stages()).run();
    await new Guards(path.join(app.dir, 'state', 'guards')).write({ stage: 'a', runId: 'killed', pid: 999999, startedAt: '', data: {} });
    const error = await toyPipeline(app, stages())
      .run({ from: 'b' })
      .catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(/the last run died in a/);
  });

  it('writes a record only after success, and keeps a guard that makes the next run repair', async () => {
    const repaired: string[] = [];
    const withRepair = () => [fileStage('a', []), fileStage('b', ['a'], { repair: () => Promise.resolve(void repaired.push('b')) })];
    app.failIn = 'b';
    await expect(toyPipeline(app, withRepair()).run()).rejects.toThrow(/b failed on purpose/);
    const state = JSON.parse(await readFile(path.join(app.dir, 'state', 'state.json'), 'utf8'));
    expect(Object.keys(state.stages)).toEqual(['a']);
    expect(await new Guards(path.join(app.dir, 'state', 'guards')).read('b')).toMatchObject({
      stage: 'b',
      failure: { message: 'b failed on purpose' },
    });

    app.failIn = undefined;
    app.runs = [];
    const plan = await toyPipeline(app, withRepair()).plan();
    expect(plan[1]).toMatchObject({ stage: 'b', status: 'repair' });
    await toyPipeline(app, withRepair()).run();
    expect(repaired).toEqual(['b']);
    expect(app.runs).toEqual(['b']);
    expect(await new Guards(path.join(app.dir, 'state', 'guards')).read('b')).toBeUndefined();
  });

  it('repairs a stage whose guard was left by a killed run even when its record looks current', async () => {
    await toyPipeline(app, stages()).run();
    await mkdir(path.join(app.dir, 'state', 'guards'), { recursive: true });
    await new Guards(path.join(app.dir, 'state', 'guards')).write({ stage: 'c', runId: 'killed', pid: 999999, startedAt: '', data: {} });
    app.runs = [];
    await toyPipeline(app, stages()).run();
    expect(app.runs).toEqual(['c']);
  });

  it('an interruption while verifying an up-to-date stage writes no failure guard: the record stays valid', async () => {
    await toyPipeline(app, stages()).run();
    const controller = new AbortController();
    // Ctrl-C while b's up-to-date check (compile's dry run) runs: the check reports it could not tell.
    const interrupted = () => [
      fileStage('a', []),
      fileStage('b', ['a'], { verify: () => (controller.abort(), Promise.resolve('dry run interrupted')) }),
      fileStage('c', ['b']),
    ];
    app.runs = [];
    await expect(toyPipeline(app, interrupted()).run({ signal: controller.signal })).rejects.toBeInstanceOf(InterruptedError);
    expect(app.runs).toEqual([]);
    expect(await new Guards(path.join(app.dir, 'state', 'guards')).read('b')).toBeUndefined();
    await toyPipeline(app, stages()).run();
    expect(app.runs).toEqual([]);
  });

  it('writes no guard for a pure stage, so its failure leaves nothing behind', async () => {
    app.failIn = 'a';
    await expect(toyPipeline(app, [fileStage('a', [], { pure: true })]).run()).rejects.toThrow();
    expect(await new Guards(path.join(app.dir, 'state', 'guards')).read('a')).toBeUndefined();
  });
});

/** A stage that holds the run (and so the lock) until released. */
function blockingStage() {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const blocker = fileStage('a', [], {
    run: async () => {
      await held;
      return { file: path.join(app.dir, 'a.out'), content: '' };
    },
  });
  return { blocker, release: () => release() };
}

describe('the run lock', () => {
  it('refuses a second concurrent run, naming the holder pid', async () => {
    const { blocker, release } = blockingStage();
    const first = toyPipeline(app, [blocker]).run();
    await new Promise((r) => setTimeout(r, 100));
    const second = toyPipeline(app, [fileStage('a', [])], [], 200).run();
    await expect(second).rejects.toThrow(LockHeldError);
    await expect(second).rejects.toThrow(new RegExp(`pid ${process.pid}`));
    release();
    await first;
  });

  it('waits for the lock when the holder finishes within the wait time', async () => {
    const { blocker, release } = blockingStage();
    const first = toyPipeline(app, [blocker]).run();
    await new Promise((r) => setTimeout(r, 100));
    const events: PipelineEvent[] = [];
    const second = toyPipeline(app, [fileStage('b', [])], events, 5000).run();
    setTimeout(() => release(), 300);
    await first;
    await second;
    expect(events.some((e) => e.type === 'lock-wait')).toBe(true);
  });

  it('takes over a lock whose holder is dead', async () => {
    await mkdir(path.join(app.dir, 'state'), { recursive: true });
    const os = await import('node:os');
    await writeFile(
      path.join(app.dir, 'state', 'run.lock'),
      JSON.stringify({ pid: 999999, hostname: os.hostname(), startedAt: 'x', command: 'build', children: [] }),
    );
    const events: PipelineEvent[] = [];
    await toyPipeline(app, stages(), events).run();
    expect(events.find((e) => e.type === 'lock-stale')).toMatchObject({ holderPid: 999999 });
  });
});

describe('declared dependencies', () => {
  it('a stage reading the outputs of a stage its after does not list fails with an internal error naming both', async () => {
    const sneaky = fileStage('e', ['a'], {
      inputs: ({ upstream }) => ({ value: upstream<{ content: string }>('b').content, upstream: [] }),
    });
    const error = await toyPipeline(app, [...stages(), sneaky])
      .run()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalError);
    expect((error as InternalError).message).toBe('Stage e reads the outputs of b, which its `after` does not declare.');
  });
});
