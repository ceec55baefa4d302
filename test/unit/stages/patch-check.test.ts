import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromiumPaths } from '../../../src/stages/backends/chromium/paths.js';
import { PatchConflictError } from '../../../src/errors.js';
import type { ConflictReport } from '../../../src/patches/report.js';
import { patchCheckStage } from '../../../src/stages/patch-check.js';
import { CLIENT, git, makeApp, resolveOutput, SERVER, stageContext, tempDir, useQuiche, writeSeries } from '../../support/patch-repos.js';

const fixture = useQuiche();

/** No checkout anywhere: the stage must read the pinned files from the remote (a bare repo here). */
async function setup(pin: 'old' | 'new', entries: Array<{ name: string; content: string }>) {
  const root = await tempDir();
  const remote = path.join(root, 'quiche.git');
  git(root, 'clone', '-q', '--bare', fixture.quiche.dir, remote);
  const app = await makeApp(root);
  await writeSeries(path.join(root, 'patches'), entries);
  const commit = pin === 'old' ? fixture.quiche.oldPin : fixture.quiche.newPin;
  const resolve = { ...resolveOutput(fixture.quiche, commit), quicheUrl: remote };
  const ctx = stageContext(app, { resolve }, 'patch-check');
  return { app, ctx, run: async () => patchCheckStage.run(ctx, await patchCheckStage.inputs(ctx)) };
}

describe('patch-check stage', () => {
  it('dry-runs the series against the pinned files read remotely, before any checkout exists', async () => {
    const { app, run } = await setup('old', [
      { name: '0001-flag.patch', content: fixture.patches.clientFlag },
      { name: '0002-log.patch', content: fixture.patches.serverLog },
    ]);
    const output = await run();
    expect(output.patches.map(({ file, repo, subject }) => ({ file, repo, subject }))).toEqual([
      { file: '0001-flag.patch', repo: 'quiche', subject: 'client: scale steps by a flag' },
      { file: '0002-log.patch', repo: 'quiche', subject: 'server: log every handler' },
    ]);
    expect(output.files).toEqual({ quiche: [SERVER, CLIENT], src: [] });
    expect(output.patchset).toMatch(/^[0-9a-f]{12}$/);
    expect(existsSync(chromiumPaths(app).src)).toBe(false);
    expect(existsSync(app.paths.gitObjects)).toBe(true);
  });

  it('fingerprints the series hashes and only the pins of the repos it patches', async () => {
    const { ctx } = await setup('old', [{ name: '0001-flag.patch', content: fixture.patches.clientFlag }]);
    const inputs = await patchCheckStage.inputs(ctx);
    expect(Object.keys(inputs.pins)).toEqual(['quiche']);
    expect(inputs.pins.quiche?.commit).toBe(fixture.quiche.oldPin);
    expect(inputs.patches[0]).toMatchObject({ name: '0001-flag.patch', repo: 'quiche', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('stops with PatchConflictError carrying the structured report when a patch does not apply at the pin', async () => {
    const { run } = await setup('new', [
      { name: '0001-flag.patch', content: fixture.patches.clientFlag },
      { name: '0002-step20.patch', content: fixture.patches.clientStep20 },
    ]);
    const error = await run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PatchConflictError);
    const report = (error as PatchConflictError).data as ConflictReport;
    expect(report.failed).toEqual(['0002-step20.patch']);
    expect(report.problems[0]).toMatchObject({
      file: CLIENT,
      reason: 'context-mismatch',
      hunk: expect.stringMatching(/^@@ -19,7 \+19,7 @@/),
    });
    expect((error as Error).message).toContain('build-quiche patches rebase --to 152.0.7977.83');
    expect((error as PatchConflictError).exitCode).toBe(4);
  });

  it('passes an empty series as "unpatched" without reading anything', async () => {
    const { app, run } = await setup('old', []);
    expect(await run()).toEqual({ patchset: 'unpatched', patches: [], files: { quiche: [], src: [] } });
    expect(existsSync(app.paths.gitObjects)).toBe(false);
  });
});
