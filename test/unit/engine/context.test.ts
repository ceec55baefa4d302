import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStageContext, verifyExec } from '../../../src/engine/context.js';
import type { ChildTracker } from '../../../src/process/exec.js';
import { LogFile } from '../../../src/process/log-file.js';

/**
 * A stage's exec keeps the stage's log, abort signal and lock tracking even when a caller's options
 * name them as undefined (tools/cmake's build passed its own optional fields through, and the whole
 * `cmake --build` of every dependency went unlogged, untracked and deaf to Ctrl-C).
 */
describe('the stage exec', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bq-context-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const recordingTracker = () => {
    const added: number[] = [];
    const tracker: ChildTracker = { add: (child) => void added.push(child.pid), remove: () => {} };
    return { tracker, added };
  };

  it('logs, tracks and can be aborted when the options say log/signal/tracker: undefined', async () => {
    const log = new LogFile(path.join(dir, 'stage.log'));
    const { tracker, added } = recordingTracker();
    const controller = new AbortController();
    const ctx = createStageContext({
      input: {} as never,
      stageId: 'dependency-builds',
      runId: 'run',
      log,
      signal: controller.signal,
      emit: () => {},
      tracker,
    });
    await ctx.exec('sh', ['-c', 'echo printed-by-the-child'], { log: undefined, signal: undefined, tracker: undefined });
    expect(added).toHaveLength(1);

    const sleeping = ctx.exec('sleep', ['30'], { log: undefined, signal: undefined, tracker: undefined });
    setTimeout(() => controller.abort(), 200);
    await expect(sleeping).rejects.toThrow(/Interrupted/);
    await log.close();
    expect(await readFile(log.path, 'utf8')).toContain('printed-by-the-child');
  });

  it("verify's exec does the same", async () => {
    const { tracker, added } = recordingTracker();
    const logFile = path.join(dir, 'verify.log');
    const verify = verifyExec(logFile, new AbortController().signal, tracker);
    await verify.exec('sh', ['-c', 'echo checked'], { log: undefined, tracker: undefined });
    await verify.close();
    expect(added).toHaveLength(1);
    expect(await readFile(logFile, 'utf8')).toContain('checked');
  });
});
