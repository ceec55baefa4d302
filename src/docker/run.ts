import { spawnSync } from 'node:child_process';
import { readFileSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { chown, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { PACKAGE_ROOT, type ResolvedConfig } from '../config/load.js';
import { UsageError } from '../errors.js';
import type { Io } from '../cli/output.js';
import { formatDuration } from '../cli/render/format.js';
import { findEngine, type ContainerEngine } from './engine.js';
import { ContainerRunError } from './errors.js';
import { ensureImage, type ImageResult } from './image.js';
import { detectCaBundle, planContainer, type ContainerPlan } from './plan.js';
import { chooseContainerUser, type ContainerUser, type Ids } from './user.js';

export interface RunInContainerOptions {
  /** The CLI arguments as the user gave them (--docker is dropped, host paths are translated). */
  argv: string[];
  /** The config the host resolved from the same arguments. */
  config: ResolvedConfig;
  io: Io;
  signal?: AbortSignal;
  /** The environment of the engine and the source of passed variables. Default: io.env. */
  env?: NodeJS.ProcessEnv;
  /** Show the image build's output and what is mounted. Default: -v/--verbose in argv. */
  verbose?: boolean;
  /** Attach the terminal (-it). Default: when stdin and stdout are terminals. */
  tty?: boolean;
  /** The build context holding Dockerfile.builder. Default: this toolkit's checkout. */
  contextDir?: string;
  /** An engine found already (skips the search). */
  engine?: ContainerEngine;
  /** How long build-quiche inside gets to stop after Ctrl-C before the container is killed. */
  stopGraceMs?: number;
  /** The invoking user's ids. Default: this process's. */
  ids?: Ids;
}

export interface ContainerRunResult {
  exitCode: number;
  engine: ContainerEngine;
  image: ImageResult;
  containerName: string;
  user: ContainerUser;
  plan: ContainerPlan;
}

const ENGINE_FAILURE_CODES = new Set([125, 126, 127]);

/**
 * `build-quiche --docker ...`: the same command in the builder image, returning its exit code.
 * The image is built only when Dockerfile.builder or the toolkit changed; output comes from the
 * inner build-quiche (same renderers, a terminal when there is one); Ctrl-C or an abort stops the
 * container and everything in it.
 */
export async function runInContainer(options: RunInContainerOptions): Promise<number> {
  return (await runContainerized(options)).exitCode;
}

export async function runContainerized(options: RunInContainerOptions): Promise<ContainerRunResult> {
  const { config, io, signal } = options;
  const env = options.env ?? io.env;
  const verbose = options.verbose ?? options.argv.some((arg) => arg === '-v' || arg === '--verbose');
  const tty = options.tty ?? (io.isTTY && Boolean(process.stdin.isTTY));
  const note = (line: string) => io.stderr(line);
  signal?.throwIfAborted();

  const engine = options.engine ?? (await findEngine(config.docker.engine, { env }));
  const ids = options.ids ?? { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  const user = chooseContainerUser({ engine, ...ids, env });
  if (user.warning) note(`warning: ${user.warning}`);
  const caBundle = detectCaBundle(env);
  const plan = planContainer({ config, argv: options.argv, env, caBundle });
  const logDir = path.join(config.cacheDir, 'docker');
  await prepareWritableDirs([...plan.writableDirs, logDir], user.hostOwner, ids);

  const image = await ensureImage({
    engine,
    spec: { contextDir: options.contextDir ?? PACKAGE_ROOT, baseImage: config.docker.baseImage, ...user.container },
    env,
    logDir,
    signal,
    network: config.docker.network,
    caBundle,
    onBuildStart: (tag, logPath) =>
      note(`Building the builder image ${tag} with ${engine.command} (first use, or Dockerfile.builder or the toolkit changed); log: ${logPath}`),
    onLine: verbose ? (line) => note(`  ${line}`) : undefined,
  }).finally(() => giveLogsTo(logDir, user.hostOwner, ids));
  if (image.built) note(`Built ${image.tag} in ${formatDuration(image.durationMs)}.`);
  else if (verbose) note(`Using the builder image ${image.tag} (${engine.command}).`);

  const containerName = `build-quiche-${process.pid}-${randomBytes(3).toString('hex')}`;
  const args = runArgs({ config, plan, user, image: image.tag, name: containerName, tty });
  if (verbose) for (const mount of plan.mounts) note(`  mount ${mount.host} -> ${mount.container}${mount.readOnly ? ' (read-only)' : ''}`);
  const lockFile = path.join(config.cacheDir, 'run.lock');
  const exitCode = await runContainer(engine, args, { io, env, signal, tty, name: containerName, stopGraceMs: options.stopGraceMs ?? 15_000, lockFile });
  releaseContainerLock(lockFile, containerName);
  // Messages inside name the container's paths; say where those are on this machine.
  if (exitCode !== 0 && exitCode !== 130) note(`(in the container, /cache is ${config.cacheDir} and /dist is ${config.distDir})`);
  return { exitCode, engine, image, containerName, user, plan };
}

function runArgs(o: { config: ResolvedConfig; plan: ContainerPlan; user: ContainerUser; image: string; name: string; tty: boolean }): string[] {
  // No --init: the image's entrypoint is tini, which forwards signals and reaps orphans.
  // --sig-proxy=false: stopping is done explicitly (stopContainer), never twice.
  // --hostname: a run lock left inside is recognisable as this container's (see releaseContainerLock).
  const args = ['run', '--rm', '--name', o.name, '--hostname', o.name, '--sig-proxy=false', '--label', 'build-quiche.run=1'];
  if (o.tty) args.push('--interactive', '--tty');
  args.push(...o.user.runArgs);
  if (o.config.docker.network) args.push('--network', o.config.docker.network);
  for (const mount of o.plan.mounts) args.push('--volume', `${mount.host}:${mount.container}${mount.readOnly ? ':ro' : ''}`);
  for (const [name, value] of Object.entries(o.plan.env)) args.push('--env', `${name}=${value}`);
  for (const name of o.plan.passEnv) args.push('--env', name);
  args.push(...o.config.docker.extraRunArgs, o.image, ...o.plan.argv);
  return args;
}

/**
 * Create the dirs the container writes to, owned by the user its files belong to; an existing one
 * owned by someone else would fail deep inside the run, so say so now.
 */
async function prepareWritableDirs(dirs: string[], owner: Ids, self: Ids): Promise<void> {
  for (const dir of dirs) {
    const created = await mkdir(dir, { recursive: true });
    if (created && self.uid === 0 && owner.uid !== 0) {
      // Give every directory mkdir made (from the first new one down) to the owner.
      for (let current = dir; current.startsWith(created); current = path.dirname(current)) {
        await chown(current, owner.uid, owner.gid);
        if (current === created) break;
      }
    }
    const info = await stat(dir);
    if (info.uid !== owner.uid) {
      throw new UsageError(`${dir} belongs to uid ${info.uid}, but the container writes to it as uid ${owner.uid}.`, {
        hint: `Give it to that user (chown -R ${owner.uid}:${owner.gid} ${dir}), or use another --cache-dir/--dist-dir.`,
      });
    }
  }
}

/** The build logs are written by this process: when that is root working for someone else, hand them over. */
async function giveLogsTo(logDir: string, owner: Ids, self: Ids): Promise<void> {
  if (self.uid !== 0 || owner.uid === 0) return;
  for (const name of await readdir(logDir)) await chown(path.join(logDir, name), owner.uid, owner.gid);
}

interface RunContainerOptions {
  io: Io;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  tty: boolean;
  name: string;
  stopGraceMs: number;
  lockFile: string;
}

/**
 * A container killed before build-quiche inside released its run lock leaves the lock behind with
 * the container's hostname and a pid from another namespace, which no later run could judge dead.
 * The container is gone, so its lock is stale: remove it.
 */
function releaseContainerLock(lockFile: string, containerName: string): void {
  try {
    const holder = JSON.parse(readFileSync(lockFile, 'utf8')) as { hostname?: string };
    if (holder.hostname === containerName) unlinkSync(lockFile);
  } catch {
    // No lock, or not this container's.
  }
}

async function runContainer(engine: ContainerEngine, args: string[], o: RunContainerOptions): Promise<number> {
  // With a terminal the engine must share it (and our process group, to read from it); without,
  // it gets its own group so a Ctrl-C reaches only us, and we stop the container deliberately.
  const child = execa(engine.command, args, {
    env: o.env,
    extendEnv: false,
    reject: false,
    detached: !o.tty,
    stdio: o.tty ? 'inherit' : ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    buffer: false,
  });
  const stderrTail: string[] = [];
  if (!o.tty) {
    forwardLines(child.stdout, o.io.stdout);
    forwardLines(child.stderr, (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      o.io.stderr(line);
    });
  }
  let exited = false;
  // A second Ctrl-C exits the CLI at once (process.exit): remove the container on the way out.
  const onExit = () => {
    if (!exited) spawnSync(engine.command, forceRemoveArgs(engine, o.name), { env: o.env, stdio: 'ignore', timeout: 10_000 });
    releaseContainerLock(o.lockFile, o.name);
  };
  process.once('exit', onExit);
  let stopping: Promise<void> | undefined;
  const onAbort = () => {
    stopping ??= stopContainer(engine, o.name, o.env, () => exited, o.stopGraceMs);
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted) onAbort();

  const outcome = await child;
  exited = true;
  o.signal?.removeEventListener('abort', onAbort);
  process.removeListener('exit', onExit);
  await stopping;
  // --rm normally removed it; after a forced stop make sure.
  if (o.signal?.aborted) await execa(engine.command, forceRemoveArgs(engine, o.name), { env: o.env, extendEnv: false, reject: false, stdin: 'ignore' });

  const code = outcome.exitCode ?? 128 + (outcome.signal ? (constants.signals[outcome.signal as NodeJS.Signals] ?? 0) : 0);
  if (o.signal?.aborted) return code === 0 ? 0 : 130;
  if (ENGINE_FAILURE_CODES.has(code)) {
    throw new ContainerRunError(`${engine.command} could not run the builder container (exit code ${code}).`, {
      hint: 'The lines above are the engine\'s own message. Check the mounts and docker.extraRunArgs; `build-quiche --docker --verbose` lists the mounts.',
      tail: stderrTail,
    });
  }
  return code;
}

function forwardLines(stream: NodeJS.ReadableStream | null | undefined, write: (line: string) => void): void {
  if (!stream) return;
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) write(line.replace(/\r$/, ''));
  });
  stream.on('end', () => {
    if (pending) write(pending);
  });
}

/** Kill (no stop timeout) and remove; quiet when the container is already gone. */
const forceRemoveArgs = (engine: ContainerEngine, name: string) =>
  engine.kind === 'podman' ? ['rm', '--force', '--ignore', '--time', '0', name] : ['rm', '--force', name];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Ctrl-C for the container: SIGINT to build-quiche inside (through tini), as a Ctrl-C on the host
 * would, so it stops its subprocess groups and leaves its guards; then, if it has not exited
 * within the grace period, kill the container. Retries while the container is still being created.
 */
async function stopContainer(engine: ContainerEngine, name: string, env: NodeJS.ProcessEnv, exited: () => boolean, graceMs: number): Promise<void> {
  const run = (args: string[]) => execa(engine.command, args, { env, extendEnv: false, reject: false, stdin: 'ignore', timeout: 30_000 });
  const deadline = Date.now() + graceMs;
  let signalled = false;
  while (!exited()) {
    if (!signalled) signalled = (await run(['kill', '--signal', 'SIGINT', name])).exitCode === 0;
    if (Date.now() > deadline) {
      await run(forceRemoveArgs(engine, name));
      return;
    }
    await sleep(250);
  }
}
