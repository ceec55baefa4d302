/**
 * The repos a patch series can target: quiche's own repository, and Chromium's src (for the build
 * files around quiche). A series line says which (`repo=src`, default quiche); paths inside a patch
 * are relative to that repo's root.
 */
export const PATCH_REPOS = ['quiche', 'src'] as const;

export type PatchRepo = (typeof PATCH_REPOS)[number];

/** A repo the patches apply to, as a checkout left it. */
export interface RepoState {
  /** Absolute path of the repo's work tree. */
  path: string;
  /** Verified HEAD (git rev-parse HEAD), never a tool's report. */
  commit: string;
}
