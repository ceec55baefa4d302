import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PatchRepo } from './repos.js';
import { UsageError } from '../errors.js';
import { formatCommit } from './export.js';
import { gitErrors, gitIn, scratchRepo, type GitRunner } from '../tools/git.js';
import type { Exec } from '../process/exec.js';
import { touchedPaths, type Patch } from './patch-file.js';
import { parseSeries, seriesRepos, type Series } from './series.js';
import type { ReadBase } from './sources.js';

/**
 * Move a series to another base with a real 3-way merge, the way a maintainer would by hand: in a
 * scratch repo, commit the old base files, apply the series as commits, commit the new base files
 * on top of the old base, and cherry-pick each patch onto it. Patches that merge cleanly are
 * re-exported (normalised, under their old names); the others are listed with the files that
 * conflict, and the old patch file is left alone.
 */

export interface RebaseOptions {
  series: Series | string;
  /** Base files at the revision the series applies to today. */
  from: ReadBase;
  /** Base files at the revision to move to. */
  to: ReadBase;
  /** For the summary: what from and to are ("quiche 1ba0d99a", "153.0.1.2"). */
  labels?: { from?: string; to?: string };
  /** Write refreshed patches (default true); false reports only. */
  write?: boolean;
  /** Write refreshed patches here instead of over the originals (same file names). */
  outDir?: string;
  /**
   * Keep the merge repos here (one per repo) for resolving conflicts by hand: tags from-base and
   * to-base, branch `patched` (the series on the old base) and `rebased` (what merged).
   */
  workDir?: string;
  exec?: Exec;
  tmpDir?: string;
}

export type NeedsHandReason = 'conflict' | 'fails-at-from' | 'blocked';

export interface RebaseResult {
  refreshed: Array<{ patch: string; repo: PatchRepo; file: string; changed: boolean }>;
  needsHand: Array<{ patch: string; repo: PatchRepo; reason: NeedsHandReason; files: string[]; detail: string }>;
  /** Patches whose change the new base already contains. */
  upstreamed: Array<{ patch: string; repo: PatchRepo }>;
  workDirs: Partial<Record<PatchRepo, string>>;
  text: string;
}

export async function rebasePatches(options: RebaseOptions): Promise<RebaseResult> {
  const series = typeof options.series === 'string' ? await parseSeries(options.series) : options.series;
  const result: RebaseResult = { refreshed: [], needsHand: [], upstreamed: [], workDirs: {}, text: '' };
  for (const repo of seriesRepos(series)) {
    await rebaseRepo(
      repo,
      series.patches.filter((patch) => patch.repo === repo),
      options,
      result,
    );
  }
  result.text = renderRebase(series, result, options.labels ?? {}, options.write !== false);
  return result;
}

async function rebaseRepo(repo: PatchRepo, patches: Patch[], options: RebaseOptions, result: RebaseResult): Promise<void> {
  const scratch = options.workDir
    ? await keptRepo(path.join(options.workDir, repo), options.exec)
    : await scratchRepo(`rebase-${repo}`, options.exec, options.tmpDir);
  const { git, dir } = scratch;
  try {
    const paths = [...new Set(patches.flatMap(touchedPaths))].sort();
    await commitBase(dir, git, paths, (file) => options.from(repo, file), `base: ${options.labels?.from ?? 'from'}`);
    await git(['tag', 'from-base']);

    const blocked = new Map<string, string>();
    const block = (patch: Patch) => touchedPaths(patch).forEach((file) => blocked.has(file) || blocked.set(file, patch.name));
    const picks: Array<{ patch: Patch; commit: string }> = [];
    for (const patch of patches) {
      const applied = await commitPatch(git, patch);
      if (applied === true) {
        picks.push({ patch, commit: (await git(['rev-parse', 'HEAD'])).stdout.trim() });
        continue;
      }
      result.needsHand.push({
        patch: patch.name,
        repo,
        reason: 'fails-at-from',
        files: touchedPaths(patch),
        detail: `It does not apply to the old base either:\n${applied}`,
      });
      block(patch);
    }
    await git(['branch', '-f', 'patched', 'HEAD']);

    await git(['checkout', '-q', '-b', 'rebased', 'from-base']);
    await commitBase(dir, git, paths, (file) => options.to(repo, file), `base: ${options.labels?.to ?? 'to'}`);
    await git(['tag', 'to-base']);

    for (const { patch, commit } of picks) {
      const earlier = touchedPaths(patch)
        .map((file) => blocked.get(file))
        .find(Boolean);
      if (earlier) {
        result.needsHand.push({
          patch: patch.name,
          repo,
          reason: 'blocked',
          files: touchedPaths(patch),
          detail: `It touches files of ${earlier}, which needs a hand first; rebase again after fixing that one.`,
        });
        block(patch);
        continue;
      }
      const pick = await git(['cherry-pick', '--keep-redundant-commits', commit], { allowFailure: true });
      if (pick.exitCode !== 0) {
        const conflicted = (await git(['diff', '--name-only', '--diff-filter=U'])).stdout.split('\n').filter(Boolean);
        const said = `${pick.stdout}\n${pick.stderr}`
          .split('\n')
          .filter((line) => line.startsWith('CONFLICT'))
          .concat(gitErrors(pick));
        await git(['cherry-pick', '--abort'], { allowFailure: true });
        result.needsHand.push({
          patch: patch.name,
          repo,
          reason: 'conflict',
          files: conflicted.length ? conflicted : touchedPaths(patch),
          detail: said.join('\n') || 'git cherry-pick failed',
        });
        block(patch);
        continue;
      }
      if ((await git(['diff', '--quiet', 'HEAD~1', 'HEAD'], { allowFailure: true })).exitCode === 0) {
        await git(['reset', '-q', '--hard', 'HEAD~1']);
        result.upstreamed.push({ patch: patch.name, repo });
        continue;
      }
      const text = await formatCommit(git, 'HEAD');
      const target = options.outDir ? path.join(options.outDir, patch.name) : patch.file;
      const existing = await readFile(target, 'utf8').catch(() => undefined);
      const changed = existing !== text;
      if (changed && options.write !== false) {
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, text);
      }
      result.refreshed.push({ patch: patch.name, repo, file: target, changed });
    }
    if (options.workDir) result.workDirs[repo] = dir;
  } finally {
    if (!options.workDir) await scratch.dispose();
  }
}

/** A merge repo the caller keeps; it must not exist yet or be empty (never clobber someone's work). */
async function keptRepo(dir: string, exec?: Exec): Promise<{ dir: string; git: GitRunner; dispose: () => Promise<void> }> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  if (entries.length) throw new UsageError(`The rebase work dir ${dir} is not empty.`, { hint: 'Pass a new or empty directory.' });
  await mkdir(dir, { recursive: true });
  const git = gitIn(dir, exec);
  await git(['init', '-q']);
  return { dir, git, dispose: async () => {} };
}

/** Make the work tree hold exactly these base files (absent ones removed) and commit. */
async function commitBase(
  dir: string,
  git: GitRunner,
  paths: string[],
  read: (file: string) => Promise<Buffer | undefined>,
  message: string,
): Promise<void> {
  for (const file of paths) {
    const content = await read(file);
    const target = path.join(dir, file);
    if (content === undefined) {
      await rm(target, { force: true });
    } else {
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, content);
    }
  }
  await git(['add', '-A']);
  await git(['commit', '-q', '--allow-empty', '-m', message]);
}

/** Commit one patch with its own message and author: `git am` for mail-style patches. */
async function commitPatch(git: GitRunner, patch: Patch): Promise<true | string> {
  if (patch.author) {
    const am = await git(['am', '--keep-cr', '--quiet', '--whitespace=nowarn', patch.file], { allowFailure: true });
    if (am.exitCode === 0) return true;
    await git(['am', '--abort'], { allowFailure: true });
    return gitErrors(am).join('\n') || am.stdout;
  }
  const apply = await git(['apply', '--index', '--whitespace=nowarn', patch.file], { allowFailure: true });
  if (apply.exitCode !== 0) return gitErrors(apply).join('\n');
  await git(['commit', '-q', '--allow-empty', '-m', `${patch.subject}\n\n${patch.description}`.trim()]);
  return true;
}

function renderRebase(series: Series, result: RebaseResult, labels: { from?: string; to?: string }, wrote: boolean): string {
  const out = [`Rebasing ${series.file}${labels.from ? ` from ${labels.from}` : ''}${labels.to ? ` to ${labels.to}` : ''}:`];
  for (const patch of series.patches) {
    const refreshed = result.refreshed.find((entry) => entry.patch === patch.name);
    const hand = result.needsHand.find((entry) => entry.patch === patch.name);
    if (refreshed) out.push(`  ${refreshed.changed ? (wrote ? 'refreshed   ' : 'would change') : 'unchanged   '} ${patch.name}`);
    else if (result.upstreamed.some((entry) => entry.patch === patch.name))
      out.push(`  upstreamed   ${patch.name}: the new base already has this change; remove it from the series`);
    else if (hand) {
      const why =
        hand.reason === 'conflict'
          ? `conflicts in ${hand.files.join(', ')}`
          : hand.reason === 'blocked'
            ? hand.detail
            : `does not apply to the old base either`;
      out.push(`  needs a hand ${patch.name}: ${why}`);
    }
  }
  const workDirs = Object.values(result.workDirs);
  if (result.needsHand.length) {
    out.push('', 'Next: fix the patches that need a hand, then check with `build-quiche patches check`.');
    if (workDirs.length) {
      for (const dir of workDirs) {
        out.push(
          `  In ${dir}: \`git checkout -b fix to-base && git cherry-pick from-base..patched\` (resolve each conflict,`,
          `  \`git cherry-pick --continue\`), then \`build-quiche patches export --dir ${dir} --base to-base\`.`,
        );
      }
    } else {
      out.push('  Re-run with --work-dir <dir> to get a repo holding both bases and the series as commits, or edit the patches by hand.');
    }
  } else {
    out.push('', 'Every patch merged. Check with `build-quiche patches check`, then build.');
  }
  return out.join('\n');
}
