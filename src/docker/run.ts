import { randomBytes } from 'node:crypto';
import { constants } from 'node:os';
import { chown, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PACKAGE_ROOT, type ResolvedConfig } from '../config/load.js';
import { engineFiles } from '../engine/pipeline.js';
import { releaseLockHeldBy } from '../engine/lock.js';
import { UsageError } from '../errors.js';
import { exec, execSyncQuiet } from '../process/exec.js';
import { formatDuration } from '../util/duration.js';
import { findEngine, type ContainerEngine } from './engine.js';
import { ContainerRunError } from './errors.js';
import { ensureImage, type ImageResult } from './image.js';
import { detectCaBundle, planContainer, type ContainerPlan } from './plan.js';
import { chooseContainerUser, type ContainerUser, type Ids } from './user.js';

/** Where the container's output and our notes go (the CLI passes its Io). */
export interface ConsoleWriter {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

export interface RunInContainerOptions {
  /** The CLI arguments as the user gave them (--docker is dropped, host paths are translated). */
  argv: string[];
  /** The config the host resolved from the same arguments. */
  config: ResolvedConfig;
  io: ConsoleWriter;
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
      note(
        `Building the builder image ${tag} with ${engine.command} (first use, or Dockerfile.builder or the toolkit changed); log: ${logPath}`,
      ),
    onLine: verbose ? (line) => note(`  ${line}`) : undefined,
  }).finally(() => giveLogsTo(logDir, user.hostOwner, ids));
  if (image.built) note(`Built ${image.tag} in ${formatDuration(image.durationMs)}.`);
  else if (verbose) note(`Using the builder image ${image.tag} (${engine.command}).`);

  const containerName = `build-quiche-${process.pid}-${randomBytes(3).toString('hex')}`;
  const args = runArgs({ config, plan, user, image: image.tag, name: containerName, tty });
  if (verbose) for (const mount of plan.mounts) note(`  mount ${mount.host} -> ${mount.container}${mount.readOnly ? ' (read-only)' : ''}`);
  const { lockFile } = engineFiles(config.cacheDir);
  const exitCode = await runContainer(engine, args, {
    io,
    env,
    signal,
    tty,
    name: containerName,
    stopGraceMs: options.stopGraceMs ?? 15_000,
    lockFile,
  });
  releaseLockHeldBy(lockFile, containerName);
  // Messages inside name the container's paths; say where those are on this machine.
  if (exitCode !== 0 && exitCode !== 130) note(`(in the container, /cache is ${config.cacheDir} and /dist is ${config.distDir})`);
  return { exitCode, engine, image, containerName, user, plan };
}

function runArgs(o: {
  config: ResolvedConfig;
  plan: ContainerPlan;
  user: ContainerUser;
  image: string;
  name: string;
  tty: boolean;
}): string[] {
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
  io: ConsoleWriter;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  tty: boolean;
  name: string;
  stopGraceMs: number;
  lockFile: string;
}

async function runContainer(engine: ContainerEngine, args: string[], o: RunContainerOptions): Promise<number> {
  // With a terminal the engine must share it (and our process group, to read from it); without,
  // it gets its own group so a Ctrl-C reaches only us, and we stop the container deliberately.
  const stderrTail: string[] = [];
  const child = exec(engine.command, args, {
    env: o.env,
    inheritEnv: false,
    terminal: o.tty,
    allowFailure: true,
    captureStdout: false,
    onLine: (line, stream) => {
      if (stream === 'stdout') return o.io.stdout(line);
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      o.io.stderr(line);
    },
  });
  let exited = false;
  // A second Ctrl-C exits the CLI at once (process.exit): remove the container on the way out.
  const onExit = () => {
    if (!exited) execSyncQuiet(engine.command, forceRemoveArgs(engine, o.name), { env: o.env, timeoutMs: 10_000 });
    releaseLockHeldBy(o.lockFile, o.name);
  };
  process.once('exit', onExit);
  let stopping: Promise<void> | undefined;
  const onAbort = () => {
    stopping ??= stopContainer(engine, o.name, o.env, () => exited, o.stopGraceMs);
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted) onAbort();

  const outcome = await child.finally(() => {
    exited = true;
    o.signal?.removeEventListener('abort', onAbort);
    process.removeListener('exit', onExit);
  });
  await stopping;
  // --rm normally removed it; after a forced stop make sure.
  if (o.signal?.aborted) await quiet(engine, forceRemoveArgs(engine, o.name), o.env);

  const code = outcome.signal ? 128 + (constants.signals[outcome.signal as NodeJS.Signals] ?? 0) : outcome.exitCode;
  if (o.signal?.aborted) return code === 0 ? 0 : 130;
  if (ENGINE_FAILURE_CODES.has(code)) {
    throw new ContainerRunError(`${engine.command} could not run the builder container (exit code ${code}).`, {
      hint: "The lines above are the engine's own message. Check the mounts and docker.extraRunArgs; `build-quiche --docker --verbose` lists the mounts.",
      tail: stderrTail,
    });
  }
  return code;
}

/** An engine command whose outcome only matters as an exit code (-1: it could not run or timed out). */
const quiet = (engine: ContainerEngine, args: string[], env: NodeJS.ProcessEnv, timeoutMs?: number) =>
  exec(engine.command, args, { env, inheritEnv: false, allowFailure: true, timeoutMs }).then(
    (result) => result.exitCode,
    () => -1,
  );

/** Kill (no stop timeout) and remove; quiet when the container is already gone. */
const forceRemoveArgs = (engine: ContainerEngine, name: string) =>
  engine.kind === 'podman' ? ['rm', '--force', '--ignore', '--time', '0', name] : ['rm', '--force', name];

/**
 * Ctrl-C for the container: SIGINT to build-quiche inside (through tini), as a Ctrl-C on the host
 * would, so it stops its subprocess groups and leaves its guards; then, if it has not exited
 * within the grace period, kill the container. Retries while the container is still being created.
 */
async function stopContainer(
  engine: ContainerEngine,
  name: string,
  env: NodeJS.ProcessEnv,
  exited: () => boolean,
  graceMs: number,
): Promise<void> {
  const run = (args: string[]) => quiet(engine, args, env, 30_000);
  const deadline = Date.now() + graceMs;
  let signalled = false;
  while (!exited()) {
    if (!signalled) signalled = (await run(['kill', '--signal', 'SIGINT', name])) === 0;
    if (Date.now() > deadline) {
      await run(forceRemoveArgs(engine, name));
      return;
    }
    await sleep(250);
  }
}
