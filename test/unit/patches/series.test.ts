import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { parsePatch } from '../../../src/patches/patch-file.js';
import { parseSeries, patchsetId, seriesFiles } from '../../../src/patches/series.js';
import { CLIENT, git, HELPER, makePatch, SERVER, tempDir, useQuiche, writeSeries } from '../../support/patch-repos.js';

const fixture = useQuiche();

describe('series file', () => {
  it('lists patches in order, skipping comments and blank lines, with repo=quiche by default', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'a.patch'), fixture.patches.clientFlag);
    await writeFile(path.join(dir, 'b.patch'), fixture.patches.serverLog);
    const file = path.join(dir, 'series');
    await writeFile(file, '# The series\n\na.patch   # trailing comment\n   \nb.patch repo=src\n');
    const series = await parseSeries(file);
    expect(series.patches.map((patch) => [patch.name, patch.repo])).toEqual([
      ['a.patch', 'quiche'],
      ['b.patch', 'src'],
    ]);
  });

  it('reads subject, description, files and hunks of a format-patch file', () => {
    const patch = parsePatch(Buffer.from(fixture.patches.clientFlag), { name: '0001.patch', file: '/x/0001.patch', repo: 'quiche' });
    expect(patch.subject).toBe('client: scale steps by a flag');
    expect(patch.description).toBe('Why this patch exists.');
    expect(patch.author).toBe('Quiche Dev <dev@example.com>');
    expect(patch.files).toHaveLength(1);
    expect(patch.files[0]).toMatchObject({ kind: 'modify', path: CLIENT });
    expect(patch.files[0]!.hunks.map((hunk) => [hunk.oldStart, hunk.oldLines])).toEqual([
      [4, 7],
      [24, 7],
    ]);
    expect(patch.files[0]!.hunks[0]!.header).toMatch(/^@@ -4,7 \+4,7 @@/);
    expect(patch.problems).toEqual([]);
  });

  it('decodes a long non-ASCII subject that format-patch encoded and folded', async () => {
    const subject = 'quic_toy_client: a long subject that format-patch folds over several header lines — naïvely';
    const patch = await makePatch(fixture.quiche.dir, fixture.quiche.oldPin, subject, [
      { file: SERVER, replace: [['handler_01', 'handler_1']] },
    ]);
    expect(patch).toContain('=?UTF-8?q?');
    expect(parsePatch(Buffer.from(patch), { name: 'u', file: 'u', repo: 'quiche' }).subject).toBe(subject);
  });

  it('recognises added, deleted and renamed files', async () => {
    const added = parsePatch(Buffer.from(fixture.patches.addHelper), { name: 'a', file: 'a', repo: 'quiche' });
    expect(added.files[0]).toMatchObject({ kind: 'add', path: HELPER, mode: 0o644 });
    const removed = await makePatch(fixture.quiche.dir, fixture.quiche.oldPin, 'drop readme', [
      { file: 'quiche/common/README.md', content: null },
    ]);
    expect(parsePatch(Buffer.from(removed), { name: 'r', file: 'r', repo: 'quiche' }).files[0]).toMatchObject({
      kind: 'delete',
      path: 'quiche/common/README.md',
    });
    const work = await tempDir();
    git(work, 'clone', '-q', fixture.quiche.dir, '.');
    git(work, 'mv', 'quiche/common/README.md', 'quiche/common/NOTES.md');
    git(work, 'commit', '-q', '-m', 'rename');
    const renamed = git(work, 'format-patch', '-1', '-M', '--stdout', 'HEAD');
    expect(parsePatch(Buffer.from(renamed), { name: 'm', file: 'm', repo: 'quiche' }).files[0]).toMatchObject({
      kind: 'rename',
      path: 'quiche/common/NOTES.md',
      oldPath: 'quiche/common/README.md',
    });
  });

  it('hashes each patch and derives a stable patchset id; an empty series is "unpatched"', async () => {
    const dir = await tempDir();
    const file = await writeSeries(dir, [
      { name: '0001.patch', content: fixture.patches.clientFlag },
      { name: '0002.patch', content: fixture.patches.serverLog },
    ]);
    const first = await parseSeries(file);
    const again = await parseSeries(file);
    expect(first.patches[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(patchsetId(first)).toMatch(/^[0-9a-f]{12}$/);
    expect(patchsetId(again)).toBe(patchsetId(first));
    await writeFile(path.join(dir, '0002.patch'), fixture.patches.addHelper);
    expect(patchsetId(await parseSeries(file))).not.toBe(patchsetId(first));
    expect(seriesFiles(first).quiche).toEqual([SERVER, CLIENT]);
    const empty = await writeSeries(await tempDir(), [], '# nothing yet\n');
    expect(patchsetId(await parseSeries(empty))).toBe('unpatched');
  });

  it('fails with ConfigError naming a missing patch file and its line', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'series');
    await writeFile(file, '# header\n0001-missing.patch\n');
    const error = await parseSeries(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`${file}:2: the patch 0001-missing.patch does not exist`);
  });

  it('fails with ConfigError on an unknown repo token', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'a.patch'), fixture.patches.clientFlag);
    await writeFile(path.join(dir, 'series'), 'a.patch repo=v8\n');
    await expect(parseSeries(path.join(dir, 'series'))).rejects.toThrow(/unknown token "repo=v8"/);
  });

  it('fails with ConfigError on a file that is not a patch', async () => {
    const dir = await tempDir();
    const file = await writeSeries(dir, [{ name: 'notes.patch', content: 'Just some notes, no diff here.\n' }]);
    const error = await parseSeries(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/notes\.patch is not a patch/);
  });

  it('refuses patch paths that escape the repo, and quiche paths in a src patch', () => {
    const escaping = fixture.patches.serverLog.replaceAll('quiche/quic/tools/', '../outside/');
    expect(() => parsePatch(Buffer.from(escaping), { name: 'x', file: 'x', repo: 'quiche' })).toThrow(ConfigError);
    const viaSrc = fixture.patches.serverLog
      .replaceAll('a/quiche/', 'a/net/third_party/quiche/src/quiche/')
      .replaceAll('b/quiche/', 'b/net/third_party/quiche/src/quiche/');
    expect(() => parsePatch(Buffer.from(viaSrc), { name: 'y', file: 'y', repo: 'src' })).toThrow(/belongs to the quiche repo/);
  });
});
