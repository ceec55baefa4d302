import { existsSync } from 'node:fs';
import path from 'node:path';
import { simpleGit } from 'simple-git';

/**
 * Local, quick git queries (HEAD, status, object existence) through simple-git. Anything that talks
 * to a remote or can run long goes through the stage's exec() instead, so it is logged, retried,
 * and killed with its process group on abort.
 */

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
    return await git.binaryCatFile(['-p', `${rev}:${file}`]);
  } catch {
    return undefined;
  }
}
