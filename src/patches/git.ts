import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { exec as defaultExec, type ExecOptions, type ExecResult } from '../process/exec.js';

export type Exec = (file: string, args: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

/**
 * git for the patch machinery's own scratch repos and for exports: the user's and the system's git
 * config are ignored (an `apply.whitespace=fix` or `diff.noprefix` there would change what we
 * compute), and commits get a fixed identity and date so their output is reproducible.
 */
export const HERMETIC_GIT_ENV: Record<string, string> = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: os.devNull,
  GIT_AUTHOR_NAME: 'build-quiche',
  GIT_AUTHOR_EMAIL: 'build-quiche@localhost',
  GIT_AUTHOR_DATE: '2001-01-01T00:00:00Z',
  GIT_COMMITTER_NAME: 'build-quiche',
  GIT_COMMITTER_EMAIL: 'build-quiche@localhost',
  GIT_COMMITTER_DATE: '2001-01-01T00:00:00Z',
  GIT_TERMINAL_PROMPT: '0',
};

/** Config flags pinned for every command whose output we parse or keep. */
const PINNED_CONFIG = ['-c', 'core.autocrlf=false', '-c', 'core.quotePath=true', '-c', 'advice.detachedHead=false'];

export interface GitRunner {
  (args: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  cwd: string;
}

export function gitIn(cwd: string, exec: Exec = defaultExec, extraEnv: Record<string, string> = {}): GitRunner {
  const run = (args: readonly string[], options: ExecOptions = {}) =>
    exec('git', [...PINNED_CONFIG, ...args], { ...options, cwd, env: { ...HERMETIC_GIT_ENV, ...extraEnv, ...options.env } });
  return Object.assign(run, { cwd });
}

export interface Scratch {
  dir: string;
  git: GitRunner;
  dispose: () => Promise<void>;
}

/** A scratch git repo in a fresh temp dir; `dispose` removes it. */
export async function scratchRepo(prefix: string, exec: Exec = defaultExec, parent = os.tmpdir()): Promise<Scratch> {
  const dir = await mkdtemp(path.join(parent, `build-quiche-${prefix}-`));
  const git = gitIn(dir, exec);
  await git(['init', '-q']);
  return { dir, git, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A scratch directory that is no repo, for `git apply` on plain files. GIT_CEILING_DIRECTORIES
 * stops git from finding an enclosing repo (inside one, `git apply` silently skips paths outside
 * the current directory); it saves the `git init` of a scratch repo.
 */
export async function scratchDir(prefix: string, exec: Exec = defaultExec, parent = os.tmpdir()): Promise<Scratch> {
  const dir = await mkdtemp(path.join(parent, `build-quiche-${prefix}-`));
  const git = gitIn(dir, exec, { GIT_CEILING_DIRECTORIES: path.dirname(dir) });
  return { dir, git, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** git's error lines (`error: ...`, `fatal: ...`) from a failed command's output. */
export function gitErrors(result: ExecResult): string[] {
  return `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^(error|fatal):/.test(line));
}
