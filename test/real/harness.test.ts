/**
 * The real tier's harness on its own (fast; runs in `npm test` too when ../shared/upstream exists): the
 * views of the shared repos, the local upstream serving them, and the mirrors that point quiche's and
 * every dependency's URL at it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec } from '../../src/process/exec.js';
import { QUICHE_URL, rewriteUrl } from '../../src/standalone/dependencies.js';
import { startUpstreamServer, type UpstreamServer } from '../../testkit/server.js';
import { spawn } from 'node:child_process';
import { descendants } from './by-hand.js';
import { ensureViews, GOOGLEURL_URL, googleurlPin, mirrorsFor, quiche152, UPSTREAM_DIR, VIEW_LAYOUT } from '../../testkit/real-views.js';
import { loadRealConfig, realConfig } from '../../testkit/real-config.js';

const GIT_ENV = { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0' };
const git = (args: string[], cwd?: string) => exec('git', args, { cwd, env: GIT_ENV });

describe.skipIf(!UPSTREAM_DIR)('real tier harness', () => {
  let dir: string;
  let views: string;
  let server: UpstreamServer;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bq-real-harness-'));
    views = await ensureViews(path.join(dir, 'views'));
    server = await startUpstreamServer({ reposDir: views });
  });
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a view is a git repository with the shared refs, and making it again changes nothing', async () => {
    const quiche = path.join(views, 'quiche.googlesource.com/quiche.git');
    const refs = (await git(['--git-dir', quiche, 'for-each-ref', '--format=%(refname)'])).stdout.split('\n');
    expect(refs).toContain(`refs/pins/${await quiche152(views)}`);
    await ensureViews(views);
    expect((await git(['--git-dir', quiche, 'cat-file', '-t', await quiche152(views)])).stdout.trim()).toBe('commit');
  });

  it('reads the 152 pin and the googleurl pin as full commits from packed-refs', async () => {
    expect(await quiche152(views)).toMatch(/^1ba0d99a[0-9a-f]{32}$/);
    expect(await googleurlPin(views)).toMatch(/^[0-9a-f]{40}$/);
  });

  it('the mirrors send quiche, the GitHub dependencies and googleurl to the local server, one view each', () => {
    const mirrors = mirrorsFor(server.baseUrl);
    const urls = [
      QUICHE_URL,
      GOOGLEURL_URL,
      'https://github.com/google/boringssl',
      'https://github.com/abseil/abseil-cpp',
      'https://github.com/protocolbuffers/protobuf',
      'https://github.com/google/quic-trace',
    ];
    const served = urls.map((url) => rewriteUrl(url, mirrors).slice(server.baseUrl.length + 1) + '.git');
    expect(served.sort()).toEqual(Object.keys(VIEW_LAYOUT).sort());
  });

  it('serves a shallow fetch of the pinned quiche commit over smart HTTP', async () => {
    const clone = path.join(dir, 'clone');
    const commit = await quiche152(views);
    await git(['init', '-q', clone]);
    await git(['fetch', '-q', '--depth=1', rewriteUrl(QUICHE_URL, mirrorsFor(server.baseUrl)), commit], clone);
    expect((await git(['rev-parse', 'FETCH_HEAD'], clone)).stdout.trim()).toBe(commit);
    expect((await git(['show', `${commit}:MODULE.bazel`], clone)).stdout).toMatch(/bazel_dep\(name = "boringssl"/);
  });

  it('the real config either loads with the quiche backend, or says why it is not available', async () => {
    const loaded = await loadRealConfig(await realConfig({ baseUrl: server.baseUrl, views, dir }), dir);
    if (loaded.config) {
      expect(loaded.config.backend).toBe('quiche');
    } else {
      expect(loaded.unavailable).toMatch(/quiche/);
    }
  });
});

describe('the process tree the kill -9 tests watch', () => {
  it('lists the command lines of children and grandchildren', async () => {
    const parent = spawn('sh', ['-c', 'sh -c "sleep 31.5" & sleep 31.25; wait'], { stdio: 'ignore', detached: true });
    try {
      await new Promise((r) => setTimeout(r, 300));
      expect(descendants(parent.pid!)).toEqual(expect.arrayContaining(['sleep 31.5', 'sleep 31.25']));
      expect(descendants(process.pid)).toEqual(expect.arrayContaining(['sleep 31.5']));
    } finally {
      process.kill(-parent.pid!, 'SIGKILL');
    }
  });
});
