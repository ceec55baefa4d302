import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { defineStage, type StageContext } from '../../../engine/stage.js';
import { isBuildQuicheError, NotFoundError } from '../../../errors.js';
import { foreignChanges, foreignChangesError, revertAppliedPatches } from '../../../patches/ledger.js';
import { withRetry } from '../../../process/retry.js';
import { gitAt, hasCommit, headCommit } from '../../../tools/git.js';
import { repairStaleLocks } from '../../../tools/gclient.js';
import type { RepoState } from '../../../patches/repos.js';
import type { SourceOutput } from '../../backend.js';
import type { AppContext } from '../../context.js';
import { checkoutDir, standaloneLedger } from './layout.js';
import type { DependencyPinsOutput } from './dependency-pins.js';

export interface StandaloneCheckoutInputs {
  /** quiche first, then every cloned dependency. */
  repos: Array<{ name: string; url: string; commit: string; dir: string }>;
}

export interface StandaloneCheckoutOutput extends SourceOutput {
  repos: { quiche: RepoState };
  /** Every checkout by name (quiche included), each verified at its commit. */
  sources: Record<string, RepoState>;
}

type Ctx = StageContext<AppContext>;

/**
 * quiche and each dependency, one commit deep: `git init` + `git fetch --depth=1 <commit>` +
 * detached checkout, then HEAD verified. Nothing is ever deleted, so a fetch killed half-way resumes;
 * stale index.lock files are removed first; network failures are retried. Checkouts are keyed by
 * commit and shared by every build that pins it. Before a checkout moves, our own patches are taken
 * out and anybody else's changes stop the run.
 */
export const standaloneCheckoutStage = defineStage<AppContext, StandaloneCheckoutInputs, StandaloneCheckoutOutput>({
  id: 'checkout',
  title: 'Check out quiche and its dependencies',
  after: ['dependency-pins'],
  inputs: ({ app, upstream }) => {
    const deps = upstream<DependencyPinsOutput>('dependency-pins');
    const repos = [{ name: 'quiche', ...deps.quiche }, ...deps.dependencies.map((d) => ({ name: d.name, url: d.url, commit: d.commit }))];
    return { repos: repos.map((repo) => ({ ...repo, dir: checkoutDir(app, repo.name, repo.commit) })) };
  },
  async repair(ctx, guard) {
    const dirs = ((guard.data.dirs as string[] | undefined) ?? []).filter((dir) => existsSync(path.join(dir, '.git')));
    await repairStaleLocks(dirs, (message) => ctx.report.note(message));
  },
  async run(ctx, inputs) {
    await ctx.guard.update({ dirs: inputs.repos.map((r) => r.dir) });
    await releaseOldQuiche(ctx, inputs);
    const sources: Record<string, RepoState> = {};
    for (const repo of inputs.repos) {
      ctx.report.progress({ done: Object.keys(sources).length, total: inputs.repos.length, message: repo.name });
      sources[repo.name] = { path: repo.dir, commit: await checkOut(ctx, repo) };
    }
    ctx.report.progress({ done: inputs.repos.length, total: inputs.repos.length });
    return { repos: { quiche: sources.quiche! }, sources };
  },
  async verify(_ctx, { inputs }) {
    for (const repo of inputs.repos) {
      const head = await headCommit(repo.dir);
      if (head !== repo.commit) return `${repo.name} at ${repo.dir} is at ${head ?? 'no commit'}, expected ${repo.commit}`;
    }
    return true;
  },
  describe: (o) =>
    Object.entries(o.sources)
      .map(([name, repo]) => `${name} ${repo.commit.slice(0, 8)}`)
      .join(', '),
});

async function checkOut(ctx: Ctx, repo: StandaloneCheckoutInputs['repos'][number]): Promise<string> {
  const git = gitAt(repo.dir, ctx.exec);
  if (!existsSync(path.join(repo.dir, '.git'))) {
    // init + fetch rather than clone: a killed fetch leaves a repo the next run fetches into.
    await mkdir(repo.dir, { recursive: true });
    await git(['init', '-q']);
    await git(['remote', 'add', 'origin', repo.url]);
  } else {
    await repairStaleLocks([repo.dir], (message) => ctx.report.note(message));
    await git(['remote', 'set-url', 'origin', repo.url]);
  }
  let head = await headCommit(repo.dir);
  if (head === repo.commit) {
    ctx.report.line(`${repo.name}: already at ${repo.commit}`);
    return head;
  }
  if (!(await hasCommit(repo.dir, repo.commit))) {
    ctx.report.line(`${repo.name}: fetching ${repo.commit} from ${repo.url}`);
    await withRetry(() => git(['fetch', '--depth=1', '--no-tags', 'origin', repo.commit]), ctx.app.config.retry, {
      signal: ctx.signal,
      onRetry: (error, attempt, left) =>
        ctx.report.note(`${repo.name}: fetch failed (${error.message.split('\n')[0]}); retry ${attempt}, ${left} left`),
    }).catch((error: unknown) => {
      if (isBuildQuicheError(error) && error.failureClass === 'not-found') {
        throw new NotFoundError(`${repo.name}: commit ${repo.commit} is not available at ${repo.url}.`, {
          hint:
            repo.name === 'quiche'
              ? 'Check quiche.url / quiche.mirrors (and quiche.revision).'
              : `Set quiche.dependencies.${repo.name} = { url, ref } (or quiche.mirrors) to a repository that has it.`,
          cause: error,
        });
      }
      throw error;
    });
  }
  if (head !== undefined) await refuseForeignEdits(ctx, repo.name, repo.dir);
  await git(['checkout', '-q', '--force', '--detach', repo.commit]);
  head = await headCommit(repo.dir);
  if (head !== repo.commit) {
    throw new NotFoundError(`${repo.name} is at ${head ?? 'no commit'} after checkout, expected ${repo.commit}.`, {
      hint: `Remove ${repo.dir} and run again.`,
    });
  }
  return head;
}

/** A checkout about to move: only our own patches (the ledger knows them) may be in the way. */
async function refuseForeignEdits(ctx: Ctx, name: string, dir: string): Promise<void> {
  const at = standaloneLedger(ctx.app);
  const foreign = await foreignChanges(at, [dir]);
  if (foreign.length) {
    throw foreignChangesError(
      foreign,
      `Local changes in the ${name} checkout would be lost by moving it`,
      `These are not build-quiche's patches. Commit, stash or discard them (git -C ${dir} stash), then run again.`,
    );
  }
  const { reverted } = await revertAppliedPatches(at, { only: [dir] });
  if (reverted.length) ctx.report.note(`${name}: reverted our patches in ${reverted.length} file(s) before moving it`);
}

/**
 * A new quiche pin uses another checkout; the previous one is shared with other builds of its commit,
 * so our patches come out of it first (a foreign edit there stops the run, nothing written).
 */
async function releaseOldQuiche(ctx: Ctx, inputs: StandaloneCheckoutInputs): Promise<void> {
  const previous = (ctx.previous?.outputs as StandaloneCheckoutOutput | undefined)?.repos?.quiche?.path;
  const current = inputs.repos.find((r) => r.name === 'quiche')!.dir;
  if (!previous || previous === current || !existsSync(previous)) return;
  const { reverted } = await revertAppliedPatches(standaloneLedger(ctx.app), { only: [previous] });
  if (reverted.length)
    ctx.report.note(`took our patches out of ${previous} (${reverted.length} file(s)) before switching quiche checkouts`);
}
