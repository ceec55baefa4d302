import { existsSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { AppContext } from '../../context.js';
import { chromiumLedger, chromiumPaths, depotToolsEnvFor } from './paths.js';
import { commitsSince } from '../../../tools/git.js';
import { renderGclientFile } from '../../../chromium/gclient-file.js';
import { QUICHE_DEP_PATH } from '../../../chromium/layout.js';
import type { PatchRepo, RepoState } from '../../../patches/repos.js';
import type { ResolveOutput } from '../../resolve.js';
import { checkDeps, describeDep, type DepCheck } from '../../../chromium/verify-checkout.js';
import { defineStage, type StageContext } from '../../../engine/stage.js';
import { ConfigError, DirtyTreeError, NotFoundError } from '../../../errors.js';
import { gclientRunhooks, gclientSync, repairStaleLocks, type GclientOptions } from '../../../tools/gclient.js';
import { foreignChanges, foreignChangesError, revertAppliedPatches } from '../../../patches/ledger.js';
import { writeIfChanged } from '../../../util/fs.js';
import type { DepotToolsOutput } from './depot-tools.js';
import { effectiveCustomVars } from '../../../pins/resolve-pin.js';
import { remoteExecutionCustomVars } from '../../../chromium/remote-execution.js';
import {
  checkSettingsFiles,
  checkSisoConfigured,
  remoteExecutionOf,
  runhooksError,
  sisoConfigDrift,
  sisoSupportAtPin,
  type RemoteExecutionCheckout,
} from './remote-execution.js';

export interface CheckoutInputs {
  gclientFile: string;
  gclientRoot: string;
  adopted: boolean;
  allowMoveExisting: boolean;
  syncRevision: string;
  srcCommit: string;
  pins: Array<{ path: string; revision: string }>;
  depotToolsRevision: string;
  offline: boolean;
  syncArgs: string[];
}

/** Outputs of the checkout stage (its SourceOutput, and what it verified). */
export interface CheckoutOutput {
  gclientRoot: string;
  repos: Record<PatchRepo, RepoState>;
  /** Every pinned git dep verified after the sync: path (relative to the gclient root) -> commit. */
  verified: Record<string, string>;
  adopted: boolean;
  /** With remote execution: what the pin supports and the .sisoenv runhooks wrote (remote-execution.ts). */
  remoteExecution?: RemoteExecutionCheckout;
}

type Ctx = StageContext<AppContext>;

/**
 * The ~50 GB tree. gclient is not trusted: it reports revisions from before the sync, "succeeds"
 * with an empty dep after a killed clone, and has no lock. So this stage verifies every pinned dep
 * itself after each sync, repairs the known failure modes (stale index.lock, empty or stuck deps),
 * reverts only our own patches before moving a pin, and stops on anybody else's changes.
 */
export const checkoutStage = defineStage<AppContext, CheckoutInputs, CheckoutOutput>({
  id: 'checkout',
  title: 'Check out Chromium (gclient sync)',
  after: ['resolve', 'depot-tools'],
  inputs: ({ app, upstream }) => {
    const resolve = upstream<ResolveOutput>('resolve');
    const { config } = app;
    const paths = chromiumPaths(app);
    const remote = remoteExecutionOf(config);
    return {
      gclientFile: renderGclientFile({
        srcUrl: config.chromium.srcUrl,
        customVars: { ...effectiveCustomVars(config), ...(remote && remoteExecutionCustomVars(remote)) },
        customDeps: config.gclient.customDeps,
        targetOs: config.gclient.targetOs,
        cacheDir: config.gclient.cacheDir,
      }),
      gclientRoot: paths.gclientRoot,
      adopted: paths.adopted,
      allowMoveExisting: config.checkout.allowMoveExisting,
      syncRevision: `src@${resolve.ref}`,
      srcCommit: resolve.srcCommit,
      pins: resolve.deps.map((dep) => ({ path: dep.path, revision: dep.revision! })),
      depotToolsRevision: upstream<DepotToolsOutput>('depot-tools').revision,
      offline: config.depotTools.offline,
      syncArgs: config.gclient.syncArgs,
    };
  },
  async repair(ctx) {
    await repairLocks(ctx, repoDirs(ctx));
    if (!chromiumPaths(ctx.app).adopted) await removeHalfMadeClones(ctx);
  },
  async run(ctx, inputs) {
    const resolve = ctx.upstream<ResolveOutput>('resolve');
    const root = inputs.gclientRoot;
    const remote = remoteExecutionOf(ctx.app.config);
    // The version gate comes first: a pin siso cannot drive remotely is refused before a 50 GB sync.
    if (remote) checkSettingsFiles(remote);
    const support = remote && (await sisoSupportAtPin(ctx, remote, resolve, path.join(root, 'src')));
    await prepareRoot(ctx, inputs);
    await repairLocks(ctx, repoDirs(ctx));
    if (!inputs.adopted) await removeHalfMadeClones(ctx);

    let checks = await checkDeps(root, resolve);
    const needsSync = checks.some((c) => c.state !== 'ok');
    if (needsSync) {
      if (inputs.adopted && !inputs.allowMoveExisting && checks.some((c) => c.state === 'wrong-commit')) {
        throw new ConfigError(
          `The adopted checkout at ${root} is not at ${resolve.version}:\n  ${checks
            .filter((c) => c.state !== 'ok')
            .map(describeDep)
            .join('\n  ')}`,
          {
            hint: 'Set checkout.allowMoveExisting (or pass --move-existing) to let build-quiche sync it to the pin, or pick the pin it is at.',
          },
        );
      }
      await prepareForMove(ctx, checks);
      await sync(ctx, inputs);
      checks = await checkDeps(root, resolve);
      const broken = checks.filter((c) => c.state !== 'ok');
      if (broken.length) {
        // Known gclient failure: a killed first clone leaves a dep that every later sync "succeeds" on.
        // The only fix is to remove that dep and sync again; never work we did not make.
        await removeBrokenDeps(ctx, broken, inputs.adopted);
        await sync(ctx, inputs);
        checks = await checkDeps(root, resolve);
      }
      const still = checks.filter((c) => c.state !== 'ok');
      if (still.length) {
        throw new NotFoundError(`After gclient sync, these deps are not at their pins:\n  ${still.map(describeDep).join('\n  ')}`, {
          hint: 'Check that the mirrors hold these revisions; see the log for what gclient did.',
          data: { deps: still },
        });
      }
    } else {
      ctx.report.note(`every pinned repo is already at ${resolve.version}; no sync needed`);
    }
    await gclientRunhooks(gclientOptions(ctx, inputs)).catch((error: unknown) => {
      throw remote ? runhooksError(error, remote) : error;
    });
    const remoteExecution = remote && support && (await checkSisoConfigured(remote, support, path.join(root, 'src'), inputs.adopted));
    const verified = Object.fromEntries(checks.map((c) => [c.path, c.actual!]));
    return {
      gclientRoot: root,
      adopted: inputs.adopted,
      ...(remoteExecution && { remoteExecution }),
      verified,
      repos: {
        src: { path: path.join(root, 'src'), commit: verified.src! },
        quiche: { path: path.join(root, QUICHE_DEP_PATH), commit: verified[QUICHE_DEP_PATH]! },
      },
    };
  },
  async verify(ctx, { inputs, outputs }) {
    const resolve = ctx.upstream<ResolveOutput>('resolve');
    const bad = (await checkDeps(inputs.gclientRoot, resolve)).filter((c) => c.state !== 'ok');
    if (bad.length) return bad.map(describeDep).join('; ');
    if (!inputs.adopted) {
      const onDisk = await readFile(path.join(outputs.gclientRoot, '.gclient'), 'utf8').catch(() => '');
      if (onDisk !== inputs.gclientFile) return '.gclient changed on disk';
    }
    const remote = remoteExecutionOf(ctx.app.config);
    if (remote && outputs.remoteExecution) {
      return sisoConfigDrift(remote, outputs.remoteExecution.support, outputs.repos.src.path, inputs.adopted);
    }
    return true;
  },
  describe: (o) =>
    `src ${o.repos.src.commit.slice(0, 8)}, quiche ${o.repos.quiche.commit.slice(0, 8)}, ${Object.keys(o.verified).length} repos verified`,
});

async function prepareRoot(ctx: Ctx, inputs: CheckoutInputs): Promise<void> {
  const gclientPath = path.join(inputs.gclientRoot, '.gclient');
  if (inputs.adopted) {
    if (!existsSync(gclientPath)) {
      throw new ConfigError(`${inputs.gclientRoot} is not a gclient root (no .gclient).`, {
        hint: 'checkout.srcDir must name the directory that holds .gclient and src/ (the parent of src).',
      });
    }
    return; // The user's .gclient is theirs: never rewritten.
  }
  const written = await writeIfChanged(gclientPath, inputs.gclientFile);
  if (written !== 'unchanged') ctx.report.note(written === 'created' ? 'wrote .gclient' : '.gclient changed; rewrote it');
}

function repoDirs(ctx: Ctx): string[] {
  const root = chromiumPaths(ctx.app).gclientRoot;
  const resolve = ctx.upstreamIfDone<ResolveOutput>('resolve');
  const rels = ['src', ...(resolve?.deps.map((d) => d.path) ?? [QUICHE_DEP_PATH])];
  return rels.map((rel) => path.join(root, rel)).filter((dir) => existsSync(dir));
}

async function repairLocks(ctx: Ctx, repos: string[]): Promise<void> {
  await repairStaleLocks(repos, (message) => ctx.report.note(message));
}

/** Before any dep moves: take our own patches out, and refuse anybody else's changes. */
async function prepareForMove(ctx: Ctx, checks: DepCheck[]): Promise<void> {
  const moving = checks.filter((c) => c.state === 'wrong-commit');
  if (moving.length === 0) return;
  await refuseMovingLocalCommits(ctx, moving);
  const foreign = await foreignChanges(
    chromiumLedger(ctx.app),
    moving.map((check) => path.join(chromiumPaths(ctx.app).gclientRoot, check.path)),
  );
  if (foreign.length) {
    throw foreignChangesError(
      foreign,
      'Local changes would block moving to the new pin',
      "These are not build-quiche's patches. Commit, stash or discard them (git -C <repo> stash), then run again.",
    );
  }
  // Only now, with nobody else's work in the way, take our own patches out.
  const reverted = await revertAppliedPatches(chromiumLedger(ctx.app), { only: moving.map((c) => c.path) });
  if (reverted.reverted.length) ctx.report.note(`reverted our patches in ${reverted.reverted.length} file(s) before moving the pin`);
}

/**
 * What a killed or cut-off first clone leaves in the cache's own checkout: a pinned repo that is
 * empty, has no .git, or whose HEAD does not resolve (gclient takes such a .git for a checkout and
 * "syncs" it forever without filling it), and gclient's temporary clone dirs (`_gclient_*`). Removing
 * them lets the next sync clone afresh. src included: an empty src holds no finished work. Only for
 * our own checkout; an adopted one is the user's.
 */
async function removeHalfMadeClones(ctx: Ctx): Promise<void> {
  const root = chromiumPaths(ctx.app).gclientRoot;
  const resolve = ctx.upstreamIfDone<ResolveOutput>('resolve');
  if (!resolve) return; // no pins known yet: nothing can be judged half made
  for (const check of await checkDeps(root, resolve)) {
    if (check.state !== 'empty') continue;
    ctx.report.note(`${describeDep(check)}: a clone that did not finish; removing it and syncing again`);
    await rm(path.join(root, check.path), { recursive: true, force: true });
  }
  const parents = new Set([root, ...resolve.deps.map((dep) => path.dirname(path.join(root, dep.path)))]);
  for (const parent of parents) {
    for (const name of await readdir(parent).catch(() => [] as string[])) {
      if (!name.startsWith('_gclient_')) continue;
      ctx.report.note(`removing gclient's unfinished clone ${path.join(parent, name)}`);
      await rm(path.join(parent, name), { recursive: true, force: true });
    }
  }
}

/**
 * A repo whose HEAD is no longer the commit this stage last verified was moved by someone else: most
 * often a local commit on top of the pin. Syncing would silently leave it behind, so stop and name it.
 */
async function refuseMovingLocalCommits(ctx: Ctx, moving: DepCheck[]): Promise<void> {
  const verified = (ctx.previous?.outputs as Partial<CheckoutOutput> | null | undefined)?.verified ?? {};
  const moved: string[] = [];
  for (const check of moving) {
    const last = verified[check.path];
    if (!last || !check.actual || check.actual === last) continue;
    const dir = path.join(chromiumPaths(ctx.app).gclientRoot, check.path);
    const commits = await commitsSince(dir, last);
    moved.push(
      commits?.length
        ? `${check.path}: ${commits.length} local commit${commits.length === 1 ? '' : 's'} on top of ${last.slice(0, 12)}:\n    ${commits.join('\n    ')}`
        : `${check.path}: HEAD was moved to ${check.actual.slice(0, 12)} (build-quiche left it at ${last.slice(0, 12)})`,
    );
  }
  if (moved.length === 0) return;
  throw new DirtyTreeError(
    `A repo in the checkout was moved since build-quiche checked it out; syncing would leave that work behind:\n  ${moved.join('\n  ')}`,
    {
      hint: 'Keep the work (push it, or turn it into a patch: build-quiche patches export), then put the repo back at the pin (git -C <repo> checkout --detach <pin>) and run again. Nothing was changed.',
      data: { moved },
    },
  );
}

async function removeBrokenDeps(ctx: Ctx, broken: DepCheck[], adopted: boolean): Promise<void> {
  for (const check of broken) {
    // src is removed only when it holds nothing (our own checkout): everything else lives inside it.
    if ((check.path === 'src' && (adopted || check.state !== 'empty')) || check.state === 'missing') continue;
    if (adopted && check.state === 'wrong-commit') {
      throw new NotFoundError(`${check.path} in the adopted checkout stays at ${check.actual} after sync (pinned ${check.expected}).`, {
        hint: `build-quiche does not delete work in a checkout it did not make. Remove ${check.path} yourself and run again.`,
      });
    }
    ctx.report.note(`${describeDep(check)}: removing it and syncing again (gclient cannot repair this by itself)`);
    await rm(path.join(chromiumPaths(ctx.app).gclientRoot, check.path), { recursive: true, force: true });
  }
}

async function sync(ctx: Ctx, inputs: CheckoutInputs): Promise<void> {
  await gclientSync(
    {
      revision: inputs.syncRevision,
      // -D deletes dep trees DEPS no longer lists: right for our own checkout, not for an adopted one.
      deleteUnlisted: !inputs.adopted,
      offline: inputs.offline,
      jobs: ctx.app.config.gclient.jobs,
      extraArgs: inputs.syncArgs,
    },
    gclientOptions(ctx, inputs),
  );
}

function gclientOptions(ctx: Ctx, inputs: CheckoutInputs): GclientOptions {
  return {
    exec: ctx.exec,
    root: inputs.gclientRoot,
    env: depotToolsEnvFor(ctx.app),
    retry: ctx.app.config.retry,
    signal: ctx.signal,
    repos: () => Promise.resolve(repoDirs(ctx)),
    // A try cut off by the network leaves a half-made clone the next try would "sync" as it is.
    beforeTry: inputs.adopted ? undefined : () => removeHalfMadeClones(ctx),
    note: (message) => ctx.report.note(message),
  };
}
