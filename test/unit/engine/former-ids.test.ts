import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Guards } from '../../../src/engine/guard.js';
import { InternalError } from '../../../src/errors.js';
import { fileStage, removeDir, tempDir, toyPipeline, type ToyApp } from '../../support/engine.js';

/**
 * A stage renamed from 'old-b' to 'b' (formerIds): a cache made under the old id must neither be
 * rebuilt for the rename alone nor lose a guard that says the last run died in that stage.
 */
let app: ToyApp;
beforeEach(async () => {
  // The toy stages take their value by id: the same value under both ids is the same input.
  app = { dir: await tempDir(), inputs: { a: '1', 'old-b': '1', b: '1', c: '1' }, runs: [] };
});
afterEach(async () => removeDir(app.dir));

const before = () => [fileStage('a', []), fileStage('old-b', ['a']), fileStage('c', ['old-b'])];
const after = (extra = {}) => [fileStage('a', []), fileStage('b', ['a'], { formerIds: ['old-b'], ...extra }), fileStage('c', ['b'])];
const stateFile = () => path.join(app.dir, 'state', 'state.json');
const guards = () => new Guards(path.join(app.dir, 'state', 'guards'));

/** The old stage wrote `old-b.out`; the renamed one reads and writes `b.out`, so give it that file. */
async function cacheUnderOldIds(): Promise<void> {
  await toyPipeline(app, before()).run();
  await writeFile(path.join(app.dir, 'b.out'), await readFile(path.join(app.dir, 'old-b.out')));
  const state = JSON.parse(await readFile(stateFile(), 'utf8')) as { stages: Record<string, { outputs: { file: string } }> };
  state.stages['old-b']!.outputs.file = path.join(app.dir, 'b.out');
  await writeFile(stateFile(), JSON.stringify(state));
  app.runs = [];
}

describe('a renamed stage (formerIds)', () => {
  it('takes its record under the old id as its own: nothing re-runs, and later stages read it', async () => {
    await cacheUnderOldIds();
    const plan = await toyPipeline(app, after()).plan();
    expect(plan.map((e) => [e.stage, e.status])).toEqual([
      ['a', 'skip'],
      ['b', 'skip'],
      ['c', 'skip'],
    ]);
    const run = await toyPipeline(app, after()).run({ from: 'c', force: ['c'] });
    expect(app.runs).toEqual(['c']);
    expect(run.outputs.c).toMatchObject({ content: '1|1|1|' });
    // The record moved to the new id when state.json was next written.
    expect(Object.keys(JSON.parse(await readFile(stateFile(), 'utf8')).stages).sort()).toEqual(['a', 'b', 'c']);
  });

  it('re-runs when its inputs changed since, as it would under its old id', async () => {
    await cacheUnderOldIds();
    app.inputs.b = '2';
    await toyPipeline(app, after()).run();
    expect(app.runs).toEqual(['b', 'c']);
  });

  it('repairs when the last run died in it under the old id, then clears that guard', async () => {
    await cacheUnderOldIds();
    await guards().write({ stage: 'old-b', runId: 'killed', pid: 999999, startedAt: '', data: { touching: 'x' } });
    const repaired: unknown[] = [];
    const stages = after({
      repair: (_ctx: unknown, guard: { stage: string; data: unknown }) => Promise.resolve(void repaired.push(guard)),
    });
    expect((await toyPipeline(app, stages).plan())[1]).toMatchObject({ stage: 'b', status: 'repair' });
    await toyPipeline(app, stages).run();
    expect(repaired).toEqual([expect.objectContaining({ stage: 'b', data: { touching: 'x' } })]);
    expect(app.runs).toEqual(['b']);
    expect(await guards().read('b')).toBeUndefined();
    expect(await new Guards(path.join(app.dir, 'state', 'guards')).read('old-b')).toBeUndefined();
  });

  it('a former id that names another stage of the pipeline is an internal error', () => {
    expect(() => toyPipeline(app, [fileStage('a', []), fileStage('b', ['a'], { formerIds: ['a'] })])).toThrow(InternalError);
  });
});
