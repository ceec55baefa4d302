import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { headCommit } from '../tools/git.js';
import type { GitDep } from './deps.js';

/** What a checkout is verified against: the resolved pin's src commit and its pinned git deps. */
export interface PinnedCheckout {
  srcCommit: string;
  deps: readonly GitDep[];
}

export type DepState = 'ok' | 'missing' | 'empty' | 'wrong-commit';

export interface DepCheck {
  /** Relative to the gclient root ('src', 'src/net/third_party/quiche/src', ...). */
  path: string;
  expected: string;
  actual: string | undefined;
  state: DepState;
}

const isHash = (rev: string) => /^[0-9a-f]{40}$/.test(rev);

/** The pinned repos of a checkout: src itself and every git dep with a commit pin. */
export function pinnedRepos(resolve: PinnedCheckout): Array<{ path: string; expected: string }> {
  return [
    { path: 'src', expected: resolve.srcCommit },
    ...resolve.deps.filter((dep) => dep.revision && isHash(dep.revision)).map((dep) => ({ path: dep.path, expected: dep.revision! })),
  ];
}

/**
 * Checks each pinned repo with `git rev-parse HEAD`, never trusting gclient's own report (which
 * shows revisions from before the sync). "empty" is the signature of a killed first clone: a
 * directory, maybe a .git, but no commit checked out.
 */
export async function checkDeps(gclientRoot: string, resolve: PinnedCheckout): Promise<DepCheck[]> {
  return Promise.all(
    pinnedRepos(resolve).map(async ({ path: rel, expected }) => {
      const dir = path.join(gclientRoot, rel);
      if (!existsSync(dir)) return { path: rel, expected, actual: undefined, state: 'missing' as const };
      // Only a repo of its own: git run in a dir whose .git is empty (a killed clone) answers for the
      // enclosing repo (src) instead, which would make a half-made dep look moved.
      const actual = isOwnRepo(dir) ? await headOf(dir) : undefined;
      if (!actual) return { path: rel, expected, actual, state: 'empty' as const };
      if (actual !== expected) return { path: rel, expected, actual, state: 'wrong-commit' as const };
      // A HEAD with an empty work tree (only .git) is as broken as no HEAD.
      const entries = readdirSync(dir).filter((name) => name !== '.git');
      if (entries.length === 0) return { path: rel, expected, actual, state: 'empty' as const };
      return { path: rel, expected, actual, state: 'ok' as const };
    }),
  );
}

export const describeDep = (check: DepCheck) =>
  `${check.path}: ${check.state}${check.actual ? ` (at ${check.actual.slice(0, 12)})` : ''}, pinned ${check.expected.slice(0, 12)}`;

/**
 * A detached HEAD (what gclient leaves in every dep) is read from .git/HEAD: the same answer as
 * `git rev-parse --verify -q HEAD`, which does not look the commit up either, without a process per
 * repo (a no-op rerun checks ~100 repos on a real tree). Anything else (a branch, a gitdir link) asks git.
 */
async function headOf(dir: string): Promise<string | undefined> {
  const head = await readFile(path.join(dir, '.git', 'HEAD'), 'utf8').catch(() => undefined);
  if (head !== undefined && /^[0-9a-f]{40}\n?$/.test(head)) return head.trim();
  return headCommit(dir);
}

/**
 * `dir/.git` is a git dir or a gitdir link file, not a leftover. A git dir needs what git itself asks
 * of one (setup.c, is_git_directory): HEAD, objects/ and refs/. A `git init` killed half way (a run's
 * successor stops the orphaned gclient mid-init) leaves HEAD and refs/ but no objects/, and git then
 * answers for the enclosing repo, as for an empty .git.
 */
function isOwnRepo(dir: string): boolean {
  const marker = path.join(dir, '.git');
  if (!existsSync(marker)) return false;
  if (statSync(marker).isFile()) return true;
  return ['HEAD', 'objects', 'refs'].every((name) => existsSync(path.join(marker, name)));
}
