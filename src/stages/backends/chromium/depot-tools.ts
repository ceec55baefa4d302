import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AppContext } from '../../context.js';
import { chromiumPaths } from './paths.js';
import { gitAt, headCommit, hasCommit } from '../../../tools/git.js';
import { removeStaleGitLocks } from '../../../tools/git-locks.js';
import type { ResolveOutput } from '../../resolve.js';
import { defineStage, type StageContext } from '../../../engine/stage.js';
import { ConfigError, isBuildQuicheError, NotFoundError, toBuildQuicheError, type FailureClass } from '../../../errors.js';
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
    await removeStaleLocks(ctx);
  },
  async run(ctx, inputs) {
    const dir = chromiumPaths(ctx.app).depotTools;
    await removeStaleLocks(ctx);
    try {
      return await checkOutPin(ctx, inputs);
    } catch (error) {
      // A run killed or starved of disk mid-way can leave a repo git cannot check out from (missing
      // or truncated objects). depot_tools is always the cache's own: clone it afresh, once.
      if (ctx.signal.aborted || KEPT_FAILURES.includes(toBuildQuicheError(error).failureClass)) throw error;
      ctx.report.note(`depot_tools is broken (${(error as Error).message.split('\n')[0]}); cloning it afresh`);
      await rm(dir, { recursive: true, force: true });
      return checkOutPin(ctx, inputs);
    }
  },
  async verify(_ctx, { inputs, outputs }) {
    const head = await headCommit(outputs.path);
    if (!sameCommit(head, inputs.revision)) return `depot_tools HEAD is ${head ?? 'missing'}, expected ${inputs.revision}`;
    if (!existsSync(path.join(outputs.path, '.disable_auto_update'))) return '.disable_auto_update is missing';
    return true;
  },
  describe: (o) => `depot_tools ${o.revision.slice(0, 12)}`,
});

type Ctx = StageContext<AppContext>;

/** Failures a fresh clone would not fix: they are reported as they are. */
const KEPT_FAILURES: FailureClass[] = ['interrupted', 'network', 'not-found', 'disk'];

async function removeStaleLocks(ctx: Ctx): Promise<void> {
  for (const repair of await removeStaleGitLocks([chromiumPaths(ctx.app).depotTools])) {
    ctx.report.note(repair.removed ? `removed stale ${repair.lock}` : `${repair.lock} is held by pid ${repair.holders.join(', ')}`);
  }
}

async function checkOutPin(ctx: Ctx, inputs: DepotToolsInputs): Promise<DepotToolsOutput> {
  const dir = chromiumPaths(ctx.app).depotTools;
  const git = gitAt(dir, ctx.exec);
  if (!existsSync(path.join(dir, '.git'))) {
    // init + fetch rather than clone: an interrupted fetch resumes here, nothing is deleted.
    await mkdir(dir, { recursive: true });
    await git(['init', '-q']);
  }
  // A run killed between `init` and `remote add` leaves a repo without origin.
  const origin = await git(['remote', 'get-url', 'origin'], { allowFailure: true });
  await git(origin.exitCode === 0 ? ['remote', 'set-url', 'origin', inputs.url] : ['remote', 'add', 'origin', inputs.url]);
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
}
