import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { causeLine, exec } from '../process/exec.js';
import { LogFile } from '../process/log-file.js';
import { ImageBuildError, ImagePullNetworkError, showsNetworkFailure } from './errors.js';
import type { ContainerEngine } from './engine.js';

export const DOCKERFILE = 'Dockerfile.builder';
export const IMAGE_REPOSITORY = 'build-quiche-builder';
/** Label on every builder image, to list or prune them: `podman images --filter label=build-quiche.builder`. */
export const IMAGE_LABEL = 'build-quiche.builder';

/**
 * Everything the image is built from, relative to the build context (the toolkit's root). The tag
 * is a hash of exactly these, so keep this list, Dockerfile.builder's COPY lines and .dockerignore's
 * allowlist in step.
 */
export const IMAGE_INPUTS = [
  DOCKERFILE,
  '.dockerignore',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'scripts/bundle-cli.ts',
  'bin',
  'src',
  'patches',
  'schema',
] as const;

/** What .dockerignore keeps out even inside the allowed directories. */
const IGNORED_NAMES = new Set(['node_modules', '.git', '.env', '.npmrc']);
const IGNORED_SUFFIXES = ['.log', '.pem', '.key'];
const isIgnored = (name: string) => IGNORED_NAMES.has(name) || IGNORED_SUFFIXES.some((suffix) => name.endsWith(suffix));

export interface ImageSpec {
  /** The build context: a checkout of build-quiche holding Dockerfile.builder. */
  contextDir: string;
  baseImage: string;
  /** The container user's ids (build args UID/GID). */
  uid: number;
  gid: number;
}

async function hashEntry(hash: ReturnType<typeof createHash>, root: string, relative: string): Promise<void> {
  const file = path.join(root, relative);
  const info = await lstat(file);
  if (info.isDirectory()) {
    const names = (await readdir(file)).filter((name) => !isIgnored(name)).sort();
    for (const name of names) await hashEntry(hash, root, path.posix.join(relative, name));
  } else if (info.isSymbolicLink()) {
    hash.update(`link ${relative} ${await readlink(file)}\n`);
  } else if (info.isFile()) {
    const content = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    // The executable bit matters: bin/build-quiche.js is the image's entrypoint.
    hash.update(`file ${relative} ${info.mode & 0o111 ? 'x' : '-'} ${content}\n`);
  }
}

/** Content hash of the image's inputs and base: same hash, same image. */
export async function imageHash(spec: Pick<ImageSpec, 'contextDir' | 'baseImage'>): Promise<string> {
  const hash = createHash('sha256').update(`base ${spec.baseImage}\n`);
  for (const input of IMAGE_INPUTS) {
    if (!existsSync(path.join(spec.contextDir, input))) throw missingInput(spec.contextDir, input);
    await hashEntry(hash, spec.contextDir, input);
  }
  return hash.digest('hex');
}

function missingInput(contextDir: string, input: string): ImageBuildError {
  return new ImageBuildError(`Cannot build the builder image: ${path.join(contextDir, input)} is missing.`, {
    hint:
      '--docker builds Dockerfile.builder from a source checkout of build-quiche (the npm package ships neither the ' +
      'Dockerfile nor the sources and lockfile). Clone the repository and run its bin/build-quiche.js, or build the image by hand (docs/docker.md).',
  });
}

/** Tag by content hash and user: another uid needs another image (its user is baked in). */
export const imageTag = (hash: string, uid: number, gid: number) => `${IMAGE_REPOSITORY}:${hash.slice(0, 16)}-${uid}-${gid}`;

export async function imageExists(engine: ContainerEngine, tag: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const result = await exec(engine.command, ['image', 'inspect', '--format', '{{.Id}}', tag], {
    env,
    inheritEnv: false,
    allowFailure: true,
  }).catch(() => undefined);
  return result?.exitCode === 0;
}

export interface EnsureImageOptions {
  engine: ContainerEngine;
  spec: ImageSpec;
  env: NodeJS.ProcessEnv;
  /** Where the build's whole output goes: build-<tag>.log in this dir. */
  logDir: string;
  signal?: AbortSignal;
  /** --network for the build's RUN steps (config.docker.network). */
  network?: string;
  /** A CA bundle for a TLS-intercepting proxy: a build secret, never stored in the image. */
  caBundle?: string;
  /** Called before a build starts (so the caller can say it will take minutes). */
  onBuildStart?: (tag: string, logPath: string) => void;
  onLine?: (line: string) => void;
}

export interface ImageResult {
  tag: string;
  hash: string;
  /** False when an image with this tag existed and was reused. */
  built: boolean;
  durationMs: number;
  logPath?: string;
}

const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'];

export function buildArgs(options: EnsureImageOptions, tag: string, hash: string): string[] {
  const { spec } = options;
  const args = ['build', '--file', path.join(spec.contextDir, DOCKERFILE), '--tag', tag];
  args.push('--build-arg', `BASE_IMAGE=${spec.baseImage}`, '--build-arg', `UID=${spec.uid}`, '--build-arg', `GID=${spec.gid}`);
  args.push('--label', `${IMAGE_LABEL}=1`, '--label', `${IMAGE_LABEL}.hash=${hash}`);
  // Proxy settings are predefined build args: passed by name, the value comes from the environment.
  for (const name of PROXY_VARS) if (options.env[name]) args.push('--build-arg', name);
  if (options.network) args.push('--network', options.network);
  if (options.caBundle) args.push('--secret', `id=ca-certificates,src=${options.caBundle}`);
  args.push(spec.contextDir);
  return args;
}

/** Reuse the image for these inputs if the engine has it; otherwise build it (minutes, logged). */
export async function ensureImage(options: EnsureImageOptions): Promise<ImageResult> {
  const started = Date.now();
  const hash = await imageHash(options.spec);
  const tag = imageTag(hash, options.spec.uid, options.spec.gid);
  if (await imageExists(options.engine, tag, options.env)) return { tag, hash, built: false, durationMs: Date.now() - started };

  const log = new LogFile(path.join(options.logDir, `build-${tag.slice(IMAGE_REPOSITORY.length + 1)}.log`));
  options.onBuildStart?.(tag, log.path);
  try {
    await exec(options.engine.command, buildArgs(options, tag, hash), {
      env: options.env,
      log,
      signal: options.signal,
      captureStdout: false,
      onLine: options.onLine,
      failure: (result) =>
        showsNetworkFailure(result.tail)
          ? new ImagePullNetworkError(
              `Building the builder image ${tag} with ${options.engine.command} failed: the network is unreachable (${causeLine(result.tail) ?? `exit code ${result.exitCode}`}).`,
              {
                hint: `The engine could not pull ${options.spec.baseImage} or reach a mirror. Check the network (or the proxy settings: HTTPS_PROXY is passed through), then run again.`,
                logPath: log.path,
                tail: result.tail.slice(-20),
              },
            )
          : new ImageBuildError(`Building the builder image ${tag} with ${options.engine.command} failed (exit code ${result.exitCode}).`, {
              hint: `The log has the whole build output. Check that the base image ${options.spec.baseImage} exists or can be pulled, and that the distribution's apt mirror and the npm registry are reachable.`,
              logPath: log.path,
              tail: result.tail.slice(-20),
            }),
    });
  } finally {
    await log.close();
  }
  return { tag, hash, built: true, durationMs: Date.now() - started, logPath: log.path };
}
