import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { cachedUpstream, TAG_150, TAG_152, type UpstreamInfo } from '../../../testkit/build.js';
import { copyWorkspace, createWorkspace, git, head, removeTempDirs, syncArgs, type Workspace } from '../../../testkit/helpers.js';
import { startUpstreamServer, type UpstreamServer } from '../../../testkit/server.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

let info: UpstreamInfo;
let server: UpstreamServer;
/** Synced at 150 once; tests work on copies. */
let at150: Workspace;

beforeAll(async () => {
  info = await cachedUpstream();
  server = await startUpstreamServer({ reposDir: info.reposDir });
  at150 = await createWorkspace({ baseUrl: server.baseUrl, info });
  const result = await at150.gclient(syncArgs(TAG_150));
  if (result.exitCode !== 0) throw new Error(`template sync failed:\n${result.all}`);
});

afterAll(async () => {
  await server?.close();
  await removeTempDirs();
});

describe('fake gclient sync over HTTP', () => {
  test.each([TAG_152, TAG_150] as const)('syncs src at %s with quiche and depot_tools at their DEPS pins', async (tag) => {
    const ws = await createWorkspace({ baseUrl: server.baseUrl, info });
    const result = await ws.gclient(syncArgs(tag));
    expect(result.exitCode, result.all).toBe(0);
    expect(await head(ws.src)).toBe(info.tags[tag].srcCommit);
    expect(await head(ws.quiche)).toBe(info.tags[tag].quicheRevision);
    expect(await head(join(ws.src, 'third_party/depot_tools'))).toBe(info.tags[tag].depotToolsRevision);
    expect(await git(ws.quiche, ['rev-parse', '--is-shallow-repository'])).toBe('true');
  });

  test('reports the revisions from before the sync in --output-json and "Checked out revision" lines', async () => {
    const ws = await copyWorkspace(at150);
    const json = join(ws.dir, 'out.json');
    const result = await ws.gclient(syncArgs(TAG_152, '--output-json', json));
    expect(result.exitCode, result.all).toBe(0);
    const reported = JSON.parse(await readFile(json, 'utf8')) as { solutions: Record<string, { revision: string }> };
    expect(reported.solutions['src/net/third_party/quiche/src/']!.revision).toBe(info.tags[TAG_150].quicheRevision);
    expect(reported.solutions['src/']!.revision).toBe(info.tags[TAG_150].srcCommit);
    expect(result.stdout).toContain(`src/net/third_party/quiche/src: Checked out revision ${info.tags[TAG_150].quicheRevision}`);
    expect(await head(ws.quiche)).toBe(info.tags[TAG_152].quicheRevision);
    expect(await head(ws.src)).toBe(info.tags[TAG_152].srcCommit);
  });

  test('applies --no-history to the first clone only: moving a dep fetches its history', async () => {
    const ws = await copyWorkspace(at150);
    expect(await git(ws.quiche, ['rev-parse', '--is-shallow-repository'])).toBe('true');
    const result = await ws.gclient(syncArgs(TAG_152));
    expect(result.exitCode, result.all).toBe(0);
    expect(await git(ws.quiche, ['rev-parse', '--is-shallow-repository'])).toBe('false');
    expect(await git(ws.quiche, ['rev-list', '--count', 'HEAD'])).toBe(
      String(info.quicheCommits.indexOf(info.tags[TAG_152].quicheRevision) + 1),
    );
  });

  test('never moves the unmanaged src without -r, even when asked to sync', async () => {
    const ws = await copyWorkspace(at150);
    const result = await ws.gclient(['sync', '--nohooks', '--ignore-dep-type=cipd']);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain('unmanaged solution; skipping src');
    expect(await head(ws.src)).toBe(info.tags[TAG_150].srcCommit);
  });

  test('lets custom_vars override DEPS vars such as quiche_revision', async () => {
    const ws = await createWorkspace({ baseUrl: server.baseUrl, info, customVars: { quiche_revision: info.quicheCommits[0] } });
    const result = await ws.gclient(syncArgs(TAG_152));
    expect(result.exitCode, result.all).toBe(0);
    expect(await head(ws.quiche)).toBe(info.quicheCommits[0]);
  });

  test('keeps a dep that left DEPS with a warning, and deletes it with -D', async () => {
    const ws = await copyWorkspace(at150);
    const gclientFile = join(ws.root, '.gclient');
    const spec = await readFile(gclientFile, 'utf8');
    await writeFile(gclientFile, spec.replace('"custom_deps": {}', '"custom_deps": {"src/third_party/depot_tools": None}'));
    const kept = await ws.gclient(['sync', '--nohooks', '--ignore-dep-type=cipd', '-r', `src@refs/tags/${TAG_150}`]);
    expect(kept.exitCode, kept.all).toBe(0);
    expect(kept.stdout).toContain("'src/third_party/depot_tools' is no longer part of this client");
    expect(existsSync(join(ws.src, 'third_party/depot_tools/.git'))).toBe(true);
    const deleted = await ws.gclient(['sync', '--nohooks', '--ignore-dep-type=cipd', '-D', '-r', `src@refs/tags/${TAG_150}`]);
    expect(deleted.exitCode, deleted.all).toBe(0);
    expect(existsSync(join(ws.src, 'third_party/depot_tools/.git'))).toBe(false);
  });

  test('writes build/config/gclient_args.gni from gclient_gn_args with custom_vars applied', async () => {
    const text = await readFile(join(at150.src, 'build/config/gclient_args.gni'), 'utf8');
    expect(text).toContain('checkout_nacl = false');
    expect(text).toContain('generate_location_tags = true');
  });

  test('runs the lastchange and configure_siso hooks in runhooks', async () => {
    const ws = await copyWorkspace(at150);
    const result = await ws.gclient(['runhooks']);
    expect(result.exitCode, result.all).toBe(0);
    expect(await readFile(join(ws.src, 'build/util/LASTCHANGE'), 'utf8')).toContain(`LASTCHANGE=${info.tags[TAG_150].srcCommit}`);
    expect(await readFile(join(ws.src, 'build/config/siso/.sisoenv'), 'utf8')).toContain('SISO_REAPI_INSTANCE=default_instance');
  });
});

describe('fake gclient revinfo, getdep and config', () => {
  test('revinfo prints DEPS pins, and --actual the checked-out revisions', async () => {
    const ws = await copyWorkspace(at150);
    await git(ws.quiche, ['fetch', '-q', 'origin', info.quicheCommits[0]!]);
    await git(ws.quiche, ['checkout', '-q', info.quicheCommits[0]!]);
    const pinned = await ws.gclient(['revinfo']);
    expect(pinned.stdout).toContain(`src/net/third_party/quiche/src: ${server.baseUrl}/quiche.git@${info.tags[TAG_150].quicheRevision}`);
    const actual = await ws.gclient(['revinfo', '--actual']);
    expect(actual.exitCode, actual.all).toBe(0);
    expect(actual.stdout).toContain(`src/net/third_party/quiche/src: ${server.baseUrl}/quiche.git@${info.quicheCommits[0]}`);
    expect(actual.stdout).toContain(`src: ${server.baseUrl}/chromium/src.git@${info.tags[TAG_150].srcCommit}`);
  });

  test('getdep reads a dep revision and vars from DEPS in the current directory', async () => {
    const rev = await at150.gclient(['getdep', '-r', 'src/net/third_party/quiche/src'], { cwd: at150.src });
    expect(rev.stdout.trim()).toBe(info.tags[TAG_150].quicheRevision);
    const vars = await at150.gclient(['getdep', '--var', 'quiche_revision', '--var', 'gn_version'], { cwd: at150.src });
    expect(vars.stdout.trim().split('\n')).toEqual([info.tags[TAG_150].quicheRevision, info.tags[TAG_150].gnVersion]);
    const missing = await at150.gclient(['getdep', '--var', 'no_such_var'], { cwd: at150.src });
    expect(missing.exitCode).toBe(1);
  });

  test('config writes an unmanaged solution with custom vars', async () => {
    const ws = await copyWorkspace(at150);
    const result = await ws.gclient(
      [
        'config',
        `${server.baseUrl}/chromium/src.git`,
        '--name',
        'src',
        '--unmanaged',
        '--custom-var',
        'checkout_nacl=False',
        '--custom-var',
        `quiche_git=${server.baseUrl}`,
      ],
      { cwd: ws.dir },
    );
    expect(result.exitCode, result.all).toBe(0);
    const text = await readFile(join(ws.dir, '.gclient'), 'utf8');
    expect(text).toContain('"managed"     : False');
    expect(text).toContain("'checkout_nacl': False");
    expect(text).toContain(`'quiche_git': '${server.baseUrl}'`);
  });

  test('config --spec writes the spec verbatim', async () => {
    const ws = await copyWorkspace(at150);
    const spec = 'solutions = [{"name": "src", "url": "http://127.0.0.1:1/chromium/src.git", "managed": False}]\ntarget_os = ["linux"]';
    const result = await ws.gclient(['config', '--spec', spec], { cwd: ws.dir });
    expect(result.exitCode, result.all).toBe(0);
    expect(await readFile(join(ws.dir, '.gclient'), 'utf8')).toBe(`${spec}\n`);
  });
});
