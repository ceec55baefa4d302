/**
 * `build-quiche --docker`, for real: podman builds Dockerfile.builder on a local debootstrap Debian
 * base and runs the pipeline inside against the local upstream served on the host's loopback
 * (--network=host), with the offline try-out's config (testkit/world.ts). Minutes long: the docker
 * tier (`npm run test:docker`), not `npm test`; it skips, saying why, where podman cannot run.
 */
import { execa, type ResultPromise } from 'execa';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { UserConfig } from '../../src/config/schema.js';
import { IMAGE_INPUTS, runContainerized, type ContainerRunResult } from '../../src/docker/index.js';
import { stagesFor } from '../../src/stages/index.js';
import { writeConfigFile } from '../support/cli.js';
import { offlineConfig, startWorld, type World } from '../../testkit/world.js';
import { BASE_IMAGE, createPodmanSandbox, podmanUnavailable, REPO_ROOT, type PodmanSandbox } from '../support/podman.js';

vi.setConfig({ testTimeout: 1_200_000, hookTimeout: 1_800_000 });

const unavailable = await podmanUnavailable();
if (unavailable) console.warn(`test/docker/docker.e2e.test.ts: skipped, podman cannot run here: ${unavailable}.`);

const DRIVER = path.join(REPO_ROOT, 'test/docker/fixtures/docker-cli.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

let sandbox: PodmanSandbox;
let world: World;
/** The engine's and build-quiche's environment: BUILD_QUICHE_* variables are config, so not the switch above. */
let env: NodeJS.ProcessEnv;
let projectDir: string;
/** A snapshot of the toolkit to build the image from: edits to the working tree during the run must not rebuild it. */
let contextDir: string;
const timings: Record<string, number> = {};

/**
 * The offline try-out's config in its own dir (cache/ and dist/ next to it), run in the podman
 * sandbox with host networking (the local upstream and the smoke test's 127.0.0.x are the host's).
 */
async function writeConfig(name: string, overrides: UserConfig = {}): Promise<string> {
  const dir = path.join(projectDir, name);
  await mkdir(dir, { recursive: true });
  const docker: UserConfig = {
    docker: { engine: 'podman', baseImage: BASE_IMAGE, network: 'host' },
  };
  return writeConfigFile(dir, offlineConfig(world.server.baseUrl, dir, { ...docker, ...overrides }));
}

interface Run {
  result: ContainerRunResult;
  stdout: string[];
  stderr: string[];
  ms: number;
}

async function dockerRun(configFile: string, args: string[]): Promise<Run> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const argv = ['--config', configFile, ...args];
  const config = await loadConfig({ configFile, cwd: projectDir, env });
  const started = Date.now();
  const result = await runContainerized({
    argv,
    config,
    io: { stdout: (line) => stdout.push(line), stderr: (line) => stderr.push(line), isTTY: false, env },
    env,
    contextDir,
  });
  return { result, stdout, stderr, ms: Date.now() - started };
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

describe.skipIf(unavailable !== undefined)('build-quiche --docker with podman', () => {
  let tryOut: string;

  beforeAll(async () => {
    sandbox = await createPodmanSandbox();
    env = { ...sandbox.env };
    Object.assign(timings, sandbox.timings);
    world = await startWorld();
    projectDir = path.join(sandbox.dir, 'project');
    contextDir = path.join(sandbox.dir, 'context');
    for (const input of IMAGE_INPUTS) await cp(path.join(REPO_ROOT, input), path.join(contextDir, input), { recursive: true });
    tryOut = await writeConfig('try-out');
  });

  afterAll(async () => {
    await world?.close();
    await sandbox?.close();
    const report = Object.entries(timings).map(([step, ms]) => `  ${step.padEnd(34)} ${seconds(ms)} s`);
    console.log(`docker test timings:\n${report.join('\n')}`);
  });

  test('doctor runs inside as the non-root image user, after the first build of the image', async () => {
    const run = await dockerRun(tryOut, ['doctor']);
    expect(run.result.exitCode, [...run.stdout, ...run.stderr].join('\n')).toBe(0);
    expect(run.result.image.built).toBe(true);
    timings['image build (cold)'] = run.result.image.durationMs;
    timings['doctor in the container'] = run.ms - run.result.image.durationMs;
    expect(run.stdout).toContain('ok   user     uid 1000');
    expect(run.stdout.some((line) => /^ok\s+git\s/.test(line))).toBe(true);
    expect(run.stderr.join('\n')).toContain(`Building the builder image ${run.result.image.tag}`);
  });

  test('plan runs inside, reusing the image, and sees an empty cache', async () => {
    const run = await dockerRun(tryOut, ['plan']);
    expect(run.result.exitCode, [...run.stdout, ...run.stderr].join('\n')).toBe(0);
    expect(run.result.image.built).toBe(false);
    timings['plan in the container (warm)'] = run.ms;
    expect(run.stdout.find((line) => line.startsWith('checkout'))).toMatch(/run\s+never completed/);
    expect(run.stderr).toEqual([]);
  });

  test('the offline try-out runs inside and leaves a tarball in the host dist dir, owned by the invoking user', async () => {
    const run = await dockerRun(tryOut, ['build', '--plain']);
    const output = [...run.stdout, ...run.stderr].join('\n');
    expect(run.result.exitCode, output).toBe(0);
    timings['offline try-out in the container'] = run.ms;
    const distDir = path.join(path.dirname(tryOut), 'dist');
    const tarballs = readdirSync(distDir).filter((name) => name.endsWith('.tar.gz'));
    expect(tarballs, output).toHaveLength(1);
    const owner = { uid: process.getuid!(), gid: process.getgid!() };
    for (const file of [path.join(distDir, tarballs[0]!), path.join(path.dirname(tryOut), 'cache', 'state.json')]) {
      const info = statSync(file);
      expect({ uid: info.uid, gid: info.gid }, file).toEqual(owner);
    }
    // The inner run saw the container's paths, not the host's.
    expect(output).toContain(`/dist/${tarballs[0]}`);
  });

  test('a second run reuses the image and the pipeline inside finds every stage up to date', async () => {
    const imagesBefore = await sandbox.podman(['images', '--quiet', '--filter', 'label=build-quiche.builder']);
    const run = await dockerRun(tryOut, ['build', '--plain']);
    const output = [...run.stdout, ...run.stderr].join('\n');
    expect(run.result.exitCode, output).toBe(0);
    expect(run.result.image.built).toBe(false);
    expect(output).not.toContain('Building the builder image');
    timings['second run (all up to date)'] = run.ms;
    for (const stage of stagesFor({ backend: 'chromium' }).filter((s) => s.id !== 'preflight')) {
      expect(output, stage.id).toMatch(new RegExp(`↷ ${stage.id}: skipped, up to date`));
    }
    expect(output).toMatch(/nothing to do: every stage is up to date/);
    const imagesAfter = await sandbox.podman(['images', '--quiet', '--filter', 'label=build-quiche.builder']);
    expect(imagesAfter.stdout).toBe(imagesBefore.stdout);
  });

  test('Ctrl-C during a containerised run leaves no container and no process behind', async () => {
    const configFile = await writeConfig('interrupted', {
      depotTools: { env: { FAKE_GCLIENT_PAUSE_IN_CLONE: 'src/net/third_party/quiche/src', FAKE_GCLIENT_PAUSE_SECONDS: '600' } },
    });
    const child = execa('node', ['--import', TSX, DRIVER, '--config', configFile, '--verbose', 'build'], {
      env: { ...env, BQ_DOCKER_CONTEXT: contextDir },
      extendEnv: false,
      reject: false,
      all: true,
      cwd: projectDir,
    });
    await waitFor(child, '[fake gclient] paused in first clone', 600_000);
    const containerPrefix = `build-quiche-${child.pid}-`;
    expect((await containerNames()).some((name) => name.startsWith(containerPrefix))).toBe(true);
    const interruptedAt = Date.now();
    child.kill('SIGINT');
    const result = await child;
    timings['Ctrl-C to exit'] = Date.now() - interruptedAt;
    expect(result.exitCode, String(result.all)).toBe(130);
    // build-quiche inside got the SIGINT itself (and stopped its subprocesses), not only a kill.
    expect(String(result.all).match(/SIGINT: stopping/g)?.length, String(result.all)).toBe(2);
    expect(await containerNames()).toEqual([]);
    expect(leftoverProcesses(containerPrefix)).toEqual([]);
  });
});

async function containerNames(): Promise<string[]> {
  const result = await sandbox.podman(['ps', '--all', '--format', '{{.Names}}']);
  return result.stdout.split('\n').filter(Boolean);
}

/**
 * Processes of the run still alive: the engine's (podman, conmon: their command lines name the
 * container or the sandbox's storage) and the container's (anything in a libpod cgroup).
 */
function leftoverProcesses(containerPrefix: string): string[] {
  const markers = [containerPrefix, sandbox.dir, '/opt/build-quiche/'];
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    if (Number(pid) === process.pid) continue;
    let cmdline: string;
    let cgroup: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline && (cgroup.includes('libpod') || markers.some((marker) => cmdline.includes(marker)))) found.push(`${pid}: ${cmdline}`);
  }
  return found;
}

function waitFor(child: ResultPromise, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${JSON.stringify(text)}; got:\n${seen.slice(-4000)}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void child.then(() => {
      clearTimeout(timer);
      if (!seen.includes(text)) reject(new Error(`the run ended before ${JSON.stringify(text)}:\n${seen.slice(-4000)}`));
    });
  });
}
