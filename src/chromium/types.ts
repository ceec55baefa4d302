import type { GitDep } from './deps.js';

/** Outputs of the resolve stage: the pin turned into exact revisions, read from DEPS at the pin. */
export interface ResolveOutput {
  version: string;
  /** What was asked for: refs/tags/<version>, or a commit. */
  ref: string;
  srcUrl: string;
  srcCommit: string;
  quicheRevision: string;
  quicheUrl: string;
  depotToolsRevision: string | undefined;
  gnVersion: string | undefined;
  /** Every pinned git dep (paths relative to the gclient root), for verification after sync. */
  deps: GitDep[];
  /** How DEPS was read: 'gitiles' or 'git'. */
  via: 'gitiles' | 'git';
}

/** Where a patch applies. Paths inside patches are relative to that repo's root. */
export type PatchRepo = 'quiche' | 'src';

export const QUICHE_PATH_IN_SRC = 'net/third_party/quiche/src';
export const QUICHE_DEP_PATH = `src/${QUICHE_PATH_IN_SRC}`;
export const DEPOT_TOOLS_DEP_PATH = 'src/third_party/depot_tools';

export interface RepoState {
  /** Absolute path of the repo's work tree. */
  path: string;
  /** Verified HEAD (git rev-parse HEAD), never gclient's report. */
  commit: string;
}

/** Outputs of the checkout stage. */
export interface CheckoutOutput {
  gclientRoot: string;
  repos: Record<PatchRepo, RepoState>;
  /** Every pinned git dep verified after the sync: path (relative to the gclient root) -> commit. */
  verified: Record<string, string>;
  adopted: boolean;
}
