/**
 * The standalone quiche backend's product wiring against the REAL sources of ../shared/upstream, served
 * by the local upstream server (git smart HTTP + gitiles) with quiche.mirrors pointing every URL at it:
 * dependency pinning from quiche's own MODULE.bazel, the shallow verified checkout, retry of a 503,
 * resume after kill -9, the patch stage into the quiche checkout. No compiles (test/real does those).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plan, status } from '../../src/api/pipeline.js';
import type { UserConfig } from '../../src/config/schema.js';
import { fingerprint } from '../../src/engine/fingerprint.js';
import { Guards } from '../../src/engine/guard.js';
import { CMAKE_RECIPES, installPrefixName, type CmakeDependency } from '../../src/standalone/cmake-recipes.js';
import { INSTALLED_MARKER, prefixDir } from '../../src/stages/backends/standalone/layout.js';
import { createAppContext } from '../../src/stages/context.js';
import { ConfigError } from '../../src/errors.js';
import { exec } from '../../src/process/exec.js';
import type { StandaloneCheckoutOutput } from '../../src/stages/backends/standalone/checkout.js';
import { dependencyPinsStage, type DependencyPinsOutput } from '../../src/stages/backends/standalone/dependency-pins.js';
import { headCommit } from '../../src/tools/git.js';
import { startUpstreamServer, type UpstreamServer } from '../../testkit/server.js';
import { spawnCli, waitForLine, writeConfigFile } from '../support/cli.js';
import { standaloneConfig } from '../support/standalone-config.js';
import { resolved, runBuild, workspace } from '../../testkit/world.js';
import { GOOGLEURL_PIN, QUICHE_143, QUICHE_152, removeViews, SKIP_REASON, upstreamViews } from '../../testkit/shared-upstream.js';

// The commits the upstream repositories hold for quiche 1ba0d99a's MODULE.bazel (README of ../shared/upstream).
const EXPECTED = {
  boringssl: { ref: '0.20260508.0', commit: '8fd77b6bedc4111625f9c51acf19f519fc4cf1d4' },
  'abseil-cpp': { ref: '20260107.0', commit: 'd407ef122a08203648451e0fec77b3f868b71112' },
  protobuf: { ref: 'v31.1', commit: 'e2e6c396159c2daf1decf4dabd90084fc5ffb7a9' },
  googleurl: { ref: GOOGLEURL_PIN, commit: GOOGLEURL_PIN },
  'quic-trace': { ref: 'c33abf42245ee56745addc9f1e06f914c48c9ca4', commit: 'c33abf42245ee56745addc9f1e06f914c48c9ca4' },
};

let server: UpstreamServer;
let views: string;
beforeAll(async () => {
  if (SKIP_REASON) return;
  views = await upstreamViews();
  server = await startUpstreamServer({ reposDir: views });
});

/** A series with no patches (the fabricated quiche has none of the files the default series patches). */
function emptySeries(dir: string): string {
  const file = path.join(dir, 'empty-series');
  writeFileSync(file, '');
  return file;
}
afterAll(async () => {
  await server?.close();
  await removeViews();
});

/** The standalone config against this file's server. */
const quicheConfig = (dir: string, overrides: Partial<NonNullable<UserConfig['quiche']>> = {}) =>
  standaloneConfig(server.baseUrl, dir, overrides);

async function withWorkspace(body: (dir: string) => Promise<void>) {
  const ws = await workspace('bq-quiche-');
  try {
    await body(ws.dir);
  } finally {
    await ws.remove();
  }
}

const outputsOf = async <T>(dir: string, stage: string): Promise<T> =>
  (JSON.parse(await readFile(path.join(dir, 'cache', 'state.json'), 'utf8')) as { stages: Record<string, { outputs: T }> }).stages[stage]!
    .outputs;

const git = async (dir: string, ...args: string[]) => (await exec('git', ['-C', dir, ...args])).stdout.trim();

describe.skipIf(!!SKIP_REASON)('quiche backend against the real upstream sources', () => {
  it('plan lists the standalone stages: dependency pinning before reuse, CMake and ninja after patch', () =>
    withWorkspace(async (dir) => {
      const entries = await plan({ config: await resolved(quicheConfig(dir), dir) });
      expect(entries.map((e) => e.stage)).toEqual([
        'preflight',
        'resolve',
        'patch-check',
        'dependency-pins',
        'reuse',
        'checkout',
        'patch',
        'dependency-builds',
        'configure',
        'compile',
        'smoke',
        'package',
        'publish',
      ]);
      expect(
        entries
          .filter((e) => ['dependency-pins', 'checkout', 'dependency-builds', 'configure', 'compile'].includes(e.stage))
          .map((e) => e.status),
      ).toEqual(['run', 'run', 'run', 'run', 'run']);
    }));

  it('quiche.revision is built as given (DEPS is not read) and every dependency is pinned from its MODULE.bazel', () =>
    withWorkspace(async (dir) => {
      const run = await runBuild(await resolved(quicheConfig(dir), dir), { until: 'dependency-pins' });
      expect(run.error).toBeUndefined();
      expect(run.ran).toEqual(expect.arrayContaining(['resolve', 'patch-check', 'dependency-pins']));
      const resolve = await outputsOf<{ version: string; quicheRevision: string; srcCommit: string }>(dir, 'resolve');
      expect(resolve).toMatchObject({ version: 'quiche-1ba0d99a5c2f', quicheRevision: QUICHE_152, srcCommit: '' });
      expect(server.requests.some((r) => r.path.includes('chromium'))).toBe(false);

      const deps = await outputsOf<DependencyPinsOutput>(dir, 'dependency-pins');
      expect(deps.quiche).toEqual({ url: `${server.baseUrl}/quiche`, commit: QUICHE_152 });
      expect(deps.system).toEqual(['zlib']);
      expect(Object.fromEntries(deps.dependencies.map((d) => [d.name, { ref: d.ref, commit: d.commit }]))).toEqual(EXPECTED);
      expect(deps.dependencies.find((d) => d.name === 'boringssl')).toMatchObject({
        url: `${server.baseUrl}/boringssl`,
        origin: 'module-bazel',
        declared: 'bazel_dep boringssl 0.20260508.0',
      });
      expect(deps.dependencies.find((d) => d.name === 'googleurl')).toMatchObject({
        origin: 'override',
        declared: expect.stringContaining('gurl/archive/94ff147fe0b9'),
      });
      expect(deps.toolchain).toMatchObject({
        cc: 'gcc-12',
        cxx: 'g++-12',
        flags: ['-O1', '-g0'],
        compilerId: expect.stringMatching(/g\+\+/),
      });
    }));

  it('the same commits through two mirrors (the loopback server, file:// paths) have one fingerprint, naming no mirror', () =>
    withWorkspace(async (dir) => {
      const viaServer = path.join(dir, 'server');
      const viaFiles = path.join(dir, 'files');
      const fileMirror = `file://${views}/`;
      const fileMirrors = {
        'https://quiche.googlesource.com/': fileMirror,
        'https://github.com/google/': fileMirror,
        'https://github.com/abseil/': fileMirror,
        'https://github.com/protocolbuffers/': fileMirror,
      };
      const a = await runBuild(await resolved(quicheConfig(viaServer), viaServer), { until: 'reuse' });
      const b = await runBuild(
        await resolved({ ...quicheConfig(viaFiles), quiche: { ...quicheConfig(viaFiles).quiche, mirrors: fileMirrors } }, viaFiles),
        {
          until: 'reuse',
        },
      );
      expect(a.error).toBeUndefined();
      expect(b.error).toBeUndefined();
      const pinsA = await outputsOf<DependencyPinsOutput>(viaServer, 'dependency-pins');
      const pinsB = await outputsOf<DependencyPinsOutput>(viaFiles, 'dependency-pins');
      expect(pinsB.dependencies.find((d) => d.name === 'boringssl')?.url).toBe(`${fileMirror}boringssl`);
      expect(pinsA.dependencies.map((d) => d.canonicalUrl)).toEqual(pinsB.dependencies.map((d) => d.canonicalUrl));
      const fingerprintA = (await outputsOf<{ fingerprint: string }>(viaServer, 'reuse')).fingerprint;
      expect((await outputsOf<{ fingerprint: string }>(viaFiles, 'reuse')).fingerprint).toBe(fingerprintA);
    }));

  it('quiche.revision with the chromium backend is a config error that says which backend builds a quiche commit', () =>
    withWorkspace(async (dir) => {
      const run = await runBuild(await resolved({ ...quicheConfig(dir), backend: 'chromium' }, dir), { until: 'resolve' });
      expect(run.error).toBeInstanceOf(ConfigError);
      expect((run.error as ConfigError).message).toMatch(/quiche\.revision is set, but the chromium backend/);
    }));

  it("a dependency MODULE.bazel gives in a form the table cannot map stops the run, naming the override (quiche 143's googleurl)", () =>
    withWorkspace(async (dir) => {
      const run = await runBuild(await resolved(quicheConfig(dir, { revision: QUICHE_143, dependencies: {} }), dir), { until: 'checkout' });
      expect(run.error).toBeInstanceOf(ConfigError);
      expect((run.error as ConfigError).exitCode).toBe(2);
      expect((run.error as ConfigError).message).toMatch(/Cannot map quiche's googleurl dependency.*storage\.googleapis\.com/s);
      expect((run.error as ConfigError).hint).toMatch(/quiche\.dependencies\.googleurl = \{ url/);
      expect(existsSync(path.join(dir, 'cache', 'quiche', 'src'))).toBe(false);
    }));

  it('a dependency MODULE.bazel declares that build-quiche does not know stops the run naming it, until the config says to ignore it', () =>
    withWorkspace(async (dir) => {
      // quiche's real MODULE.bazel plus one more bazel_dep, committed to a repository the server also serves.
      const work = path.join(dir, 'work');
      await exec('git', ['init', '-q', work]);
      const moduleBazel = (await exec('git', ['--git-dir', path.join(views, 'quiche.git'), 'show', `${QUICHE_152}:MODULE.bazel`])).stdout;
      await writeFile(path.join(work, 'MODULE.bazel'), `${moduleBazel}\nbazel_dep(name = "snappy", version = "1.2.1")\n`);
      const env = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
      await exec('git', ['-C', work, 'add', 'MODULE.bazel'], { env });
      await exec('git', ['-C', work, 'commit', '-q', '-m', 'adds snappy'], { env });
      const commit = await git(work, 'rev-parse', 'HEAD');
      const bare = path.join(views, `quiche-snappy-${path.basename(dir)}.git`);
      await exec('git', ['clone', '-q', '--bare', work, bare]);
      const url = `${server.baseUrl}/${path.basename(bare, '.git')}`;
      const config = (ignore: boolean) =>
        quicheConfig(dir, {
          url,
          revision: commit,
          dependencies: {
            googleurl: { url: `${server.baseUrl}/googleurl`, ref: GOOGLEURL_PIN },
            ...(ignore ? { snappy: { ignore: true } } : {}),
          },
        });

      const run = await runBuild(await resolved({ ...config(false), patches: { series: emptySeries(dir) } }, dir), {
        until: 'dependency-pins',
      });
      expect(run.error).toBeInstanceOf(ConfigError);
      expect((run.error as ConfigError).message).toBe("quiche's MODULE.bazel declares a dependency build-quiche does not know: snappy.");
      expect((run.error as ConfigError).hint).toMatch(/quiche\.dependencies\.snappy = \{ ignore: true \}/);

      const ignored = await runBuild(await resolved({ ...config(true), patches: { series: emptySeries(dir) } }, dir), {
        until: 'dependency-pins',
      });
      expect(ignored.error).toBeUndefined();
      expect((await outputsOf<DependencyPinsOutput>(dir, 'dependency-pins')).dependencies.map((d) => d.name)).toEqual([
        'boringssl',
        'abseil-cpp',
        'protobuf',
        'googleurl',
        'quic-trace',
      ]);
    }));

  // One scenario for the checkout, because each full checkout of the six repositories costs seconds:
  // a first run killed in a fetch, a rerun that meets a 503, then a no-op run.
  it('after kill -9 during a dependency fetch the rerun resumes in the partial clone, retries a 503, checks out every repository one commit deep at its commit and patches quiche', () =>
    withWorkspace(async (dir) => {
      server.faults.reset();
      await writeConfigFile(dir, quicheConfig(dir));
      const child = spawnCli(['build', '--until', 'checkout', '--verbose', '--plain'], { cwd: dir });
      await waitForLine(child, /dependency-pins.*(done|✔)|checkout: quiche: fetching/);
      // Every boringssl fetch hangs from now on, so the kill lands inside it.
      server.faults.delay(8_000, { pathContains: 'boringssl/git-upload-pack' });
      await waitForLine(child, 'boringssl: fetching');
      await new Promise((resolve) => setTimeout(resolve, 500));
      child.kill('SIGKILL');
      await child;
      const boringssl = path.join(dir, 'cache', 'quiche', 'src', `boringssl-${EXPECTED.boringssl.commit.slice(0, 12)}`);
      const quiche = path.join(dir, 'cache', 'quiche', 'src', `quiche-${QUICHE_152.slice(0, 12)}`);
      expect(await headCommit(boringssl)).toBeUndefined(); // the partial clone the kill left
      const partial = (await stat(path.join(boringssl, '.git'))).ino;
      await writeFile(path.join(quiche, '.git', 'index.lock'), ''); // what a killed git leaves behind

      server.faults.reset();
      // protobuf comes after boringssl: its first fetch request fails with a 503.
      server.faults.failNext(1, { status: 503, pathContains: '/protobuf/' });
      const rerun = await spawnCli(['build', '--until', 'patch', '--plain'], { cwd: dir });
      expect(rerun.exitCode, rerun.all).toBe(0);
      expect(rerun.all).toMatch(/removed stale .*quiche-1ba0d99a5c2f\/\.git\/index\.lock/);
      expect(server.requests.some((r) => r.fault === 'fail' && r.status === 503)).toBe(true);
      expect(rerun.all).toMatch(/checkout: protobuf: fetch failed .*retry 1/);
      expect((await stat(path.join(boringssl, '.git'))).ino).toBe(partial);

      const checkout = await outputsOf<StandaloneCheckoutOutput>(dir, 'checkout');
      const commits = { quiche: QUICHE_152, ...Object.fromEntries(Object.entries(EXPECTED).map(([n, e]) => [n, e.commit])) };
      expect(Object.fromEntries(Object.entries(checkout.sources).map(([n, r]) => [n, r.commit]))).toEqual(commits);
      for (const [name, repo] of Object.entries(checkout.sources)) {
        expect(repo.path).toBe(path.join(dir, 'cache', 'quiche', 'src', `${name}-${repo.commit.slice(0, 12)}`));
        expect(await headCommit(repo.path)).toBe(repo.commit);
        expect(await git(repo.path, 'rev-parse', '--is-shallow-repository')).toBe('true');
        expect(await git(repo.path, 'rev-list', '--count', 'HEAD')).toBe('1');
      }
      expect(checkout.repos.quiche).toEqual(checkout.sources.quiche);
      // The patch stage wrote the series into the quiche checkout, and only there.
      const patched = await outputsOf<{ files: Array<{ repo: string; path: string }> }>(dir, 'patch');
      expect(patched.files.length).toBeGreaterThan(0);
      expect(patched.files.every((f) => f.repo === 'quiche')).toBe(true);
      expect((await git(quiche, 'diff', '--name-only')).split('\n').sort()).toEqual(patched.files.map((f) => f.path).sort());

      const again = await runBuild(await resolved(quicheConfig(dir), dir), { until: 'patch' });
      expect(again.error).toBeUndefined();
      expect(again.skipped).toEqual(expect.arrayContaining(['dependency-pins', 'checkout', 'patch']));
    }));

  // A cache made by the build-quiche that called these stages quiche-deps and dependencies: the
  // pins are taken as they are (no re-resolve), and a dependency build that died is redone.
  it('a cache made before the stage renames keeps its dependency pins and repairs a dependency build left by a killed run', () =>
    withWorkspace(async (dir) => {
      server.faults.reset();
      const config = await resolved({ ...quicheConfig(dir), patches: { series: emptySeries(dir) } }, dir);
      expect((await runBuild(config, { until: 'patch' })).error).toBeUndefined();

      // The prefixes a finished dependency build left, so the rerun below needs no CMake.
      const app = createAppContext(config);
      const { toolchain } = await outputsOf<DependencyPinsOutput>(dir, 'dependency-pins');
      const { sources } = await outputsOf<StandaloneCheckoutOutput>(dir, 'checkout');
      const prefixes: Partial<Record<CmakeDependency, string>> = {};
      for (const name of ['boringssl', 'abseil-cpp', 'protobuf'] as const) {
        const needed = Object.fromEntries(CMAKE_RECIPES[name].needs.map((n) => [n, prefixes[n]!]));
        const prefix = prefixDir(app, installPrefixName(name, sources[name]!.commit, toolchain, needed));
        await mkdir(path.join(prefix, 'lib'), { recursive: true });
        await writeFile(path.join(prefix, INSTALLED_MARKER), '');
        prefixes[name] = prefix;
      }

      // state.json and guards as the old build-quiche wrote them: records keyed (and fingerprinted) by
      // the old ids (at the stage's current version: a version bump reruns a stage whatever its id),
      // and the guard of a run killed inside the old `dependencies` stage.
      const stateFile = path.join(dir, 'cache', 'state.json');
      const state = JSON.parse(await readFile(stateFile, 'utf8')) as { stages: Record<string, { fingerprint: string; inputs: unknown }> };
      const pins = state.stages['dependency-pins']!;
      state.stages['quiche-deps'] = {
        ...pins,
        fingerprint: fingerprint({ stage: 'quiche-deps', version: dependencyPinsStage.version ?? 1, inputs: pins.inputs }),
      };
      delete state.stages['dependency-pins'];
      await writeFile(stateFile, JSON.stringify(state));
      await new Guards(path.join(dir, 'cache', 'guards')).write({
        stage: 'dependencies',
        runId: 'killed',
        pid: 999999,
        startedAt: '',
        data: {},
      });

      const report = await status({ config });
      expect(report.stages.find((s) => s.stage === 'dependency-pins')?.record).toBeDefined();
      expect(report.stages.find((s) => s.stage === 'dependency-builds')?.guard).toMatchObject({ runId: 'killed' });

      const rerun = await runBuild(config, { until: 'dependency-builds' });
      expect(rerun.error).toBeUndefined();
      expect(rerun.ran).toEqual(['dependency-builds']);
      expect(rerun.skipped).toEqual(expect.arrayContaining(['dependency-pins', 'checkout', 'patch']));
      const start = rerun.events.find((e) => e.type === 'stage-start' && e.stage === 'dependency-builds');
      expect(start).toMatchObject({ reason: expect.stringMatching(/the run killed \(pid 999999\) died in this stage/) });

      const after = JSON.parse(await readFile(stateFile, 'utf8')) as { stages: Record<string, unknown> };
      expect(Object.keys(after.stages)).toEqual(expect.arrayContaining(['dependency-pins', 'dependency-builds']));
      expect(Object.keys(after.stages)).not.toContain('quiche-deps');
      expect(existsSync(path.join(dir, 'cache', 'guards', 'dependencies.json'))).toBe(false);
    }));
});
