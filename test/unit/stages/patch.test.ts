import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { AppContext } from '../../../src/stages/context.js';
import type { ResolveOutput } from '../../../src/stages/resolve.js';
import { Pipeline } from '../../../src/engine/pipeline.js';
import { defineStage } from '../../../src/engine/stage.js';
import { DirtyTreeError, PatchConflictError } from '../../../src/errors.js';
import { readLedger } from '../../../src/patches/ledger.js';
import type { ConflictReport } from '../../../src/patches/report.js';
import { patchCheckStage } from '../../../src/stages/patch-check.js';
import { patchStage } from '../../../src/stages/patch.js';
import { sha256 } from '../../../src/util/fs.js';
import {
  CLIENT,
  git,
  HELPER,
  makeCheckout,
  makePatch,
  mtimes,
  quicheFiles,
  resolveOutput,
  SERVER,
  stageContext,
  treeHashes,
  useQuiche,
  writeSeries,
  type FakeCheckout,
  type SeriesEntryFixture,
} from '../../support/patch-repos.js';

const fixture = useQuiche();

async function runPatch(co: FakeCheckout, ctx = stageContext(co.app, { checkout: co.checkout })) {
  const inputs = await patchStage.inputs(ctx);
  const outputs = await patchStage.run(ctx, inputs);
  return { ctx, inputs, outputs };
}

const series = (co: FakeCheckout, ...entries: SeriesEntryFixture[]) => writeSeries(co.seriesDir, entries);
const read = (co: FakeCheckout, file: string) => readFile(path.join(co.quicheRoot, file), 'utf8');
/** mtimes have ns resolution, but give a rewrite a tick to show up. */
const tick = () => sleep(20);

const serverLogV2 = () =>
  makePatch(fixture.quiche.dir, fixture.quiche.oldPin, 'server: log handler 6 too', [
    { file: SERVER, replace: [['void handler_06() {}', 'void handler_06() { Log(); }']] },
  ]);

describe('patch stage', () => {
  it('applies the series and records every changed file in the ledger', async () => {
    const co = await makeCheckout(fixture.quiche, fixture.quiche.oldPin);
    await series(
      co,
      { name: '0001-flag.patch', content: fixture.patches.clientFlag },
      { name: '0002-helper.patch', content: fixture.patches.addHelper },
    );
    const { outputs } = await runPatch(co);
    expect(await read(co, CLIENT)).toContain('return 5 * flag; }');
    expect(await read(co, HELPER)).toContain('Helper()');
    const ledger = await readLedger(co.app.paths.appliedPatches);
    expect(ledger?.repos.quiche).toEqual({
      root: co.quicheRoot,
      baseCommit: fixture.quiche.oldPin,
      files: [
        { path: HELPER, baseSha256: null, resultSha256: sha256(await read(co, HELPER)), patches: ['0002-helper.patch'] },
        {
          path: CLIENT,
          baseSha256: sha256(quicheFiles('old')[CLIENT]!),
          resultSha256: sha256(await read(co, CLIENT)),
          patches: ['0001-flag.patch'],
        },
      ],
    });
    expect(outputs).toEqual({
      patchset: ledger!.patchset,
      files: ledger!.repos.quiche!.files.map(({ patches: _, ...file }) => ({ repo: 'quiche', ...file })),
    });
  });

  it('touches no file when run again with the same series (mtimes kept)', async () => {
    const co = await makeCheckout(fixture.quiche, fixture.quiche.oldPin);
    await series(
      co,
      { name: '0001-flag.patch', content: fixture.patches.clientFlag },
      { name: '0002-log.patch', content: fixture.patches.serverLog },
    );
    await runPatch(co);
    const before = await mtimes(co.quicheRoot, [CLIENT, SERVER]);
    await tick();
    const { ctx } = await runPatch(co);
    expect(await mtimes(co.quicheRoot, [CLIENT, SERVER])).toEqual(before);
    expect(ctx.notes.at(-1)).toMatch(/0 files written, 2 already up to date/);
  });

  it('rewrites only the files of an edited patch; the others keep their mtimes', async () => {
    const co = await makeCheckout(fixture.quiche, fixture.quiche.oldPin);
    await series(
      co,
      { name: '0001-flag.patch', content: fixture.patches.clientFlag },
      { name: '0002-log.patch', content: fixture.patches.serverLog },
    );
    await runPatch(co);
    const before = await mtimes(co.quicheRoot, [CLIENT, SERVER]);
    await tick();
    await series(
      co,
      { name: '0001-flag.patch', content: fixture.patches.clientFlag },
      { name: '0002-log.patch', content: await serverLogV2() },
    );
    await runPatch(co);
    const after = await mtimes(co.quicheRoot, [CLIENT, SERVER]);
    expect(after[CLIENT]).toBe(before[CLIENT]);
    expect(after[SERVER]).not.toBe(before[SERVER]);
    expect(await read(co, SERVER)).toContain('void handler_06() { Log(); }');
    expect(await read(co, SERVER)).toContain('void handler_05() {}');
  });

  it('restores the files of a patch dropped from the series to upstream', async () => {
    const co = await makeCheckout(fixture.quiche, fixture.quiche.oldPin);
    await series(
      co,
      { name: '0001-flag.patch', content: fixture.patches.clientFlag },
      { name: '0002-log.patch', content: fixture.patches.serverLog },
    );
    await runPatch(co);
    await series(co, { name: '0001-flag.patch', content: fixture.patches.clientFlag });
    const { outputs } = await runPatch(co);
    expect(await read(co, SERVER)).toBe(quicheFiles('old')[SERVER]);
    expect(outputs.files.map((file) => file.path)).toEqual([CLIENT]);
    expect(git(co.quicheRoot, 'status', '--porcelain')).toBe(` M ${CLIENT}\n`);
  });

  it('creates the file of an add-file patch, and deletes it when the patch leaves the series', async () => {
    const co = await makeCheckout(fixture.quiche, fixture.quiche.oldPin);
    await series(co, { name: '0001-helper.patch', content: fixture.patches.addHelper });
    await runPatch(co);
    expect(await read(co, HELPER)).toContain('Helper()');
    await series(co);
    const { outputs } = await runPatch(co);
    expect(await readdir(path.dirname(path.join(co.quicheRoot, HELPER)))).not.toContain(path.basename(HELPER));
    expect(outputs).toEqual({ patchset: 'unpatched', files: [] });
    expect(git(co.quicheRoot, 'status', '--porcelain')).toBe('');
  });

  it('leaves every file byte-identical on a conflict and reports it', async () => {
    const co = await makeCheckout(fixture.quiche, fixture.quiche.newPin);
    await series(
      co,
      { name: '0001-flag.patch', content: fixture.patches.clientFlag },
      { name: '0002-log.patch', content: fixture.patches.serverLog },
    );
    await runPatch(co);
    const tree = await treeHashes(co.quicheRoot);
    const ledger = await readFile(co.app.paths.appliedPatches, 'utf8');
    await series(
      co,
      { name: '0001-log.patch', content: await serverLogV2() },
      { name: '0002-step20.patch', content: fixture.patches.clientStep20 },
    );
    const error = await runPatch(co).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PatchConflictError);
    expect((error as PatchConflictError).message).toContain('0002-step20.patch');
    expect(((error as PatchConflictError).data as ConflictReport).problems).toEqual([
      expect.objectContaining({ patch: '0002-step20.patch', file: CLIENT, reason: 'context-mismatch' }),
    ]);
    expect(await treeHashes(co.quicheRoot)).toEqual(tree);
    expect(await readFile(co.app.paths.appliedPatches, 'utf8')).toBe(ledger);
  });

  it('refuses a foreign edit, naming the file, and writes nothing', async () => {
    const co = await makeCheckout(fixture.quiche, fixture.quiche.oldPin);
    await series(
      co,
      { name: '0001-flag.patch', content: fixture.patches.clientFlag },
      { name: '0002-log.patch', content: fixture.patches.serverLog },
    );
    await runPatch(co);
    await writeFile(path.join(co.quicheRoot, CLIENT), `${await read(co, CLIENT)}// my local experiment\n`);
    const tree = await treeHashes(co.quicheRoot);
    await series(
      co,
      { name: '0001-flag.patch', content: fixture.patches.clientFlag },
      { name: '0002-log.patch', content: await serverLogV2() },
    );
    const error = await runPatch(co).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DirtyTreeError);
    expect((error as Error).message).toContain(path.join(co.quicheRoot, CLIENT));
    expect(await treeHashes(co.quicheRoot)).toEqual(tree);
  });

  it('repairs a run killed mid-write: guard files back to upstream, then the run re-applies', async () => {
    const v1 = [
      { name: '0001-flag.patch', content: fixture.patches.clientFlag },
      { name: '0002-log.patch', content: fixture.patches.serverLog },
    ];
    const v2Flag = await makePatch(fixture.quiche.dir, fixture.quiche.oldPin, 'client: scale steps by flag2', [
      { file: CLIENT, replace: [['return 5; }', 'return 5 * flag2; }']] },
    ]);
    const v2 = [
      { name: '0001-flag.patch', content: v2Flag },
      { name: '0002-log.patch', content: await serverLogV2() },
    ];
    const clean = await makeCheckout(fixture.quiche, fixture.quiche.oldPin);
    await series(clean, ...v2);
    await runPatch(clean);

    const co = await makeCheckout(fixture.quiche, fixture.quiche.oldPin);
    await series(co, ...v1);
    await runPatch(co);
    await series(co, ...v2);
    // Die right after the guard is written, then fake the first write having landed plus a torn temp file.
    const dying = stageContext(co.app, { checkout: co.checkout });
    dying.guard.update = (data) => {
      Object.assign(dying.guardInfo.data, data);
      return Promise.reject(new Error('killed'));
    };
    await expect(runPatch(co, dying)).rejects.toThrow('killed');
    await writeFile(path.join(co.quicheRoot, CLIENT), await read(clean, CLIENT));
    await writeFile(path.join(co.quicheRoot, `${CLIENT}.build-quiche-4242-0badf00d.tmp`), 'torn');

    const next = stageContext(co.app, { checkout: co.checkout }, 'patch', dying.guardInfo.data);
    await patchStage.repair!(next, next.guardInfo);
    expect(await read(co, CLIENT)).toBe(quicheFiles('old')[CLIENT]);
    expect(await read(co, SERVER)).toBe(quicheFiles('old')[SERVER]);
    expect(await readdir(path.join(co.quicheRoot, path.dirname(CLIENT)))).not.toContain(
      `${path.basename(CLIENT)}.build-quiche-4242-0badf00d.tmp`,
    );
    expect((await readLedger(co.app.paths.appliedPatches))?.repos.quiche?.files).toEqual([]);

    await runPatch(co, next);
    expect(await treeHashes(co.quicheRoot)).toEqual(await treeHashes(clean.quicheRoot));
    expect(
      await patchStage.verify!(
        { ...next },
        {
          inputs: await patchStage.inputs(next),
          outputs: { patchset: (await readLedger(co.app.paths.appliedPatches))!.patchset, files: [] },
        },
      ),
    ).toBe(true);
  });

  it('verify names a patched file that changed on disk', async () => {
    const co = await makeCheckout(fixture.quiche, fixture.quiche.oldPin);
    await series(co, { name: '0001-flag.patch', content: fixture.patches.clientFlag });
    const { ctx, inputs, outputs } = await runPatch(co);
    expect(await patchStage.verify!(ctx, { inputs, outputs })).toBe(true);
    await writeFile(path.join(co.quicheRoot, CLIENT), quicheFiles('old')[CLIENT]!);
    expect(await patchStage.verify!(ctx, { inputs, outputs })).toContain(CLIENT);
  });

  it('applies repo=src patches in chromium/src', async () => {
    const co = await makeCheckout(fixture.quiche, fixture.quiche.oldPin);
    const srcPatch = await makePatch(co.srcRoot, 'HEAD', 'net: add a target', [
      { file: 'net/BUILD.gn', replace: [['executable("quic_client") {}', 'executable("quic_client") {}\nexecutable("quic_probe") {}']] },
    ]);
    await series(
      co,
      { name: '0001-flag.patch', content: fixture.patches.clientFlag },
      { name: 'src-0001-target.patch', content: srcPatch, repo: 'src' },
    );
    const { outputs } = await runPatch(co);
    expect(await readFile(path.join(co.srcRoot, 'net/BUILD.gn'), 'utf8')).toContain('quic_probe');
    expect(outputs.files.map((file) => `${file.repo}:${file.path}`)).toEqual([`quiche:${CLIENT}`, 'src:net/BUILD.gn']);
  });

  it('is skipped by the engine on an unchanged series, and re-runs only the patch-dependent work on an edit', async () => {
    const co = await makeCheckout(fixture.quiche, fixture.quiche.oldPin);
    await series(
      co,
      { name: '0001-flag.patch', content: fixture.patches.clientFlag },
      { name: '0002-log.patch', content: fixture.patches.serverLog },
    );
    const resolve = defineStage<AppContext, object, ResolveOutput>({
      id: 'resolve',
      title: 'resolve',
      after: [],
      inputs: () => ({}),
      run: () => Promise.resolve(resolveOutput(fixture.quiche, fixture.quiche.oldPin)),
    });
    const checkout = defineStage<AppContext, object, typeof co.checkout>({
      id: 'checkout',
      title: 'checkout',
      after: ['resolve'],
      inputs: () => ({}),
      run: () => Promise.resolve(co.checkout),
    });
    const pipeline = new Pipeline({
      stages: [resolve, patchCheckStage, checkout, patchStage],
      app: co.app,
      stateDir: co.app.paths.cacheDir,
    });
    expect((await pipeline.run()).ran).toEqual(['resolve', 'patch-check', 'checkout', 'patch']);
    const before = await mtimes(co.quicheRoot, [CLIENT, SERVER]);
    await tick();
    const again = await pipeline.run();
    expect(again.skipped).toEqual(['resolve', 'patch-check', 'checkout', 'patch']);
    expect(await mtimes(co.quicheRoot, [CLIENT, SERVER])).toEqual(before);
    await series(
      co,
      { name: '0001-flag.patch', content: fixture.patches.clientFlag },
      { name: '0002-log.patch', content: await serverLogV2() },
    );
    const edited = await pipeline.run();
    expect(edited.ran).toEqual(['patch-check', 'patch']);
    expect((await mtimes(co.quicheRoot, [CLIENT]))[CLIENT]).toBe(before[CLIENT]);
  });
});
