import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Guards } from '../../../src/engine/guard.js';
import { InternalError } from '../../../src/errors.js';
import { fileStage, removeDir, tempDir, toyPipeline, type ToyApp } from '../../support/engine.js';

let app: ToyApp;
beforeEach(async () => {
  app = { dir: await tempDir(), inputs: { a: '1', b: '1' }, runs: [] };
});
afterEach(async () => removeDir(app.dir));

/** A stage that records what upstreamIfDone('a') gave it (as its input, so the test can read it back). */
const reader = (after: string[], read = 'a') =>
  fileStage('b', after, {
    inputs: ({ upstreamIfDone }) => ({ value: JSON.stringify(upstreamIfDone<{ content: string }>(read) ?? 'not done'), upstream: [] }),
  });

describe('upstreamIfDone', () => {
  it("gives a declared upstream's outputs when it completed, from this run or its record", async () => {
    const summary = await toyPipeline(app, [fileStage('a', []), reader(['a'])]).run();
    expect(summary.outputs.b).toMatchObject({ content: `${JSON.stringify({ file: path.join(app.dir, 'a.out'), content: '1|' })}|` });
    const again = await toyPipeline(app, [fileStage('a', []), reader(['a'])]).run({ only: ['b'], force: ['b'] });
    expect(again.outputs.b).toEqual(summary.outputs.b);
  });

  it('gives undefined when the upstream never completed, or its last run died there', async () => {
    const run = await toyPipeline(app, [fileStage('a', []), reader(['a'])]).run({ only: ['b'] });
    expect(run.outputs.b).toMatchObject({ content: '"not done"|' });

    await toyPipeline(app, [fileStage('a', [])]).run();
    await new Guards(path.join(app.dir, 'state', 'guards')).write({ stage: 'a', runId: 'killed', pid: 999999, startedAt: '', data: {} });
    const died = await toyPipeline(app, [fileStage('a', []), reader(['a'])]).run({ only: ['b'] });
    expect(died.outputs.b).toMatchObject({ content: '"not done"|' });
  });

  it('still fails with an internal error for a stage `after` does not declare', async () => {
    const error = await toyPipeline(app, [fileStage('a', []), reader([])])
      .run()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalError);
    expect((error as InternalError).message).toBe('Stage b reads the outputs of a, which its `after` does not declare.');
  });
});
