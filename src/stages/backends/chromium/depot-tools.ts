import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AppContext } from '../../context.js';
import { gitAt, headCommit, hasCommit } from '../../../tools/git.js';
import { removeStaleIndexLocks } from '../../../tools/git-locks.js';
import type { ResolveOutput } from '../../../chromium/types.js';
import { defineStage } from '../../../engine/stage.js';
import { ConfigError, isBuildQuicheError, NotFoundError } from '../../../errors.js';
import { withRetry } from '../../../process/retry.js';

export interface DepotToolsInputs {
  url: string;
  revision: string;
}

export interface DepotToolsOutput {
  path: string;
  revision: string;
}

/** Matches a full hash against a (possibly abbreviated) pin. */
const sameCommit = (a: string | undefined, b: string) => !!a && (a.startsWith(b) || b.startsWith(a));

/**
 * depot_tools at the revision DEPS pins (or the config's override), fetched one commit deep, with
 * self-update switched off so nothing moves it afterwards. The environment every later stage uses
 * comes from depotToolsEnv() in tools/depot-tools.ts.
 */
export const depotToolsStage = defineStage<AppContext, DepotToolsInputs, DepotToolsOutput>({
  id: 'depot-tools',
  title: 'Fetch depot_tools',
  after: ['resolve'],
  inputs: ({ app, upstream }) => {
    const revision = app.config.depotTools.revision ?? upstream<ResolveOutput>('resolve').depotToolsRevision;
    if (!revision) {
      throw new ConfigError('DEPS at this pin does not pin depot_tools (src/third_party/depot_tools).', {
        hint: 'Set depotTools.revision in the config.',
      });
    }
    return { url: app.config.depotTools.url, revision };
  },
  async repair(ctx) {
    for (const repair of await removeStaleIndexLocks([ctx.app.paths.depotTools])) {
      ctx.report.note(repair.removed ? `removed stale ${repair.lock}` : `${repair.lock} is held by pid ${repair.holders.join(', ')}`);
    }
  },
  async run(ctx, inputs) {
    const dir = ctx.app.paths.depotTools;
    const git = gitAt(dir, ctx.exec);
    if (!existsSync(path.join(dir, '.git'))) {
      // init + fetch rather than clone: an interrupted fetch resumes here, nothing is deleted.
      await mkdir(dir, { recursive: true });
      await git(['init', '-q']);
      await git(['remote', 'add', 'origin', inputs.url]);
    } else {
      await git(['remote', 'set-url', 'origin', inputs.url]);
    }
    if (!(await hasCommit(dir, inputs.revision))) {
      await withRetry(() => git(['fetch', '--depth=1', '--no-tags', 'origin', inputs.revision]), ctx.app.config.retry, {
        signal: ctx.signal,
        onRetry: (error, attempt) => ctx.report.note(`fetch failed (attempt ${attempt}): ${error.message}; retrying`),
      }).catch((error: unknown) => {
        if (isBuildQuicheError(error) && error.failureClass === 'not-found') {
          throw new NotFoundError(`depot_tools revision ${inputs.revision} does not exist at ${inputs.url}.`, {
            hint: 'Check depotTools.url / depotTools.revision.',
            cause: error,
          });
        }
        throw error;
      });
    }
    await git(['checkout', '-q', '--force', '--detach', inputs.revision]);
    // Belt and braces with DEPOT_TOOLS_UPDATE=0: the file also stops updates started outside us.
    await writeFile(path.join(dir, '.disable_auto_update'), 'build-quiche pins depot_tools; see DEPS.\n');
    const head = await headCommit(dir);
    if (!sameCommit(head, inputs.revision)) {
      throw new NotFoundError(`depot_tools is at ${head ?? 'no commit'} after checkout, expected ${inputs.revision}.`);
    }
    return { path: dir, revision: head! };
  },
  async verify(_ctx, { inputs, outputs }) {
    const head = await headCommit(outputs.path);
    if (!sameCommit(head, inputs.revision)) return `depot_tools HEAD is ${head ?? 'missing'}, expected ${inputs.revision}`;
    if (!existsSync(path.join(outputs.path, '.disable_auto_update'))) return '.disable_auto_update is missing';
    return true;
  },
  describe: (o) => `depot_tools ${o.revision.slice(0, 12)}`,
});
