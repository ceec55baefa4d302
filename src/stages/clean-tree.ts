import path from 'node:path';
import type { RepoState } from '../chromium/types.js';
import { DirtyTreeError } from '../errors.js';
import { ownedChanges } from '../patches/ledger.js';
import { dirtyFiles } from '../tools/git.js';
import { ledgerLocation, type AppContext } from './context.js';

/**
 * An artifact's fingerprint names the pins and the patch series, so the tree it is built from must be
 * exactly that: a hand edit in the cache's own checkout (a file no patch of ours touches) would be
 * compiled in under the clean build's name. Tracked changes that are not the patch stage's own (per
 * its ledger) stop the run, naming the files; nothing is reset or reverted. Untracked files are not
 * counted: gclient's hooks leave generated ones, and a new file changes the build only through a
 * tracked file that names it. An adopted checkout is the user's to build as it is.
 */
export async function refuseForeignChanges(app: AppContext, repos: Partial<Record<string, RepoState>>): Promise<void> {
  if (app.paths.adopted) return;
  const owned = new Set(await ownedChanges(ledgerLocation(app)));
  const foreign: string[] = [];
  for (const repo of Object.values(repos)) {
    if (!repo) continue;
    for (const file of await dirtyFiles(repo.path)) {
      const abs = path.join(repo.path, file.path);
      if (file.code !== '??' && !owned.has(path.relative(app.paths.gclientRoot, abs))) foreign.push(`${abs} (${file.code.trim()})`);
    }
  }
  if (foreign.length === 0) return;
  throw new DirtyTreeError(
    `The cache's checkout has changes that are not build-quiche's patches; they would be built under the clean build's fingerprint:\n  ${foreign.join('\n  ')}\nNothing was changed.`,
    {
      hint: 'Keep an edit by turning it into a patch in the series (build-quiche patches export), or discard it (git -C <repo> checkout -- <file>), then run again.',
      data: { files: foreign },
    },
  );
}
