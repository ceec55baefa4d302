/**
 * A throwaway podman for tests, per ../shared/docs/DOCKER.md: rootful podman with runc and
 * cgroupfs, its storage, run state and network config all under one temp dir (so nothing lands in
 * /var/lib/containers, /run/libpod or /etc/cni), and a local Debian base image made with
 * debootstrap (no registry is reachable). The debootstrap rootfs is cached between runs under
 * node_modules/.cache/build-quiche-docker/, keyed by mirror and suite.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BASE_IMAGE = 'localhost/debian:bookworm';
const SUITE = 'bookworm';
const CACHE_DIR = path.join(REPO_ROOT, 'node_modules', '.cache', 'build-quiche-docker');

export interface Timings {
  [step: string]: number;
}

export interface PodmanSandbox {
  dir: string;
  /** The environment that points podman at the sandbox (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF). */
  env: NodeJS.ProcessEnv;
  podman(args: string[], opts?: { timeoutMs?: number }): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  timings: Timings;
  close(): Promise<void>;
}

/** Why podman cannot run these tests here, or undefined when it can. */
export async function podmanUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'podman tests need Linux';
  if (process.getuid?.() !== 0) return 'the podman recipe (DOCKER.md) is rootful: run as root';
  for (const tool of ['podman', 'debootstrap', 'runc']) {
    const which = await execa('sh', ['-c', `command -v ${tool}`], { reject: false });
    if (which.exitCode !== 0) return `${tool} is not installed (apt-get install -y podman buildah debootstrap runc)`;
  }
  return undefined;
}

/** The Debian mirror this machine's apt uses (deb822 .sources or one-line sources.list). */
export async function debianMirror(): Promise<string> {
  const files = ['/etc/apt/sources.list'];
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) for (const name of (await readdir(dir)).sort()) if (/\.(list|sources)$/.test(name)) files.push(path.join(dir, name));
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = await readFile(file, 'utf8');
    for (const stanza of text.split(/\n\s*\n/)) {
      const uris = /^URIs:\s*(\S+)/im.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/im.exec(stanza)?.[1]?.split(/\s+/) ?? [];
      if (uris && suites.includes(SUITE) && !/security/.test(uris)) return uris.replace(/\/$/, '');
    }
    const line = new RegExp(`^deb\\s+(?:\\[[^\\]]*\\]\\s+)?(\\S+)\\s+${SUITE}\\s`, 'm').exec(text)?.[1];
    if (line && !/security/.test(line)) return line.replace(/\/$/, '');
  }
  return 'http://deb.debian.org/debian';
}

async function timed<T>(timings: Timings, step: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await fn();
  } finally {
    timings[step] = Date.now() - started;
  }
}

/** The debootstrap minbase rootfs as a tarball, made once per mirror and suite. */
async function baseRootfsTarball(work: string, timings: Timings): Promise<string> {
  const mirror = await debianMirror();
  const key = createHash('sha256').update(`${mirror} ${SUITE} minbase`).digest('hex').slice(0, 12);
  const tarball = path.join(CACHE_DIR, `debian-${SUITE}-minbase-${key}.tar`);
  if (existsSync(tarball)) return tarball;
  const rootfs = path.join(work, 'rootfs');
  await timed(timings, 'debootstrap', async () => {
    const result = await execa('debootstrap', ['--variant=minbase', SUITE, rootfs, mirror], { reject: false, all: true });
    if (result.exitCode !== 0) throw new Error(`debootstrap ${SUITE} from ${mirror} failed:\n${String(result.all).slice(-4000)}`);
  });
  await mkdir(CACHE_DIR, { recursive: true });
  const partial = `${tarball}.${process.pid}.tmp`;
  // Device nodes and the downloaded .debs have no place in an image.
  await execa('tar', [
    '-C',
    rootfs,
    '--exclude=./dev/*',
    '--exclude=./var/cache/apt/archives/*.deb',
    '--exclude=./var/lib/apt/lists/*',
    '-cf',
    partial,
    '.',
  ]);
  await rename(partial, tarball);
  await rm(rootfs, { recursive: true, force: true });
  return tarball;
}

/**
 * Where rootful podman keeps state whatever its config says (c/image's blob-info cache in
 * /var/lib/containers/cache, lock and run dirs below /run): removed after the tests if they
 * did not exist before.
 */
const HOST_STATE_DIRS = ['/var/lib/containers', '/run/containers', '/run/libpod'];

export async function createPodmanSandbox(): Promise<PodmanSandbox> {
  const newStateDirs = HOST_STATE_DIRS.filter((dir) => !existsSync(dir));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bq-podman-'));
  // Containers with a user namespace (root's run maps uid 1000 to host root) traverse the store.
  await chmod(dir, 0o755);
  const timings: Timings = {};
  await writeFile(
    path.join(dir, 'containers.conf'),
    [
      '[containers]',
      'default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]',
      '[engine]',
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      `tmp_dir = "${dir}/libpod"`,
      `volume_path = "${dir}/volumes"`,
      '[network]',
      `network_config_dir = "${dir}/cni"`,
      '',
    ].join('\n'),
  );
  await writeFile(
    path.join(dir, 'storage.conf'),
    ['[storage]', 'driver = "overlay"', `graphroot = "${dir}/storage"`, `runroot = "${dir}/runroot"`, ''].join('\n'),
  );
  await mkdir(path.join(dir, 'cni'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONTAINERS_CONF: path.join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'),
  };
  const podman: PodmanSandbox['podman'] = async (args, opts = {}) => {
    const result = await execa('podman', args, {
      env,
      extendEnv: false,
      reject: false,
      timeout: opts.timeoutMs ?? 300_000,
      stdin: 'ignore',
    });
    return { exitCode: result.exitCode ?? 1, stdout: String(result.stdout), stderr: String(result.stderr) };
  };
  const close = async () => {
    await podman(['rm', '--all', '--force', '--time', '0']);
    await podman(['rmi', '--all', '--force']);
    await podman(['system', 'reset', '--force']);
    // Anything podman left mounted below the sandbox would make rm fail.
    const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((line) => line.split(' ')[1] ?? '');
    for (const mount of mounts.filter((m) => m.startsWith(`${dir}/`)).reverse()) await execa('umount', ['-l', mount], { reject: false });
    await rm(dir, { recursive: true, force: true });
    for (const stateDir of newStateDirs) await rm(stateDir, { recursive: true, force: true });
  };
  try {
    const tarball = await baseRootfsTarball(dir, timings);
    await timed(timings, 'import base image', async () => {
      const result = await podman(['import', '--change', 'CMD ["/bin/bash"]', tarball, BASE_IMAGE]);
      if (result.exitCode !== 0) throw new Error(`podman import failed: ${result.stderr}`);
    });
  } catch (error) {
    await close();
    throw error;
  }
  return { dir, env, podman, timings, close };
}
