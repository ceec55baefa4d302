/**
 * Reads real files from the read-only bare repositories of the shared upstream (BQ_SHARED_UPSTREAM, default
 * ../shared/upstream next to the clone), so
 * the quiche-backend unit tests check the parsers against the real MODULE.bazel, source_list.json and
 * BUILD files rather than copies. Tests skip, with the reason printed, when the directory is absent.
 *
 * The bare repositories there have no refs/ directory (an empty directory does not survive every copy),
 * so git does not recognize them; git also must not write into them. We read them through a throwaway
 * view in the temp dir: HEAD, packed-refs and an objects/info/alternates pointing at their objects.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exec } from '../src/process/exec.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const holdsQuiche = (dir: string) => existsSync(join(dir, 'quiche.git', 'packed-refs'));

/** Where the repository this checkout belongs to lives: a worktree's main checkout, a local clone's origin. */
function homesOfThisRepo(): string[] {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', ['-C', repoRoot, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  const commonDir = git('rev-parse', '--path-format=absolute', '--git-common-dir');
  const origin = git('config', '--get', 'remote.origin.url').replace(/^file:\/\//, '');
  return [commonDir && dirname(commonDir), isAbsolute(origin) ? origin.replace(/\/\.git\/?$|\/$/, '') : ''].filter(Boolean);
}

/**
 * Where the shared upstream is: BQ_SHARED_UPSTREAM; else ../shared/upstream next to this checkout, or
 * next to the repository it was cloned from (a CI clone of a local repo, a git worktree). The one place
 * tests, the real tier and the fault suite learn it: no machine path is written anywhere.
 */
export const SHARED_UPSTREAM_DIR = process.env.BQ_SHARED_UPSTREAM
  ? resolve(repoRoot, process.env.BQ_SHARED_UPSTREAM)
  : ([repoRoot, ...homesOfThisRepo()].map((home) => resolve(home, '../shared/upstream')).find(holdsQuiche) ??
    resolve(repoRoot, '../shared/upstream'));

/** The shared upstream, when it holds the quiche repository (else undefined: the tests that need it skip). */
export const UPSTREAM_DIR = holdsQuiche(SHARED_UPSTREAM_DIR) ? SHARED_UPSTREAM_DIR : undefined;
export const SKIP_REASON = UPSTREAM_DIR
  ? undefined
  : `no shared upstream at ${SHARED_UPSTREAM_DIR} (set BQ_SHARED_UPSTREAM): real-file tests skipped`;
if (SKIP_REASON) console.warn(SKIP_REASON);

export const QUICHE_152 = '1ba0d99a5c2fec4f4dbb7f98f251b05dcf4e2968';
export const QUICHE_150 = '997d654308b6a1a17435e472ef5190aecb12e3eb';
export const QUICHE_143 = '42cbfedd76691c19af012a3d717fca07d7b09cc9';
export const GOOGLEURL_PIN = '481d8a95e38efb9eb2142bb12bbba08a5d5613b0';

let viewRoot: string | undefined;

async function view(repo: string): Promise<string> {
  viewRoot ??= await mkdtemp(join(tmpdir(), 'bq-upstream-view-'));
  const gitDir = join(viewRoot, repo);
  if (!existsSync(gitDir)) {
    const source = join(UPSTREAM_DIR!, repo);
    await mkdir(join(gitDir, 'refs'), { recursive: true });
    await mkdir(join(gitDir, 'objects/info'), { recursive: true });
    for (const file of ['HEAD', 'packed-refs', 'config']) await copyFile(join(source, file), join(gitDir, file));
    if (existsSync(join(source, 'shallow'))) await copyFile(join(source, 'shallow'), join(gitDir, 'shallow'));
    await writeFile(join(gitDir, 'objects/info/alternates'), `${join(source, 'objects')}\n`);
  }
  return gitDir;
}

/** `git show <rev>:<path>` in one of the upstream repositories (e.g. 'quiche.git'). */
export async function showFile(repo: string, rev: string, path: string): Promise<string> {
  const gitDir = await view(repo);
  const result = await exec('git', ['--git-dir', gitDir, 'show', `${rev}:${path}`], {
    env: { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });
  return result.stdout + '\n';
}

export async function removeViews(): Promise<void> {
  if (viewRoot) await rm(viewRoot, { recursive: true, force: true });
  viewRoot = undefined;
}

/** Every repository of ../shared/upstream. */
export const UPSTREAM_REPOS = ['quiche.git', 'abseil-cpp.git', 'boringssl.git', 'protobuf.git', 'googleurl.git', 'quic-trace.git'] as const;

/** A directory of views of every upstream repository, for the local upstream server to serve (git http-backend). */
export async function upstreamViews(): Promise<string> {
  for (const repo of UPSTREAM_REPOS) await view(repo);
  return viewRoot!;
}
