import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dryRunSeries } from '../../../src/patches/dry-run.js';
import { rebasePatches } from '../../../src/patches/rebase.js';
import { parseSeries } from '../../../src/patches/series.js';
import { directorySource, gitRevisionSource, readerFor } from '../../../src/patches/sources.js';
import { CLIENT, git, makePatch, quicheFiles, SERVER, tempDir, useQuiche, writeSeries } from '../../support/patch-repos.js';

const fixture = useQuiche();

const at = async (pin: 'old' | 'new') =>
  readerFor({ quiche: await gitRevisionSource(fixture.quiche.dir, pin === 'old' ? fixture.quiche.oldPin : fixture.quiche.newPin) });

describe('patches rebase', () => {
  it('refreshes patches that merge onto the new base, under their names, so the series applies there', async () => {
    const dir = await tempDir();
    const seriesFile = await writeSeries(dir, [
      { name: '0001-flag.patch', content: fixture.patches.clientFlag },
      { name: '0002-log.patch', content: fixture.patches.serverLog },
    ]);
    const result = await rebasePatches({
      series: seriesFile,
      from: await at('old'),
      to: await at('new'),
      labels: { from: 'old', to: 'new' },
    });
    expect(result.needsHand).toEqual([]);
    expect(result.refreshed.map(({ patch, changed }) => ({ patch, changed }))).toEqual([
      { patch: '0001-flag.patch', changed: true },
      { patch: '0002-log.patch', changed: true },
    ]);
    const refreshed = await readFile(path.join(dir, '0001-flag.patch'), 'utf8');
    expect(refreshed).toMatch(/^@@ -7,7 \+7,7 @@/m);
    expect(refreshed).toContain('Subject: [PATCH] client: scale steps by a flag');
    expect(refreshed).toContain('From: Quiche Dev <dev@example.com>');
    expect((await dryRunSeries(await parseSeries(seriesFile), await at('new'))).ok).toBe(true);
    expect(result.text).toMatch(/refreshed {4}0001-flag\.patch/);
  });

  it('is stable: rebasing refreshed patches onto the same base changes nothing', async () => {
    const dir = await tempDir();
    const seriesFile = await writeSeries(dir, [{ name: '0001-flag.patch', content: fixture.patches.clientFlag }]);
    await rebasePatches({ series: seriesFile, from: await at('old'), to: await at('new') });
    const refreshed = await readFile(path.join(dir, '0001-flag.patch'));
    const again = await rebasePatches({ series: seriesFile, from: await at('new'), to: await at('new') });
    expect(again.refreshed).toEqual([expect.objectContaining({ patch: '0001-flag.patch', changed: false })]);
    expect(await readFile(path.join(dir, '0001-flag.patch'))).toEqual(refreshed);
  });

  it('reports a real conflict with the conflicting file, leaves that patch alone, and blocks later patches on the same file', async () => {
    const dir = await tempDir();
    const followUp = await makePatch(fixture.quiche.dir, fixture.quiche.oldPin, 'client: step 28', [
      { file: CLIENT, replace: [['return 28; }', 'return 28 + 0; }']] },
    ]);
    const seriesFile = await writeSeries(dir, [
      { name: '0001-step20.patch', content: fixture.patches.clientStep20 },
      { name: '0002-log.patch', content: fixture.patches.serverLog },
      { name: '0003-step28.patch', content: followUp },
    ]);
    const result = await rebasePatches({ series: seriesFile, from: await at('old'), to: await at('new') });
    expect(result.needsHand).toEqual([
      expect.objectContaining({ patch: '0001-step20.patch', reason: 'conflict', files: [CLIENT] }),
      expect.objectContaining({ patch: '0003-step28.patch', reason: 'blocked' }),
    ]);
    expect(result.needsHand[0]!.detail).toContain('CONFLICT (content): Merge conflict in quiche/quic/tools/quic_toy_client.cc');
    expect(await readFile(path.join(dir, '0001-step20.patch'), 'utf8')).toBe(fixture.patches.clientStep20);
    expect(result.refreshed.map((entry) => entry.patch)).toEqual(['0002-log.patch']);
    expect(result.text).toContain(`needs a hand 0001-step20.patch: conflicts in ${CLIENT}`);
  });

  it('keeps the merge repo in a work dir for resolving by hand', async () => {
    const dir = await tempDir();
    const work = path.join(await tempDir(), 'rebase-work');
    const seriesFile = await writeSeries(dir, [{ name: '0001-step20.patch', content: fixture.patches.clientStep20 }]);
    const result = await rebasePatches({ series: seriesFile, from: await at('old'), to: await at('new'), workDir: work });
    expect(result.workDirs.quiche).toBe(path.join(work, 'quiche'));
    expect(git(path.join(work, 'quiche'), 'log', '--format=%s', 'patched')).toBe('client: tune step 20\nbase: from\n');
    expect(git(path.join(work, 'quiche'), 'log', '--format=%s', 'rebased')).toBe('base: to\nbase: from\n');
  });

  it('reports a patch the new base already contains as upstreamed', async () => {
    const base = await tempDir();
    for (const [file, content] of Object.entries(quicheFiles('new'))) {
      if (content === undefined) continue;
      await mkdir(path.dirname(path.join(base, file)), { recursive: true });
      await writeFile(
        path.join(base, file),
        file === SERVER ? content.replace('void handler_05() {}', 'void handler_05() { Log(); }') : content,
      );
    }
    const seriesFile = await writeSeries(await tempDir(), [{ name: '0002-log.patch', content: fixture.patches.serverLog }]);
    const result = await rebasePatches({ series: seriesFile, from: await at('old'), to: readerFor({ quiche: directorySource(base) }) });
    expect(result.upstreamed).toEqual([{ patch: '0002-log.patch', repo: 'quiche' }]);
    expect(result.text).toContain('upstreamed   0002-log.patch');
  });
});
