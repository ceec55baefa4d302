import path from 'node:path';
import type { RemoteFiles } from '../tools/remote-files.js';
import { hasCommit, isGitRepo, revParse, showFile } from '../tools/git.js';
import type { ResolveOutput } from '../pins/resolve-pin.js';
import type { PatchRepo } from './repos.js';
import { NotFoundError, UsageError } from '../errors.js';
import { readIfExists } from '../util/fs.js';

/**
 * Where the base content of the files a series touches comes from. The dry run, `patches check`
 * and `patches rebase` take these, so the CLI can point them at a pin (read remotely, no checkout),
 * a local clone at a revision, or a plain directory.
 */

/** The base content of one file of one repo; undefined when the file does not exist there. */
export type ReadBase = (repo: PatchRepo, file: string) => Promise<Buffer | undefined>;

export interface RepoSource {
  /** Says what the files are read from, for reports ("quiche 1ba0d99a", "/src/quiche at HEAD"). */
  label: string;
  read(file: string): Promise<Buffer | undefined>;
}

export type RepoSources = Partial<Record<PatchRepo, RepoSource>>;

/** One reader over per-repo sources; asking for a repo without a source is a usage error. */
export function readerFor(sources: RepoSources): ReadBase {
  return (repo, file) => {
    const source = sources[repo];
    if (!source) {
      throw new UsageError(`The series has patches for ${repo}, but no ${repo} files were given to check them against.`, {
        hint:
          repo === 'src'
            ? 'Pass --src <chromium/src clone> too, or check against a pin.'
            : 'Pass --quiche <quiche clone>, or check against a pin.',
      });
    }
    return source.read(file);
  };
}

/** Files of a local git repo at a revision (default HEAD): committed content, never the work tree. */
export async function gitRevisionSource(dir: string, rev = 'HEAD'): Promise<RepoSource> {
  if (!isGitRepo(dir))
    throw new NotFoundError(`${dir} is not a git repository.`, { hint: 'Point it at a clone of quiche (or chromium/src).' });
  if (!(await hasCommit(dir, rev))) {
    throw new NotFoundError(`${rev} is not a commit in ${dir}.`, {
      hint: 'Fetch it first (git -C <dir> fetch origin <rev>), or pass another revision.',
    });
  }
  const commit = await revParse(dir, rev);
  return {
    label: `${dir} at ${rev === commit ? commit.slice(0, 12) : `${rev} (${commit.slice(0, 12)})`}`,
    read: (file) => showFile(dir, commit, file),
  };
}

/** Files of a plain directory (a work tree as it is on disk). */
export function directorySource(dir: string): RepoSource {
  return {
    label: dir,
    read: (file) => readIfExists(path.join(dir, file)),
  };
}

/** Files of a remote repo at a commit, read without a checkout (gitiles, or a blob-less fetch). */
export function remoteSource(remote: RemoteFiles, url: string, commit: string, localRepo?: string): RepoSource {
  return { label: `${url} at ${commit.slice(0, 12)}`, read: (file) => remote.read(url, commit, file, localRepo) };
}

/**
 * Both repos at the revisions a resolved pin names. Local clones that may already hold them (a
 * checkout from an earlier run) are read first, when they are git repos.
 */
export function pinSources(
  remote: RemoteFiles,
  resolved: Pick<ResolveOutput, 'version' | 'srcUrl' | 'srcCommit' | 'quicheUrl' | 'quicheRevision'>,
  localDirs: RepoLocalDirs = {},
): Required<RepoSources> {
  const localRepos = Object.fromEntries(Object.entries(localDirs).filter(([, dir]) => dir && isGitRepo(dir))) as RepoLocalDirs;
  return {
    quiche: {
      ...remoteSource(remote, resolved.quicheUrl, resolved.quicheRevision, localRepos.quiche),
      label: `quiche ${resolved.quicheRevision.slice(0, 12)} (Chromium ${resolved.version})`,
    },
    src: {
      ...remoteSource(remote, resolved.srcUrl, resolved.srcCommit, localRepos.src),
      label: `chromium/src ${resolved.srcCommit.slice(0, 12)} (Chromium ${resolved.version})`,
    },
  };
}

export type RepoLocalDirs = Partial<Record<PatchRepo, string>>;
