/**
 * The --docker runner without a container engine: what it mounts and passes inside, which user the
 * container gets, when the image is rebuilt, and how it drives the engine (a fake one that records
 * its calls). The real thing, with podman, is docker.e2e.test.ts.
 */
import { cp, chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BUNDLED_SERIES, loadConfig, type ResolvedConfig } from '../../../src/config/load.js';
import {
  chooseContainerUser,
  ContainerEngineNotFoundError,
  ContainerRunError,
  findEngine,
  IMAGE_INPUTS,
  imageHash,
  ImageBuildError,
  ImagePullNetworkError,
  planContainer,
  rootSwapMap,
  runContainerized,
  stripHostOnlyArgs,
  type ContainerEngine,
} from '../../../src/docker/index.js';
import { sameOrHostPath } from '../../../src/docker/plan.js';
import { REPO_ROOT } from '../../support/podman.js';

const FAKE_ENGINE = path.join(REPO_ROOT, 'test/unit/docker/fixtures/fake-engine.sh');
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'bq-docker-unit-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function project(name: string, config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<ResolvedConfig> {
  const dir = path.join(tmp, name);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'pipeline.config.mjs');
  await writeFile(file, `export default ${JSON.stringify(config)};\n`);
  return loadConfig({ configFile: file, cwd: dir, env });
}

describe('the argv passed inside', () => {
  test('drops --docker and --config in every spelling, keeps the rest in order', () => {
    expect(
      stripHostOnlyArgs(['--docker', '-c', 'a.ts', 'build', '--config=b.ts', '--from', 'compile', '-cfoo', '--config', 'c.ts', '--plain']),
    ).toEqual(['build', '--from', 'compile', '--plain']);
  });

  test('drops --set of the paths the plan translates, keeps other --set', () => {
    expect(
      stripHostOnlyArgs(['--set', 'cacheDir=/x', '--set=build.jobs=3', '--set', 'patches.series=s', '--set', 'build.args.is_debug=true']),
    ).toEqual(['--set', 'build.jobs=3', '--set', 'build.args.is_debug=true']);
  });

  test('leaves everything after -- alone', () => {
    expect(stripHostOnlyArgs(['patches', '--', '--docker', '--config', 'x'])).toEqual(['patches', '--', '--docker', '--config', 'x']);
  });
});

describe('container paths', () => {
  test.each([
    ['/tmp/project', '/tmp/project'],
    ['/home/alice/quic', '/home/alice/quic'],
    ['/srv/builds/main', '/srv/builds/main'],
    ['/', '/host'],
    ['/home', '/host/home'],
    ['/usr/local/src/x', '/host/usr/local/src/x'],
    ['/opt', '/host/opt'],
    ['/opt/build-quiche/patches', '/host/opt/build-quiche/patches'],
    ['/cache', '/host/cache'],
    ['/var/tmp/x', '/var/tmp/x'],
  ])('%s is seen inside as %s', (host, container) => {
    expect(sameOrHostPath(host)).toBe(container);
  });
});

describe('the container plan', () => {
  test('mounts cache and dist read-write at /cache and /dist, the config dir read-only at its own path', async () => {
    const config = await project('plain', {});
    const plan = planContainer({ config, argv: ['build'], env: {} });
    const configDir = path.dirname(config.configFile!);
    expect(plan.mounts).toEqual([
      { host: config.cacheDir, container: '/cache', readOnly: false },
      { host: config.distDir, container: '/dist', readOnly: false },
      { host: configDir, container: configDir, readOnly: true },
    ]);
    expect(plan.argv).toEqual([
      '--config',
      config.configFile,
      '--set',
      'cacheDir=/cache',
      '--set',
      'distDir=/dist',
      '--set',
      'patches.series=/opt/build-quiche/patches/series',
      '--set',
      'publish=[{"type":"dir","path":"/dist/store"}]',
      'build',
    ]);
    expect(plan.writableDirs).toEqual([config.cacheDir, config.distDir]);
  });

  test("uses the image's copy of the bundled series, and mounts any other series' dir read-only", async () => {
    const bundled = await project('bundled', {});
    expect(bundled.patches.series).toBe(BUNDLED_SERIES);
    const seriesDir = path.join(tmp, 'my-patches');
    await mkdir(seriesDir, { recursive: true });
    const config = await project('own-series', { patches: { series: path.join(seriesDir, 'series') } });
    const plan = planContainer({ config, argv: [], env: {} });
    expect(plan.mounts).toContainEqual({ host: seriesDir, container: seriesDir, readOnly: true });
    expect(plan.argv).toContain(`patches.series=${path.join(seriesDir, 'series')}`);
  });

  test('a series next to the config file needs no mount of its own', async () => {
    const config = await project('series-inside', { patches: { series: 'patches/series' } });
    const plan = planContainer({ config, argv: [], env: {} });
    expect(plan.mounts).toHaveLength(3);
    expect(plan.argv).toContain(`patches.series=${path.join(path.dirname(config.configFile!), 'patches/series')}`);
  });

  test('mounts an adopted checkout, a git cache and an outside directory store read-write', async () => {
    const src = path.join(tmp, 'adopted');
    await mkdir(src, { recursive: true });
    const config = await project('adopt', {
      checkout: { srcDir: src },
      gclient: { cacheDir: path.join(tmp, 'git-cache') },
      publish: [{ type: 'dir', path: path.join(tmp, 'store') }, { type: 'dir' }],
    });
    const plan = planContainer({ config, argv: [], env: {} });
    for (const dir of [src, path.join(tmp, 'git-cache'), path.join(tmp, 'store')]) {
      expect(plan.mounts).toContainEqual({ host: dir, container: dir, readOnly: false });
      expect(plan.writableDirs).toContain(dir);
    }
    expect(plan.argv).toContain(`checkout.srcDir=${src}`);
    expect(plan.argv).toContain(
      `publish=${JSON.stringify([
        { type: 'dir', path: path.join(tmp, 'store') },
        { type: 'dir', path: '/dist/store' },
      ])}`,
    );
  });

  test('a cache dir inside the config dir is still /cache', async () => {
    const config = await project('nested', { cacheDir: 'cache', checkout: { srcDir: 'cache/own-root' } });
    await mkdir(config.checkout.srcDir!, { recursive: true });
    const plan = planContainer({ config, argv: [], env: {} });
    expect(plan.argv).toContain('checkout.srcDir=/cache/own-root');
    expect(plan.mounts.filter((m) => m.host === config.checkout.srcDir)).toEqual([]);
  });

  test("passes BUILD_QUICHE_* and a GitHub store's token by name only, never BUILD_QUICHE_CONFIG", async () => {
    const env = { BUILD_QUICHE_BUILD_JOBS: '3', BUILD_QUICHE_CONFIG: '/elsewhere.ts', GH_TOKEN: 'secret', TERM: 'xterm' };
    const config = await project('env', { publish: [{ type: 'github', repo: 'o/r', tokenEnv: 'GH_TOKEN' }] }, env);
    const plan = planContainer({ config, argv: [], env });
    expect(plan.passEnv).toEqual(['TERM', 'BUILD_QUICHE_BUILD_JOBS', 'GH_TOKEN']);
    expect(JSON.stringify(plan)).not.toContain('secret');
  });

  test('a host CA bundle is mounted read-only and named by the usual variables', async () => {
    const config = await project('ca', {});
    const plan = planContainer({ config, argv: [], env: {}, caBundle: '/etc/ssl/certs/ca-certificates.crt' });
    expect(plan.mounts).toContainEqual({
      host: '/etc/ssl/certs/ca-certificates.crt',
      container: '/etc/build-quiche/ca-certificates.crt',
      readOnly: true,
    });
    expect(plan.env.SSL_CERT_FILE).toBe('/etc/build-quiche/ca-certificates.crt');
    expect(plan.env.GIT_SSL_CAINFO).toBe('/etc/build-quiche/ca-certificates.crt');
  });
});

describe('the container user', () => {
  const docker = { kind: 'docker', rootless: false } as const;
  const rootfulPodman = { kind: 'podman', rootless: false } as const;
  const rootlessPodman = { kind: 'podman', rootless: true } as const;

  test('a regular user runs as themselves', () => {
    const user = chooseContainerUser({ engine: docker, uid: 1234, gid: 567, env: {} });
    expect(user).toEqual({ container: { uid: 1234, gid: 567 }, hostOwner: { uid: 1234, gid: 567 }, runArgs: ['--user', '1234:567'] });
  });

  test("rootless podman keeps the user's id with --userns=keep-id", () => {
    expect(chooseContainerUser({ engine: rootlessPodman, uid: 1234, gid: 567, env: {} }).runArgs).toEqual([
      '--userns=keep-id',
      '--user',
      '1234:567',
    ]);
  });

  test('root via sudo runs as the user behind sudo', () => {
    const user = chooseContainerUser({ engine: rootfulPodman, uid: 0, gid: 0, env: { SUDO_UID: '1001', SUDO_GID: '1002' } });
    expect(user.container).toEqual({ uid: 1001, gid: 1002 });
    expect(user.hostOwner).toEqual({ uid: 1001, gid: 1002 });
  });

  test('root with podman runs as uid 1000 mapped to host root, nothing inside being root', () => {
    const user = chooseContainerUser({ engine: rootfulPodman, uid: 0, gid: 0, env: {} });
    expect(user.container).toEqual({ uid: 1000, gid: 1000 });
    expect(user.hostOwner).toEqual({ uid: 0, gid: 0 });
    expect(user.runArgs).toEqual([
      '--uidmap',
      '0:1:1000',
      '--uidmap',
      '1000:0:1',
      '--uidmap',
      '1001:1001:64535',
      '--gidmap',
      '0:1:1000',
      '--gidmap',
      '1000:0:1',
      '--gidmap',
      '1001:1001:64535',
      '--user',
      '1000:1000',
    ]);
    expect(user.warning).toBeUndefined();
  });

  test("root with docker runs as uid 1000 and says the files will be 1000's", () => {
    const user = chooseContainerUser({ engine: docker, uid: 0, gid: 0, env: {} });
    expect(user.hostOwner).toEqual({ uid: 1000, gid: 1000 });
    expect(user.warning).toMatch(/uid 1000/);
  });

  test('the root swap map covers host ids 0..65535 once each, without gaps', () => {
    const hostIds = rootSwapMap(1000).flatMap((range) => {
      const [, host, count] = range.split(':').map(Number) as [number, number, number];
      return Array.from({ length: count }, (_, i) => host + i);
    });
    expect(hostIds.sort((a, b) => a - b)).toEqual(Array.from({ length: 65536 }, (_, i) => i));
  });
});

describe('the image tag', () => {
  let context: string;
  beforeAll(async () => {
    context = path.join(tmp, 'context');
    for (const input of IMAGE_INPUTS) await cp(path.join(REPO_ROOT, input), path.join(context, input), { recursive: true });
  });
  const hash = (baseImage = 'ubuntu:24.04') => imageHash({ contextDir: context, baseImage });

  test("changes with the toolkit's sources, the Dockerfile, the lockfile, the patches and the base image", async () => {
    const before = await hash();
    for (const file of ['src/index.ts', 'Dockerfile.builder', 'package-lock.json', 'patches/series']) {
      const original = await readFile(path.join(context, file));
      await writeFile(path.join(context, file), Buffer.concat([original, Buffer.from('\n')]));
      expect(await hash(), file).not.toBe(before);
      await writeFile(path.join(context, file), original);
    }
    expect(await hash('localhost/debian:bookworm')).not.toBe(before);
    expect(await hash()).toBe(before);
  });

  test('changes when the entrypoint loses its executable bit', async () => {
    const before = await hash();
    await chmod(path.join(context, 'bin/build-quiche.js'), 0o644);
    expect(await hash()).not.toBe(before);
    await chmod(path.join(context, 'bin/build-quiche.js'), 0o755);
  });

  test('ignores what the build context leaves out', async () => {
    const before = await hash();
    await writeFile(path.join(context, 'README.md'), 'docs change');
    await mkdir(path.join(context, 'src/node_modules/x'), { recursive: true });
    await writeFile(path.join(context, 'src/node_modules/x/index.js'), '');
    await writeFile(path.join(context, 'src/debug.log'), 'noise');
    expect(await hash()).toBe(before);
  });

  test('a checkout without the Dockerfile (the npm package) cannot build it, and says why', async () => {
    await expect(imageHash({ contextDir: path.join(tmp, 'empty'), baseImage: 'x' })).rejects.toThrow(/Dockerfile.builder is missing/);
  });
});

describe('finding the engine', () => {
  async function binDir(name: string, engines: Record<string, 'docker' | 'podman'>): Promise<NodeJS.ProcessEnv> {
    const dir = path.join(tmp, name);
    await mkdir(path.join(dir, 'bin'), { recursive: true });
    for (const [command, kind] of Object.entries(engines)) {
      await writeFile(path.join(dir, 'bin', command), `#!/bin/sh\nFAKE_ENGINE_KIND=${kind} exec ${FAKE_ENGINE} "$@"\n`);
      await chmod(path.join(dir, 'bin', command), 0o755);
    }
    return { PATH: path.join(dir, 'bin'), FAKE_ENGINE_DIR: dir };
  }

  test('auto skips a docker client without a daemon and takes podman', async () => {
    const env = await binDir('no-daemon', { docker: 'docker', podman: 'podman' });
    await writeFile(path.join(env.FAKE_ENGINE_DIR!, 'no-daemon'), '');
    const engine = await findEngine('auto', { env, uid: 0 });
    expect(engine).toMatchObject({ command: 'podman', kind: 'podman', rootless: false });
  });

  test("docker that is podman's wrapper is treated as podman", async () => {
    const env = await binDir('wrapper', { docker: 'podman' });
    expect(await findEngine('docker', { env, uid: 1000 })).toMatchObject({ command: 'docker', kind: 'podman', rootless: true });
  });

  test('no engine: a typed error naming what was tried, with the podman recipe', async () => {
    const env = await binDir('none', { docker: 'docker' });
    await writeFile(path.join(env.FAKE_ENGINE_DIR!, 'no-daemon'), '');
    const error = await findEngine('auto', { env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContainerEngineNotFoundError);
    expect((error as Error).message).toMatch(/docker: installed, but `docker version` failed: Cannot connect to the Docker daemon/);
    expect((error as Error).message).toMatch(/podman: not found on PATH/);
    expect((error as ContainerEngineNotFoundError).hint).toMatch(/apt-get install -y podman buildah runc/);
    expect((error as ContainerEngineNotFoundError).exitCode).toBe(1);
  });
});

describe('driving the engine', () => {
  const self = { uid: process.getuid!(), gid: process.getgid!() };
  async function fake(name: string, knobs: Record<string, string> = {}) {
    const dir = path.join(tmp, name);
    await mkdir(dir, { recursive: true });
    for (const [knob, value] of Object.entries(knobs)) await writeFile(path.join(dir, knob), value);
    const config = await project(`${name}-project`, {});
    const env = { PATH: process.env.PATH, FAKE_ENGINE_DIR: dir };
    const engine: ContainerEngine = { command: FAKE_ENGINE, kind: 'podman', rootless: false, version: 'fake' };
    const stdout: string[] = [];
    const stderr: string[] = [];
    const io = { stdout: (l: string) => stdout.push(l), stderr: (l: string) => stderr.push(l), isTTY: false, env };
    const calls = async () =>
      existsSync(path.join(dir, 'calls')) ? (await readFile(path.join(dir, 'calls'), 'utf8')).trim().split('\n') : [];
    return { dir, config, env, engine, io, stdout, stderr, calls };
  }

  test('reuses an existing image, runs the command with --rm, and returns its exit code', async () => {
    const f = await fake('exit-code', { 'run-exit': '9' });
    const result = await runContainerized({
      argv: ['--docker', 'build'],
      config: f.config,
      io: f.io,
      env: f.env,
      engine: f.engine,
      ids: self,
    });
    expect(result.exitCode).toBe(9);
    expect(result.image.built).toBe(false);
    const run = (await f.calls()).find((call) => call.startsWith('run '))!;
    expect(run).toMatch(new RegExp(`^run --rm --name ${result.containerName} --hostname ${result.containerName} --sig-proxy=false `));
    expect(run).toContain(`--volume ${f.config.cacheDir}:/cache --volume ${f.config.distDir}:/dist`);
    const { uid, gid } = result.user.container;
    expect(run).toMatch(new RegExp(` build-quiche-builder:[0-9a-f]{16}-${uid}-${gid} --config `));
    expect(run.endsWith(' build')).toBe(true);
    expect(run).not.toContain('--docker');
    // Output arrives line by line on the same streams.
    expect(f.stdout[0]).toMatch(/^build-quiche inside: run /);
    // After a failure, where the paths its messages name are on this machine.
    expect(f.stderr).toEqual(['a warning inside', `(in the container, /cache is ${f.config.cacheDir} and /dist is ${f.config.distDir})`]);
  });

  test('builds the image when the engine does not have it, logging the build in the cache', async () => {
    const f = await fake('builds', { 'no-image': '' });
    const result = await runContainerized({ argv: ['doctor'], config: f.config, io: f.io, env: f.env, engine: f.engine, ids: self });
    expect(result.image.built).toBe(true);
    const { uid, gid } = result.user.container;
    const build = (await f.calls()).find((call) => call.startsWith('build '))!;
    expect(build).toContain(`--build-arg BASE_IMAGE=ubuntu:24.04 --build-arg UID=${uid} --build-arg GID=${gid}`);
    expect(build.endsWith(` ${REPO_ROOT}`)).toBe(true);
    expect(await readFile(result.image.logPath!, 'utf8')).toContain('COMMIT');
    expect(path.dirname(result.image.logPath!)).toBe(path.join(f.config.cacheDir, 'docker'));
    expect(f.stderr[0]).toMatch(new RegExp(`^Building the builder image build-quiche-builder:[0-9a-f]{16}-${uid}-${gid} with .* log: `));
  });

  test.skipIf(process.getuid?.() !== 0)('root via sudo: the dirs and logs made for the container belong to the sudo user', async () => {
    const f = await fake('sudo', { 'no-image': '' });
    const env = { ...f.env, SUDO_UID: '1234', SUDO_GID: '1234' };
    const result = await runContainerized({ argv: ['doctor'], config: f.config, io: { ...f.io, env }, env, engine: f.engine, ids: self });
    expect(result.image.tag).toMatch(/-1234-1234$/);
    for (const file of [f.config.cacheDir, f.config.distDir, result.image.logPath!]) expect((await stat(file)).uid, file).toBe(1234);
  });

  test('an image build that cannot pull its base image for lack of network is a network error (exit 7)', async () => {
    const offline =
      'Error: initializing source docker://ubuntu:24.04: pinging container registry registry-1.docker.io: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host';
    const f = await fake('pull-offline', { 'no-image': '', 'build-fails': offline });
    const error = await runContainerized({ argv: ['plan'], config: f.config, io: f.io, env: f.env, engine: f.engine, ids: self }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ImagePullNetworkError);
    expect((error as ImagePullNetworkError).exitCode).toBe(7);
    expect((error as Error).message).toContain('no such host');
  });

  test('a failed image build is an ImageBuildError with the log and its last lines', async () => {
    const f = await fake('build-fails', { 'no-image': '', 'build-fails': '' });
    const error = await runContainerized({ argv: ['doctor'], config: f.config, io: f.io, env: f.env, engine: f.engine, ids: self }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ImageBuildError);
    expect((error as ImageBuildError).logPath).toMatch(/docker\/build-[0-9a-f]{16}-\d+-\d+\.log$/);
    expect((error as ImageBuildError).tail).toContain('E: Unable to locate package no-such-package');
    expect((await f.calls()).some((call) => call.startsWith('run '))).toBe(false);
  });

  test("an engine failure (exit 125) is a ContainerRunError, not build-quiche's exit code", async () => {
    const f = await fake('engine-fails', { 'run-exit': '125' });
    await expect(
      runContainerized({ argv: ['build'], config: f.config, io: f.io, env: f.env, engine: f.engine, ids: self }),
    ).rejects.toBeInstanceOf(ContainerRunError);
  });

  test('an abort sends SIGINT into the container, waits for it, removes it, and returns 130', async () => {
    const f = await fake('abort', { 'run-sleep': '30' });
    const controller = new AbortController();
    const running = runContainerized({
      argv: ['build'],
      config: f.config,
      io: f.io,
      env: f.env,
      engine: f.engine,
      ids: self,
      signal: controller.signal,
    });
    while (!existsSync(path.join(f.dir, 'run.pid'))) await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    controller.abort();
    const result = await running;
    expect(result.exitCode).toBe(130);
    expect(Date.now() - started).toBeLessThan(5000);
    const calls = await f.calls();
    expect(calls).toContain(`kill --signal SIGINT ${result.containerName}`);
    expect(calls).toContain(`rm --force --ignore --time 0 ${result.containerName}`);
    expect(f.stderr).toContain('SIGINT: stopping');
  });

  test('refuses a cache dir that belongs to someone else than the container user', async () => {
    const f = await fake('foreign-cache');
    await mkdir(f.config.cacheDir, { recursive: true });
    const error = await runContainerized({
      argv: ['build'],
      config: f.config,
      io: f.io,
      env: f.env,
      engine: f.engine,
      ids: { uid: 4321, gid: 4321 },
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/belongs to uid \d+, but the container writes to it as uid 4321/);
  });
});
