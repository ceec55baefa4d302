import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dryRunSeries } from '../../../src/patches/dry-run.js';
import { renderConflictReport } from '../../../src/patches/report.js';
import { parseSeries, type Series } from '../../../src/patches/series.js';
import { directorySource, gitRevisionSource, readerFor } from '../../../src/patches/sources.js';
import { CLIENT, HELPER, LEGACY, makePatch, quicheFiles, SERVER, tempDir, useQuiche, writeSeries } from '../../support/patch-repos.js';

const fixture = useQuiche();

async function seriesOf(...entries: Array<[string, string]>): Promise<Series> {
  return parseSeries(
    await writeSeries(
      await tempDir(),
      entries.map(([name, content]) => ({ name, content })),
    ),
  );
}

const atPin = async (pin: 'old' | 'new') =>
  readerFor({ quiche: await gitRevisionSource(fixture.quiche.dir, pin === 'old' ? fixture.quiche.oldPin : fixture.quiche.newPin) });

/** A base directory: the old pin's files with some overrides. */
async function baseDir(overrides: Record<string, string>) {
  const dir = await tempDir();
  for (const [file, content] of Object.entries({ ...quicheFiles('old'), ...overrides })) {
    if (content === undefined) continue;
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  }
  return readerFor({ quiche: directorySource(dir) });
}

describe('dry run', () => {
  it('returns the final content of every touched file when the series applies', async () => {
    const series = await seriesOf(
      ['0001-flag.patch', fixture.patches.clientFlag],
      ['0002-log.patch', fixture.patches.serverLog],
      ['0003-helper.patch', fixture.patches.addHelper],
    );
    const result = await dryRunSeries(series, await atPin('old'));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const byPath = Object.fromEntries(result.files.map((file) => [file.path, file]));
    expect(Object.keys(byPath).sort()).toEqual([CLIENT, SERVER, HELPER].sort());
    expect(byPath[CLIENT]!.result!.toString()).toContain('return 25 * flag; }');
    expect(byPath[CLIENT]!.base!.toString()).toBe(quicheFiles('old')[CLIENT]);
    expect(byPath[CLIENT]!.patches).toEqual(['0001-flag.patch']);
    expect(byPath[HELPER]).toMatchObject({ base: undefined, mode: 0o644 });
    expect(byPath[HELPER]!.result!.toString()).toContain('Helper()');
  });

  it('accepts hunks that moved (offsets) without fuzz', async () => {
    const result = await dryRunSeries(await seriesOf(['0001-flag.patch', fixture.patches.clientFlag]), await atPin('new'));
    expect(result.ok).toBe(true);
  });

  it('reports a context mismatch with the header of the hunk that fails, and where the base differs', async () => {
    const series = await seriesOf(['0001-step20.patch', fixture.patches.clientStep20]);
    const result = await dryRunSeries(series, await atPin('new'), { targets: { quiche: 'quiche new' } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const secondHunk = series.patches[0]!.files[0]!.hunks[1]!;
    expect(result.report.problems).toEqual([
      expect.objectContaining({
        patch: '0001-step20.patch',
        repo: 'quiche',
        file: CLIENT,
        hunk: secondHunk.header,
        reason: 'context-mismatch',
      }),
    ]);
    expect(secondHunk.header).toMatch(/^@@ -19,7 \+19,7 @@/);
    expect(result.report.problems[0]!.detail).toContain('Hunk #2 of 2');
    expect(result.report.problems[0]!.detail).toContain(
      'line 25: the patch expects "int step_20() { return 20; }", the base has "int step_20() { return 2000; }"',
    );
  });

  it('lists every failing hunk of a file, not only the first', async () => {
    const both = await makePatch(fixture.quiche.dir, fixture.quiche.oldPin, 'client: two doomed hunks', [
      {
        file: CLIENT,
        replace: [
          ['return 3; }', 'return 3 + 1; }'],
          ['return 20; }', 'return 20 + 1; }'],
        ],
      },
    ]);
    const base = await baseDir({
      [CLIENT]: quicheFiles('old')[CLIENT]!.replace('return 4; }', 'return 40; }').replace('return 21; }', 'return 21 + 0; }'),
    });
    const result = await dryRunSeries(await seriesOf(['0001-both.patch', both]), base);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.report.problems.map((problem) => problem.hunk?.slice(0, 16))).toEqual(['@@ -2,7 +2,7 @@', '@@ -19,7 +19,7 @']);
  });

  it('reports a missing file when the base no longer has it', async () => {
    const result = await dryRunSeries(await seriesOf(['0001-legacy.patch', fixture.patches.legacy]), await atPin('new'));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.report.problems).toEqual([expect.objectContaining({ file: LEGACY, hunk: null, reason: 'missing-file' })]);
  });

  it('reports a patch whose change the base already has as already applied', async () => {
    const base = await baseDir({ [SERVER]: quicheFiles('old')[SERVER]!.replace('void handler_05() {}', 'void handler_05() { Log(); }') });
    const result = await dryRunSeries(await seriesOf(['0002-log.patch', fixture.patches.serverLog]), base);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.report.problems).toEqual([expect.objectContaining({ patch: '0002-log.patch', reason: 'already-applied' })]);
  });

  it('reports a patch that creates a file the base already has', async () => {
    const base = await baseDir({ [HELPER]: '// upstream wrote its own helper\n' });
    const result = await dryRunSeries(await seriesOf(['0003-helper.patch', fixture.patches.addHelper]), base);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.report.problems).toEqual([expect.objectContaining({ file: HELPER, reason: 'file-exists' })]);
  });

  it('reports a patch with broken hunk counts as malformed', async () => {
    const broken = fixture.patches.serverLog.replace(/@@ -(\d+),7 \+(\d+),7 @@/, '@@ -$1,9 +$2,7 @@');
    const result = await dryRunSeries(await seriesOf(['0002-log.patch', broken]), await atPin('old'));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.report.problems).toEqual([expect.objectContaining({ reason: 'malformed' })]);
  });

  it('goes on past a failing patch and lists each failing patch once, in series order', async () => {
    const series = await seriesOf(
      ['0001-step20.patch', fixture.patches.clientStep20],
      ['0002-log.patch', fixture.patches.serverLog],
      ['0003-legacy.patch', fixture.patches.legacy],
      ['0004-flag.patch', fixture.patches.clientFlag],
    );
    const result = await dryRunSeries(series, await atPin('new'), { targets: { quiche: 'quiche 0123abcd' } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.report.failed).toEqual(['0001-step20.patch', '0003-legacy.patch']);
    expect(result.report.applied).toEqual(['0002-log.patch', '0004-flag.patch']);
    const text = renderConflictReport(result.report, { version: '153.0.1.2' });
    expect(text).toContain('2 of 4 patches');
    expect(text.match(/^ {2}0001-step20\.patch/gm)).toHaveLength(1);
    expect(text.match(/^ {2}0003-legacy\.patch/gm)).toHaveLength(1);
    expect(text).toContain('build-quiche patches rebase --to 153.0.1.2');
    expect(text).toMatch(/edit 0001-step20\.patch and 0003-legacy\.patch/);
  });

  it('marks a failure that may follow from an earlier failing patch on the same file', async () => {
    const followUp = await makePatch(fixture.quiche.dir, fixture.quiche.oldPin, 'client: build on step 20', [
      { file: CLIENT, replace: [['return 20; }', 'return 20 * 3; }']] },
    ]);
    const base = await baseDir({ [CLIENT]: quicheFiles('old')[CLIENT]!.replace('return 19; }', 'return 19 + 0; }') });
    const result = await dryRunSeries(
      await seriesOf(['0001-step20.patch', fixture.patches.clientStep20], ['0002-more.patch', followUp]),
      base,
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.report.problems.find((problem) => problem.patch === '0002-more.patch')).toMatchObject({ after: '0001-step20.patch' });
  });
});
