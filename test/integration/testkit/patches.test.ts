/**
 * The fixture patch series (testkit/patches) against the fixture quiche at both pins.
 */
import { execa } from 'execa';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { cachedUpstream, FIXTURE_PATCHES_DIR, TAG_150, TAG_152, type UpstreamInfo, type UpstreamTag } from '../../../testkit/build.js';
import { git, removeTempDirs, run, tempDir } from '../../../testkit/helpers.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const SERIES = ['migration', 'edited', 'conflict', 'adds-file'] as const;
const ZERO_FROM = 'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001';

let info: UpstreamInfo;
let quiche: string;

beforeAll(async () => {
  info = await cachedUpstream();
  quiche = join(await tempDir('bq-patches-'), 'quiche');
  await git(info.root, ['clone', '-q', info.repos.quiche, quiche]);
});

afterAll(removeTempDirs);

interface SeriesEntry {
  file: string;
  repo: string;
}

async function readSeries(name: string): Promise<SeriesEntry[]> {
  const text = await readFile(join(FIXTURE_PATCHES_DIR, name, 'series'), 'utf8');
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean)
    .map((line) => {
      const [file, ...tokens] = line.split(/\s+/) as [string, ...string[]];
      const repo = tokens.find((t) => t.startsWith('repo='))?.slice('repo='.length) ?? 'quiche';
      return { file, repo };
    });
}

/** Applies a series patch by patch (git apply: offsets allowed, no fuzz) on a clean checkout. */
async function applySeries(
  name: string,
  commit: string,
  dir = quiche,
): Promise<{ applied: string[]; failed?: { file: string; output: string } }> {
  await git(dir, ['checkout', '-q', '-f', '--detach', commit]);
  await git(dir, ['clean', '-q', '-f', '-d']);
  const applied: string[] = [];
  for (const entry of await readSeries(name)) {
    const result = await run('git', ['apply', join(FIXTURE_PATCHES_DIR, name, entry.file)], { cwd: dir });
    if (result.exitCode !== 0) return { applied, failed: { file: entry.file, output: result.all } };
    applied.push(entry.file);
  }
  return { applied };
}

/** Path -> content of every file that differs from HEAD (including new files). */
async function changedFiles(dir: string): Promise<Map<string, string>> {
  await git(dir, ['add', '-A']);
  const names = (await git(dir, ['diff', '--cached', '--name-only'])).split('\n').filter(Boolean);
  const files = new Map<string, string>();
  for (const name of names) files.set(name, await readFile(join(dir, name), 'utf8'));
  await git(dir, ['reset', '-q']);
  return files;
}

describe('fixture patch files', () => {
  test.each(SERIES)('%s/series lists every patch of its directory, each targeting quiche', async (name) => {
    const entries = await readSeries(name);
    const files = (await readdir(join(FIXTURE_PATCHES_DIR, name))).filter((f) => f.endsWith('.patch')).sort();
    expect(entries.map((e) => e.file).sort()).toEqual(files);
    for (const entry of entries) expect(entry.repo).toBe('quiche');
  });

  test.each(SERIES)('%s patches are normalised format-patch files', async (name) => {
    for (const entry of await readSeries(name)) {
      const text = await readFile(join(FIXTURE_PATCHES_DIR, name, entry.file), 'utf8');
      expect(text.split('\n')[0]).toBe(ZERO_FROM);
      expect(text).toMatch(/^Subject: \S/m);
      for (const index of text.match(/^index .*$/gm) ?? []) expect(index).toMatch(/^index [0-9a-f]{40}\.\.[0-9a-f]{40}( \d+)?$/);
      expect(text).not.toMatch(/^-- $/m);
      expect(text).toMatch(/^diff --git a\/quiche\/|^diff --git a\/build\//m);
    }
  });
});

describe('fixture series at the quiche pins', () => {
  const cases = (['migration', 'edited', 'adds-file'] as const).flatMap((name) => [TAG_152, TAG_150].map((tag) => [name, tag] as const));

  test.each(cases)('%s applies without fuzz at the quiche pin of %s', async (name, tag) => {
    const result = await applySeries(name, info.tags[tag as UpstreamTag].quicheRevision);
    expect(result.failed, result.failed?.output).toBeUndefined();
    expect(result.applied.length).toBe((await readSeries(name)).length);
  });

  test(`conflict/ fails at ${TAG_152} on its second patch with a context mismatch in quic_toy_client.cc`, async () => {
    const result = await applySeries('conflict', info.tags[TAG_152].quicheRevision);
    expect(result.applied).toEqual([(await readSeries('conflict'))[0]!.file]);
    expect(result.failed?.file).toBe((await readSeries('conflict'))[1]!.file);
    expect(result.failed?.output).toContain('patch failed: quiche/quic/tools/quic_toy_client.cc');
    expect(result.failed?.output).toContain('patch does not apply');
  });

  test(`conflict/ applies at ${TAG_150}, where its second patch was written`, async () => {
    const result = await applySeries('conflict', info.tags[TAG_150].quicheRevision);
    expect(result.failed, result.failed?.output).toBeUndefined();
  });

  test('edited/ differs from migration/ in exactly one file once applied', async () => {
    const pin = info.tags[TAG_152].quicheRevision;
    await applySeries('migration', pin);
    const migration = await changedFiles(quiche);
    await applySeries('edited', pin);
    const edited = await changedFiles(quiche);
    expect([...edited.keys()].sort()).toEqual([...migration.keys()].sort());
    const differing = [...edited.keys()].filter((file) => edited.get(file) !== migration.get(file));
    expect(differing).toEqual(['quiche/quic/tools/quic_simple_server_session.cc']);
  });

  test('migration/ touches only the toy client and the server session', async () => {
    await applySeries('migration', info.tags[TAG_152].quicheRevision);
    expect([...(await changedFiles(quiche)).keys()].sort()).toEqual([
      'quiche/quic/tools/quic_simple_server_session.cc',
      'quiche/quic/tools/quic_simple_server_session.h',
      'quiche/quic/tools/quic_toy_client.cc',
    ]);
  });

  test('adds-file/ adds a source file that the fixture BUILD.gn picks up through source_list.gni', async () => {
    const dir = await tempDir('bq-adds-file-');
    const src = join(dir, 'src');
    await mkdir(src);
    await execa('sh', ['-c', `git --git-dir="${info.repos.src}" archive refs/tags/${TAG_152} | tar -x -C "${src}"`], {
      env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    });
    await applySeries('adds-file', info.tags[TAG_152].quicheRevision);
    await cp(quiche, join(src, 'net/third_party/quiche/src'), { recursive: true });
    await writeFile(
      join(src, 'build/config/gclient_args.gni'),
      'checkout_nacl = false\ncheckout_src_internal = false\ngenerate_location_tags = false',
    );
    await mkdir(join(src, 'out/A'), { recursive: true });
    await writeFile(join(src, 'out/A/args.gn'), 'is_debug=false\nuse_siso=false\n');
    expect((await run('gn', ['gen', 'out/A'], { cwd: src })).exitCode).toBe(0);
    const desc = await run('gn', ['desc', 'out/A', '//net/third_party/quiche:quic_toy_client', 'sources'], { cwd: src });
    expect(desc.stdout).toContain('//net/third_party/quiche/src/quiche/quic/tools/quic_transfer_stats.cc');
    const plan = await run('ninja', ['-C', 'out/A', '-n', 'net:quic_client'], { cwd: src });
    expect(plan.stdout).toMatch(/CXX obj\/net\/third_party\/quiche\/src\/quiche\/quic\/tools\/quic_toy_client\.quic_transfer_stats\.o/);
  });
});
