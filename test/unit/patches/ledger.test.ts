import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirtyTreeError } from '../../../src/errors.js';
import { foreignChanges, foreignChangesError, ownedChanges, readLedger, revertAppliedPatches } from '../../../src/patches/ledger.js';
import { chromiumLedger as ledgerLocation } from '../../../src/stages/backends/chromium/paths.js';
import { patchStage } from '../../../src/stages/patch.js';
import {
  CLIENT,
  git,
  HELPER,
  makeCheckout,
  makePatch,
  quicheFiles,
  SERVER,
  stageContext,
  treeHashes,
  useQuiche,
  writeSeries,
  type FakeCheckout,
} from '../../support/patch-repos.js';

const fixture = useQuiche();

/** A checkout with the client flag, server log and helper patches applied, plus one repo=src patch. */
async function patched(): Promise<FakeCheckout> {
  const co = await makeCheckout(fixture.quiche, fixture.quiche.oldPin);
  const srcPatch = await makePatch(co.srcRoot, 'HEAD', 'net: add a target', [{ file: 'net/BUILD.gn', replace: [['{}', '{ }']] }]);
  await writeSeries(co.seriesDir, [
    { name: '0001-flag.patch', content: fixture.patches.clientFlag },
    { name: '0002-log.patch', content: fixture.patches.serverLog },
    { name: '0003-helper.patch', content: fixture.patches.addHelper },
    { name: 'src-0001-target.patch', content: srcPatch, repo: 'src' },
  ]);
  const ctx = stageContext(co.app, { checkout: co.checkout });
  await patchStage.run(ctx, await patchStage.inputs(ctx));
  return co;
}

const QUICHE_IN_GCLIENT = 'src/net/third_party/quiche/src';

describe('applied-patches ledger', () => {
  it('ownedChanges lists exactly the files that still hold what the patches wrote, relative to the gclient root', async () => {
    const co = await patched();
    await writeFile(path.join(co.quicheRoot, SERVER), 'someone else was here\n');
    expect((await ownedChanges(ledgerLocation(co.app))).sort()).toEqual(
      [`${QUICHE_IN_GCLIENT}/${HELPER}`, `${QUICHE_IN_GCLIENT}/${CLIENT}`, 'src/net/BUILD.gn'].sort(),
    );
  });

  it('foreignChanges lists the tracked edits that are not our patches, and not untracked files', async () => {
    const co = await patched();
    await writeFile(path.join(co.quicheRoot, SERVER), 'someone else was here\n');
    await writeFile(path.join(co.quicheRoot, 'generated.txt'), 'a hook made me\n');
    const foreign = await foreignChanges(ledgerLocation(co.app), [co.quicheRoot, co.srcRoot]);
    expect(foreign).toEqual([{ file: path.join(co.quicheRoot, SERVER), code: 'M' }]);
    const error = foreignChangesError(foreign, 'Moving would lose them', 'Stash them.');
    expect(error).toBeInstanceOf(DirtyTreeError);
    expect(error.message).toBe(`Moving would lose them:\n  ${path.join(co.quicheRoot, SERVER)} (M)\nNothing was changed.`);
    expect(error.hint).toBe('Stash them.');
  });

  it('revertAppliedPatches restores upstream content, deletes created files and clears the ledger', async () => {
    const co = await patched();
    const { reverted } = await revertAppliedPatches(ledgerLocation(co.app));
    expect(reverted.sort()).toEqual(
      [
        path.join(co.quicheRoot, CLIENT),
        path.join(co.quicheRoot, HELPER),
        path.join(co.quicheRoot, SERVER),
        path.join(co.srcRoot, 'net/BUILD.gn'),
      ].sort(),
    );
    expect(git(co.quicheRoot, 'status', '--porcelain')).toBe('');
    expect(git(co.srcRoot, 'status', '--porcelain')).toBe('');
    expect(await readFile(path.join(co.quicheRoot, CLIENT), 'utf8')).toBe(quicheFiles('old')[CLIENT]);
    expect((await readLedger(co.app.paths.appliedPatches))?.repos).toEqual({});
    expect(await ownedChanges(ledgerLocation(co.app))).toEqual([]);
  });

  it('revertAppliedPatches with only: reverts the named repos and keeps the others in the ledger', async () => {
    const co = await patched();
    await revertAppliedPatches(ledgerLocation(co.app), { only: [QUICHE_IN_GCLIENT] });
    expect(git(co.quicheRoot, 'status', '--porcelain')).toBe('');
    expect(git(co.srcRoot, 'status', '--porcelain')).toBe(' M net/BUILD.gn\n');
    expect(Object.keys((await readLedger(co.app.paths.appliedPatches))!.repos)).toEqual(['src']);
  });

  it('revertAppliedPatches refuses foreign edits, naming them, and changes nothing', async () => {
    const co = await patched();
    await writeFile(path.join(co.quicheRoot, SERVER), 'someone else was here\n');
    const tree = await treeHashes(co.quicheRoot);
    const ledger = await readFile(co.app.paths.appliedPatches, 'utf8');
    const error = await revertAppliedPatches(ledgerLocation(co.app)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DirtyTreeError);
    expect((error as Error).message).toContain(path.join(co.quicheRoot, SERVER));
    expect((error as Error).message).not.toContain(CLIENT);
    expect(await treeHashes(co.quicheRoot)).toEqual(tree);
    expect(await readFile(co.app.paths.appliedPatches, 'utf8')).toBe(ledger);
  });

  it('revertAppliedPatches does nothing without a ledger', async () => {
    const co = await makeCheckout(fixture.quiche, fixture.quiche.oldPin);
    expect(await revertAppliedPatches(ledgerLocation(co.app))).toEqual({ reverted: [] });
  });
});
