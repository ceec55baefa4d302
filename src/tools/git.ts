import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { simpleGit } from 'simple-git';
import { exec as defaultExec, type Exec, type ExecOptions, type ExecResult } from '../process/exec.js';

// ---- Local, quick queries (HEAD, status, object existence, file at a revision) ----
// Through simple-git: they are instant, need no log, and showFile needs git's raw bytes (exec
// captures text lines). Anything that talks to a remote or can run long goes through exec instead,
// so it is logged, retried, and killed with its process group on abort.

export function isGitRepo(dir: string): boolean {
  return existsSync(path.join(dir, '.git')) || existsSync(path.join(dir, 'HEAD'));
}

export async function headCommit(dir: string): Promise<string | undefined> {
  try {
    return (await simpleGit(dir).revparse(['--verify', '-q', 'HEAD'])).trim() || undefined;
  } catch {
    return undefined;
  }
}

export async function hasCommit(dir: string, rev: string): Promise<boolean> {
  try {
    await simpleGit(dir).raw(['cat-file', '-e', `${rev}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}

/**
 * The commits HEAD has on top of `base` ("<short hash> <subject>", newest first); undefined when
 * `base` is not an ancestor of HEAD (or is not in the repo).
 */
export async function commitsSince(dir: string, base: string): Promise<string[] | undefined> {
  const git = simpleGit(dir);
  try {
    await git.raw(['merge-base', '--is-ancestor', base, 'HEAD']);
  } catch {
    return undefined;
  }
  return (await git.raw(['log', '--format=%h %s', `${base}..HEAD`])).split('\n').filter(Boolean);
}

export interface DirtyFile {
  path: string;
  /** Porcelain XY code, e.g. ' M', '??'. */
  code: string;
}

/** Tracked modifications and untracked files (ignored files are not reported). */
export async function dirtyFiles(dir: string): Promise<DirtyFile[]> {
  const out = await simpleGit(dir).raw(['status', '--porcelain=v1', '-z', '--untracked-files=all']);
  return out
    .split('\0')
    .filter(Boolean)
    .map((entry) => ({ code: entry.slice(0, 2), path: entry.slice(3) }));
}

export async function showFile(dir: string, rev: string, file: string): Promise<Buffer | undefined> {
  try {
    const git = simpleGit(dir);
    return (await git.binaryCatFile(['-p', `${rev}:${file}`])) as Buffer;
  } catch {
    return undefined;
  }
}

/** Resolve a revision to its full commit hash in a local repo. */
export async function revParse(dir: string, rev: string): Promise<string> {
  return (await simpleGit(dir).revparse(['--verify', `${rev}^{commit}`])).trim();
}

/** git -C <dir> through an exec (a stage's, so it is logged and tracked). */
export function gitAt(dir: string, exec: Exec): (args: readonly string[], options?: ExecOptions) => Promise<ExecResult> {
  return (args, options) => exec('git', ['-C', dir, ...args], options);
}

// ---- Hermetic git ----

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
