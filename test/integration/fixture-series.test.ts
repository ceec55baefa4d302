import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkPatches } from '../../src/patches/check.js';
import { dryRunSeries } from '../../src/patches/dry-run.js';
import { parseSeries } from '../../src/patches/series.js';
import { gitRevisionSource, readerFor } from '../../src/patches/sources.js';
import { cachedUpstream, FIXTURE_PATCHES_DIR, TAG_150, TAG_152, type UpstreamInfo, type UpstreamTag } from '../../testkit/build.js';

/** The fixture patch series (testkit/patches) against the fixture quiche at both pins. */

let upstream: UpstreamInfo;
beforeAll(async () => {
  upstream = await cachedUpstream();
}, 120_000);

const seriesFile = (name: string) => path.join(FIXTURE_PATCHES_DIR, name, 'series');
const check = async (name: string, tag: UpstreamTag) =>
  checkPatches({
    series: seriesFile(name),
    sources: { quiche: await gitRevisionSource(upstream.repos.quiche, upstream.tags[tag].quicheRevision) },
  });

describe('fixture patch series', () => {
  it.each([TAG_152, TAG_150] as const)('migration/ applies at %s', async (tag) => {
    const result = await check('migration', tag);
    expect(result.report?.problems ?? []).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('conflict/ fails at 152 with a context mismatch in quic_toy_client.cc, and applies at 150', async () => {
    const at152 = await check('conflict', TAG_152);
    expect(at152.ok).toBe(false);
    expect(at152.report?.failed).toEqual(['0002-quic_toy_client-hint-at-a-missing-server-when-connec.patch']);
    expect(at152.report?.problems).toEqual([
      expect.objectContaining({
        file: 'quiche/quic/tools/quic_toy_client.cc',
        reason: 'context-mismatch',
        hunk: expect.stringMatching(/^@@ /),
      }),
    ]);
    expect((await check('conflict', TAG_150)).ok).toBe(true);
  });

  it('edited/ differs from migration/ only in quic_simple_server_session.cc once applied', async () => {
    const read = readerFor({ quiche: await gitRevisionSource(upstream.repos.quiche, upstream.tags[TAG_152].quicheRevision) });
    const [migration, edited] = await Promise.all([
      dryRunSeries(await parseSeries(seriesFile('migration')), read),
      dryRunSeries(await parseSeries(seriesFile('edited')), read),
    ]);
    if (!migration.ok || !edited.ok) throw new Error('fixture series do not apply');
    const results = (files: typeof migration.files) =>
      Object.fromEntries(files.map((file) => [file.path, file.result?.toString('base64')]));
    const [before, after] = [results(migration.files), results(edited.files)];
    const differing = Object.keys({ ...before, ...after }).filter((file) => before[file] !== after[file]);
    expect(differing).toEqual(['quiche/quic/tools/quic_simple_server_session.cc']);
  });

  it('adds-file/ creates its new files and changes the source list', async () => {
    const read = readerFor({ quiche: await gitRevisionSource(upstream.repos.quiche, upstream.tags[TAG_152].quicheRevision) });
    const result = await dryRunSeries(await parseSeries(seriesFile('adds-file')), read);
    if (!result.ok) throw new Error(JSON.stringify(result.report.problems));
    const created = result.files.filter((file) => file.base === undefined && file.result !== undefined).map((file) => file.path);
    expect(created.length).toBeGreaterThan(0);
    expect(result.files.find((file) => file.path === 'build/source_list.gni')?.result).toBeDefined();
  });
});
