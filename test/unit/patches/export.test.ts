import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dryRunSeries } from '../../../src/patches/dry-run.js';
import { exportPatches, FIXED_DATE } from '../../../src/patches/export.js';
import { parseSeries } from '../../../src/patches/series.js';
import { gitRevisionSource, readerFor } from '../../../src/patches/sources.js';
import { CLIENT, git, SERVER, tempDir, useQuiche } from '../../support/patch-repos.js';

const fixture = useQuiche();

/** A quiche clone at the old pin with two patch commits on top, committed at `date`. */
async function patchClone(date: string): Promise<string> {
  const dir = await tempDir('bq-export-clone');
  git(dir, 'clone', '-q', fixture.quiche.dir, '.');
  git(dir, 'checkout', '-q', '-b', 'patches', fixture.quiche.oldPin);
  const commit = async (file: string, from: string, to: string, message: string) => {
    const target = path.join(dir, file);
    await writeFile(target, (await readFile(target, 'utf8')).replace(from, to));
    git(dir, 'add', '-A');
    git(dir, '-c', 'user.name=Patch Author', '-c', 'user.email=author@example.com', 'commit', '-q', '--date', date, '-m', message);
  };
  await commit(CLIENT, 'return 5; }', 'return 5 * flag; }', 'client: intentional migration\n\nAdds flags to drive migration.');
  await commit(
    SERVER,
    'void handler_05() {}',
    'void handler_05() { Log(); }',
    'server: see every migration!\n\nPrints PEER_MIGRATION lines.',
  );
  return dir;
}

describe('patches export', () => {
  it('writes normalised, numbered patch files and the series listing them', async () => {
    const out = await tempDir();
    const result = await exportPatches({ repoDir: await patchClone('2026-07-01T10:00:00Z'), base: fixture.quiche.oldPin, outDir: out });
    expect(result.patches.map((patch) => patch.name)).toEqual([
      '0001-client-intentional-migration.patch',
      '0002-server-see-every-migration.patch',
    ]);
    expect(await readFile(path.join(out, 'series'), 'utf8')).toBe(
      '# Applied in order; see docs/patches.md.\n0001-client-intentional-migration.patch\n0002-server-see-every-migration.patch\n',
    );
    const text = await readFile(path.join(out, '0001-client-intentional-migration.patch'), 'utf8');
    const lines = text.split('\n');
    expect(lines[0]).toBe('From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001');
    expect(lines).toContain(`Date: ${FIXED_DATE}`);
    expect(lines).toContain('Subject: [PATCH] client: intentional migration');
    expect(text).toMatch(/^index [0-9a-f]{40}\.\.[0-9a-f]{40} 100644$/m);
    expect(text).toContain('Adds flags to drive migration.\n---\ndiff --git a/quiche/quic/tools/quic_toy_client.cc');
    expect(text).not.toMatch(/^-- $/m);
    expect(text).not.toContain(' files changed');
    const series = await parseSeries(path.join(out, 'series'));
    const check = await dryRunSeries(series, readerFor({ quiche: await gitRevisionSource(fixture.quiche.dir, fixture.quiche.oldPin) }));
    expect(check.ok).toBe(true);
  });

  it('re-exports the same changes byte-identically, without touching the files', async () => {
    const out = await tempDir();
    const first = await exportPatches({ repoDir: await patchClone('2026-07-01T10:00:00Z'), base: fixture.quiche.oldPin, outDir: out });
    const before = await Promise.all(
      first.patches.map(async (patch) => ({ bytes: await readFile(patch.file), mtime: (await stat(patch.file)).mtimeMs })),
    );
    const again = await exportPatches({ repoDir: await patchClone('2026-08-15T22:30:00Z'), base: fixture.quiche.oldPin, outDir: out });
    expect(again.patches.map((patch) => patch.changed)).toEqual([false, false]);
    const after = await Promise.all(
      again.patches.map(async (patch) => ({ bytes: await readFile(patch.file), mtime: (await stat(patch.file)).mtimeMs })),
    );
    expect(after).toEqual(before);
  });

  it("keeps the series' comments and other repo's entries, and removes stale patches of the exported repo", async () => {
    const out = await tempDir();
    await writeFile(path.join(out, '0001-old-idea.patch'), 'stale');
    await writeFile(path.join(out, 'src-0001-build.patch'), 'kept');
    await writeFile(path.join(out, 'series'), '# MIMIQ patches\n0001-old-idea.patch\n\n# chromium/src\nsrc-0001-build.patch repo=src\n');
    const result = await exportPatches({ repoDir: await patchClone('2026-07-01T10:00:00Z'), base: fixture.quiche.oldPin, outDir: out });
    expect(result.removed).toEqual([path.join(out, '0001-old-idea.patch')]);
    expect(await readFile(path.join(out, 'series'), 'utf8')).toBe(
      '# MIMIQ patches\n0001-client-intentional-migration.patch\n0002-server-see-every-migration.patch\n\n# chromium/src\nsrc-0001-build.patch repo=src\n',
    );
    expect((await readdir(out)).sort()).toEqual([
      '0001-client-intentional-migration.patch',
      '0002-server-see-every-migration.patch',
      'series',
      'src-0001-build.patch',
    ]);
  });
});
