/**
 * The real tier (`npm run test:real`): build-quiche with the standalone quiche backend builds the real
 * epoll_quic_client / epoll_quic_server at the Chromium 152 pin from ../shared/upstream, served by the
 * local test upstream through `quiche.mirrors`; smoke (migration in hard and validate modes) and
 * package run as in any build; the artifact installs and its programs migrate by hand; kill -9 in a
 * dependency build and in the quiche compile is survived.
 *
 * Everything lives in the persistent cache BQ_REAL_CACHE (default ~/.cache/build-quiche-real): views,
 * the main build's cache and dist (a rerun skips finished stages), and CCACHE_DIR. So a cold CI run
 * compiles once (the main build); the kill runs start from an empty build cache but compile from a warm
 * ccache, which makes them cheap.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverCertsOf } from '../../src/artifacts/manifest.js';
import { sha256 } from '../../src/util/fs.js';
import type { SmokeOutput } from '../../src/stages/smoke.js';
import { spawnCli, writeConfigFile } from '../support/cli.js';
import { startUpstreamServer, type UpstreamServer } from '../../testkit/server.js';
import { descendants, migrateByHand } from './by-hand.js';
import { runSmoke } from './smoke-harness.js';
import { CCACHE_DIR, loadRealConfig, packagedTarball, realConfig, realEnv, VIEWS_DIR, workDir } from '../../testkit/real-config.js';
import { ensureViews, REAL_CACHE, UPSTREAM_DIR } from '../../testkit/real-views.js';

const REAL_PORT = Number(process.env.BQ_REAL_PORT ?? 39152);

/** Why the real build cannot run here, or undefined. The backend check needs the views (cheap files). */
async function unavailable(): Promise<string | undefined> {
  if (!UPSTREAM_DIR) return 'no shared upstream (BQ_SHARED_UPSTREAM, default ../shared/upstream next to the clone)';
  await ensureViews(VIEWS_DIR);
  const probe = await loadRealConfig(
    await realConfig({ baseUrl: 'http://127.0.0.1:9', views: VIEWS_DIR, dir: workDir('probe') }),
    workDir('probe'),
  );
  return probe.unavailable;
}
const skipReason = await unavailable();
if (skipReason) console.warn(`real pipeline tests skipped: ${skipReason}`);

interface CliRun {
  exitCode: number | undefined;
  events: Array<Record<string, unknown> & { type: string }>;
  output: string;
  seconds: number;
}

const parseEvents = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown> & { type: string }];
      } catch {
        return [];
      }
    });

const stagesBy = (run: CliRun, type: 'stage-done' | 'stage-skip') =>
  run.events.filter((e) => e.type === type).map((e) => e.stage as string);

/** `build-quiche <args> --json` in `dir` (which holds pipeline.config.ts); `killWhen` may kill it. */
async function cli(
  dir: string,
  args: string[],
  killWhen?: (pid: number) => boolean | Promise<boolean>,
): Promise<CliRun & { killed: boolean }> {
  const started = Date.now();
  const child = spawnCli([...args, '--json'], { cwd: dir, env: realEnv() });
  let killed = false;
  const watching = (async () => {
    if (!killWhen) return;
    while (child.exitCode === null && child.pid !== undefined) {
      if (await killWhen(child.pid)) {
        process.kill(child.pid, 'SIGKILL');
        killed = true;
        return;
      }
      await sleep(250);
    }
  })();
  const result = await child;
  await watching;
  return {
    exitCode: result.exitCode,
    events: parseEvents(String(result.all ?? '')),
    output: String(result.all ?? ''),
    seconds: (Date.now() - started) / 1000,
    killed,
  };
}

const sha256Of = (bytes: Buffer) => sha256(bytes);

/** The tarball a work dir's last build packaged, and its bytes. */
async function builtTarball(dir: string): Promise<{ file: string; bytes: Buffer }> {
  const file = await packagedTarball(dir);
  expect(file, `${dir} has no packaged tarball`).toBeTruthy();
  return { file: file!, bytes: await readFile(file!) };
}

/** Every object in the manifest that records a repository (url, ref, commit), by name. */
function recordedRepos(value: unknown, name = ''): Array<{ name: string; url: string; commit: string }> {
  if (!value || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  const own =
    typeof record.url === 'string' && typeof record.commit === 'string'
      ? [{ name: typeof record.name === 'string' ? record.name : name, url: record.url, commit: record.commit }]
      : [];
  return [...own, ...Object.entries(record).flatMap(([key, child]) => recordedRepos(child, key))];
}

describe.skipIf(!!skipReason)('real tier: the standalone quiche backend end to end', () => {
  let server: UpstreamServer;
  const main = workDir('main');
  let installed: { dir: string; manifest: Record<string, unknown> & { serverKeyFile?: string }; binaries: Record<string, string> };

  beforeAll(async () => {
    await mkdir(CCACHE_DIR, { recursive: true });
    // A fixed port: the mirrors in the config name it, and the same URLs keep finished stages valid.
    server = await startUpstreamServer({ reposDir: VIEWS_DIR, port: REAL_PORT });
    await writeConfigFile(main, await realConfig({ baseUrl: server.baseUrl, views: VIEWS_DIR, dir: main }));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('builds at the 152 pin, smoke-tests migration in hard and validate modes, and packages a verified artifact', async () => {
    const run = await cli(main, ['build']);
    console.log(
      `main build: exit ${run.exitCode} in ${run.seconds.toFixed(0)} s; ran ${stagesBy(run, 'stage-done').join(', ')}; skipped ${stagesBy(run, 'stage-skip').join(', ')}`,
    );
    expect(run.exitCode, run.output.slice(-4000)).toBe(0);
    const state = JSON.parse(await readFile(path.join(main, 'cache', 'state.json'), 'utf8')) as {
      stages: Record<string, { outputs: unknown }>;
    };
    const smoke = state.stages.smoke!.outputs as SmokeOutput;
    expect(smoke.migration.modes!.map((m) => m.mode)).toEqual(expect.arrayContaining(['hard', 'validate']));
    for (const mode of smoke.migration.modes!) expect(mode.matched, mode.mode).toBe(mode.migrations);

    const install = await cli(main, ['install', (await builtTarball(main)).file, '--to', path.join(main, 'installed')]);
    expect(install.exitCode, install.output).toBe(0);
    installed = JSON.parse(install.output.slice(install.output.indexOf('{'))) as typeof installed;
    expect(installed.manifest).toMatchObject({ backend: 'quiche', serverKeyFile: 'certs/leaf_cert.key' });
    const repos = recordedRepos(installed.manifest).map((r) => r.name);
    expect(repos).toEqual(expect.arrayContaining(['boringssl', 'abseil-cpp', 'protobuf', 'googleurl', 'quic-trace']));
    expect(Object.keys(installed.binaries).map((f) => path.basename(f))).toEqual(
      expect.arrayContaining(['epoll_quic_client', 'epoll_quic_server']),
    );
    // What was built, not where: canonical upstream URLs, no mirror, no path of this machine, in the
    // manifest or in the binaries (the build's directories are mapped out of every compile).
    const published = JSON.stringify(installed.manifest);
    for (const local of [server.baseUrl, REAL_CACHE, os.homedir(), 'file://']) expect(published).not.toContain(local);
    expect(recordedRepos(installed.manifest).map((r) => r.url)).toEqual(
      recordedRepos(installed.manifest).map(() => expect.stringMatching(/^https:\/\//)),
    );
    for (const binary of Object.values(installed.binaries)) {
      const bytes = await readFile(binary);
      expect(bytes.includes(REAL_CACHE), `${binary} names ${REAL_CACHE}`).toBe(false);
    }
  });

  it('through another mirror (file:// paths), the same commits have the same fingerprint: the store serves the artifact, nothing is built', async () => {
    const other = workDir('other-mirror');
    await rm(other, { recursive: true, force: true });
    const fileMirror = `file://${VIEWS_DIR}/`;
    const config = await realConfig(
      { baseUrl: server.baseUrl, views: VIEWS_DIR, dir: other },
      { publish: [{ type: 'dir', path: path.join(main, 'dist', 'store') }] },
    );
    (config.quiche as { mirrors: Record<string, string> }).mirrors = {
      'https://quiche.googlesource.com/': `${fileMirror}quiche.googlesource.com/`,
      'https://github.com/': `${fileMirror}github.com/`,
    };
    await writeConfigFile(other, config);
    const run = await cli(other, ['build']);
    expect(run.exitCode, run.output.slice(-4000)).toBe(0);
    const reuse = run.events.find((e) => e.type === 'stage-done' && e.stage === 'reuse');
    expect(reuse?.summary, run.output.slice(-2000)).toMatch(/^reused /);
    expect(stagesBy(run, 'stage-done')).not.toEqual(expect.arrayContaining(['checkout', 'compile']));
    const state = JSON.parse(await readFile(path.join(other, 'cache', 'state.json'), 'utf8')) as {
      stages: { reuse: { outputs: { artifact: { sha256: string } } } };
    };
    expect(state.stages.reuse.outputs.artifact.sha256).toBe(sha256Of((await builtTarball(main)).bytes));
  });

  it('a second cache dir, sharing only ccache, builds the same tarball byte for byte', async () => {
    const second = workDir('second-dir');
    await rm(second, { recursive: true, force: true });
    await writeConfigFile(second, await realConfig({ baseUrl: server.baseUrl, views: VIEWS_DIR, dir: second }, { reuse: false }));
    const run = await cli(second, ['build']);
    console.log(`second cache dir: exit ${run.exitCode} in ${run.seconds.toFixed(0)} s`);
    expect(run.exitCode, run.output.slice(-4000)).toBe(0);
    expect(stagesBy(run, 'stage-done')).toEqual(expect.arrayContaining(['dependency-builds', 'compile', 'package']));
    expect(sha256Of((await builtTarball(second)).bytes)).toBe(sha256Of((await builtTarball(main)).bytes));
  });

  it('the installed epoll_quic_client, run by hand against the installed epoll_quic_server, migrates with matching CIDs', async () => {
    const binDir = path.dirname(Object.values(installed.binaries).find((f) => path.basename(f) === 'epoll_quic_client')!);
    const run = await migrateByHand(binDir, serverCertsOf(installed.dir, installed.manifest));
    expect(run.exitCode, run.clientOut).toBe(0);
    expect(run.clientOut).toContain('Request succeeded (200).');
    expect(run.match.clientOk.length).toBeGreaterThan(0);
    expect(run.match.matched).toHaveLength(run.match.clientOk.length);
    expect([run.match.unmatched, run.match.clientFailed, run.match.duplicateClientPairs, run.match.revertedClientOk]).toEqual([
      [],
      [],
      [],
      [],
    ]);
  });

  it('with the default smoke settings (the first download sized from a measured throughput, every 500 ms), every timed mode passes', async () => {
    // The old fixed 20 MB took the real client about 0.3 s on an idle machine: over before the first
    // interval, so every run made a wasted try. 'auto' sizes it from the probe; the retry stays for a miss.
    const binDir = path.dirname(Object.values(installed.binaries).find((f) => path.basename(f) === 'epoll_quic_client')!);
    const dir = workDir('default-smoke');
    await rm(dir, { recursive: true, force: true });
    const run = await runSmoke(binDir, dir, { migration: 'require' });
    console.log(`default smoke settings:\n  ${run.notes.join('\n  ')}`);
    expect(run.error, run.notes.join('\n')).toBeUndefined();
    for (const mode of run.migration!.modes!) {
      console.log(
        `  ${mode.mode}: ${mode.tries} ${mode.tries === 1 ? 'try' : 'tries'}, ${(mode.responseBytes / 1e6).toFixed(0)} MB in the last`,
      );
      expect(mode.migrations, mode.mode).toBeGreaterThan(0);
      expect(mode.matched, mode.mode).toBe(mode.migrations);
    }
  });

  describe('kill -9, then the next run resumes and finishes', () => {
    const dir = workDir('kill');
    beforeAll(async () => {
      // From an empty build cache every time, so the kills land in the stages they are meant for; the
      // ccache of the main build keeps the rebuilds cheap.
      await rm(dir, { recursive: true, force: true });
      await writeConfigFile(dir, await realConfig({ baseUrl: server.baseUrl, views: VIEWS_DIR, dir }, { reuse: false, publish: [] }));
    });

    it('killed while a dependency builds (cmake --build), the next run keeps the checkout and carries on', async () => {
      const killed = await cli(dir, ['build'], (pid) => descendants(pid).some((c) => /\bcmake\b.*--build/.test(c)));
      expect(killed.killed, killed.output.slice(-3000)).toBe(true);
      const next = await cli(
        dir,
        ['build'],
        (pid) => existsSync(path.join(dir, 'cache', 'guards', 'compile.json')) && descendants(pid).some((c) => /\bninja\b/.test(c)),
      );
      console.log(`after the dependency-build kill: ${next.seconds.toFixed(0)} s; skipped ${stagesBy(next, 'stage-skip').join(', ')}`);
      expect(stagesBy(next, 'stage-skip')).toContain('checkout');
      // This run is killed in turn during the quiche compile (the next test picks up from there).
      expect(next.killed, next.output.slice(-3000)).toBe(true);
    });

    it('killed during the quiche compile, the next run finishes the compile, smoke-tests and packages', async () => {
      const last = await cli(dir, ['build']);
      console.log(
        `after the compile kill: exit ${last.exitCode} in ${last.seconds.toFixed(0)} s; ran ${stagesBy(last, 'stage-done').join(', ')}`,
      );
      expect(last.exitCode, last.output.slice(-4000)).toBe(0);
      expect(stagesBy(last, 'stage-skip')).toContain('checkout');
      expect(stagesBy(last, 'stage-done')).toEqual(expect.arrayContaining(['compile', 'smoke', 'package']));
    });
  });
});
