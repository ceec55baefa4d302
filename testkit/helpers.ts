/**
 * Helpers for tests that run the fake depot_tools against the local upstream:
 * temp dirs, an isolated git environment, a depot_tools checkout and a gclient root.
 */
import { execa, type ResultPromise } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UpstreamInfo } from './build.js';

export const VPYTHON_BYPASS = 'manually managed python not supported by chrome operations';

export interface RunResult {
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved. */
  all: string;
}

/** Temp dirs created through tempDir(), removed by removeTempDirs(). */
const tempDirs: string[] = [];

/** A fresh directory under the OS temp dir, removed by removeTempDirs() (the one tempDir of the tests). */
export async function tempDir(label = 'bq'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), label.endsWith('-') ? label : `${label}-`));
  tempDirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/**
 * PATH without pyenv's shims: a shim costs ~0.35 s per python3 start, and the fake depot_tools
 * starts python3 for every gclient, gn and autoninja call. Any python3 >= 3.8 will do.
 */
export const TEST_PATH = (process.env.PATH ?? '')
  .split(':')
  .filter((dir) => dir && !dir.includes('/.pyenv/shims'))
  .join(':');

/** An environment where git ignores the machine's config and commits with fixed names. */
export function isolatedEnv(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    PATH: TEST_PATH,
    HOME: process.env.HOME,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@build-quiche.test',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@build-quiche.test',
    GIT_TERMINAL_PROMPT: '0',
    ...extra,
  };
}

export async function run(
  file: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; timeout?: number } = {},
): Promise<RunResult> {
  const result = await execa(file, args, {
    cwd: opts.cwd,
    env: opts.env ?? isolatedEnv(),
    extendEnv: false,
    reject: false,
    all: true,
    timeout: opts.timeout ?? 120_000,
    stripFinalNewline: false,
  });
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    all: String(result.all ?? ''),
  };
}

export async function git(cwd: string, args: string[]): Promise<string> {
  const result = await run('git', args, { cwd });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(' ')} in ${cwd} failed:\n${result.all}`);
  return result.stdout.trim();
}

export async function head(dir: string): Promise<string> {
  return git(dir, ['rev-parse', 'HEAD']);
}

/** A gclient workspace: a depot_tools checkout and a gclient root with a .gclient. */
export interface Workspace {
  dir: string;
  depotTools: string;
  root: string;
  src: string;
  quiche: string;
  /** The environment gclient runs with: depot_tools first on PATH, no self-update, VPYTHON bypass. */
  env: Record<string, string | undefined>;
  gclient(args: string[], opts?: { env?: Record<string, string | undefined>; timeout?: number; cwd?: string }): Promise<RunResult>;
  /** Starts gclient without waiting, for tests that signal it. */
  spawnGclient(args: string[], opts?: { env?: Record<string, string | undefined> }): ResultPromise;
}

export interface WorkspaceOptions {
  baseUrl: string;
  info: UpstreamInfo;
  /** depot_tools revision to check out (default: the 152 pin). */
  depotToolsRevision?: string;
  customVars?: Record<string, unknown>;
  /** Extra lines appended to .gclient. */
  gclientExtra?: string;
}

function pythonLiteral(value: unknown): string {
  if (value === true) return 'True';
  if (value === false) return 'False';
  return JSON.stringify(value);
}

export async function createWorkspace(opts: WorkspaceOptions): Promise<Workspace> {
  const dir = await tempDir('bq-ws-');
  const depotTools = join(dir, 'depot_tools');
  // A local clone is quicker; origin then points at the server, as for a real checkout.
  await git(dir, ['clone', '-q', opts.info.repos.depotTools, depotTools]);
  await git(depotTools, ['remote', 'set-url', 'origin', `${opts.baseUrl}/${opts.info.urlPaths.depotTools}`]);
  await git(depotTools, ['checkout', '-q', '--detach', opts.depotToolsRevision ?? opts.info.tags['152.0.7977.83'].depotToolsRevision]);
  const root = join(dir, 'chromium');
  await execa('mkdir', ['-p', root]);
  const customVars = { chromium_git: opts.baseUrl, quiche_git: opts.baseUrl, checkout_nacl: false, ...opts.customVars };
  await writeFile(
    join(root, '.gclient'),
    `solutions = [{
  "name": "src",
  "url": "${opts.baseUrl}/${opts.info.urlPaths.src}",
  "managed": False,
  "custom_deps": {},
  "custom_vars": {
${Object.entries(customVars)
  .map(([k, v]) => `    "${k}": ${pythonLiteral(v)},`)
  .join('\n')}
  },
}]
target_os = ["linux"]
target_os_only = True
${opts.gclientExtra ?? ''}
`,
  );
  const env = isolatedEnv({
    PATH: `${depotTools}:${TEST_PATH}`,
    DEPOT_TOOLS_UPDATE: '0',
    DEPOT_TOOLS_METRICS: '0',
    VPYTHON_BYPASS,
    FAKE_GCLIENT_RETRY_SLEEP: '0.01',
  });
  const gclientPath = join(depotTools, 'gclient');
  return {
    dir,
    depotTools,
    root,
    src: join(root, 'src'),
    quiche: join(root, 'src/net/third_party/quiche/src'),
    env,
    gclient: (args, o = {}) => run(gclientPath, args, { cwd: o.cwd ?? root, env: { ...env, ...o.env }, timeout: o.timeout }),
    spawnGclient: (args, o = {}) =>
      execa(gclientPath, args, { cwd: root, env: { ...env, ...o.env }, extendEnv: false, reject: false, all: true }),
  };
}

/** The usual offline sync: no history, no hooks, -D, pinned src, no CIPD. */
export function syncArgs(tag: string, ...extra: string[]): string[] {
  return ['sync', '--no-history', '--nohooks', '-D', '-r', `src@refs/tags/${tag}`, '--ignore-dep-type=cipd', ...extra];
}

/** Resolves once `text` appears in the child's stdout. */
export function waitForOutput(child: ResultPromise, text: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${JSON.stringify(text)}; got:\n${seen}`)), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void child.then(() => {
      clearTimeout(timer);
      if (!seen.includes(text)) reject(new Error(`process ended before ${JSON.stringify(text)}; got:\n${seen}`));
    });
  });
}

/** A copy of a workspace (e.g. one synced once in beforeAll), for a test to change freely. */
export async function copyWorkspace(template: Workspace): Promise<Workspace> {
  const dir = await tempDir('bq-ws-');
  await execa('cp', ['-a', `${template.dir}/.`, dir]);
  const rebase = (p: string) => join(dir, p.slice(template.dir.length + 1));
  const depotTools = rebase(template.depotTools);
  const root = rebase(template.root);
  const env = { ...template.env, PATH: `${depotTools}:${TEST_PATH}` };
  const gclientPath = join(depotTools, 'gclient');
  return {
    dir,
    depotTools,
    root,
    src: rebase(template.src),
    quiche: rebase(template.quiche),
    env,
    gclient: (args, o = {}) => run(gclientPath, args, { cwd: o.cwd ?? root, env: { ...env, ...o.env }, timeout: o.timeout }),
    spawnGclient: (args, o = {}) =>
      execa(gclientPath, args, { cwd: root, env: { ...env, ...o.env }, extendEnv: false, reject: false, all: true }),
  };
}
