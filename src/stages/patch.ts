import type { AppContext } from './context.js';
import type { PatchRepo, RepoState } from '../patches/repos.js';
import type { SourceOutput } from './backend.js';
import type { ResolveOutput } from './resolve.js';
import { defineStage } from '../engine/stage.js';
import { applySeries, repairInterruptedApply, verifyLedger, type PlannedWrite } from '../patches/apply.js';
import { parseSeries, patchsetId, seriesSummary } from '../patches/series.js';
import { foreignChanges, foreignChangesError } from '../patches/ledger.js';
import { backendFor } from './backends/index.js';

export interface PatchInputs {
  patchset: string;
  patches: Array<{ name: string; repo: PatchRepo; sha256: string }>;
  /** Work trees and their verified commits: a pin move re-runs the stage. */
  repos: Partial<Record<PatchRepo, RepoState>>;
}

export interface PatchOutput {
  patchset: string;
  files: Array<{ repo: PatchRepo; path: string; baseSha256: string | null; resultSha256: string | null }>;
}

/**
 * Apply the series into the checkout's repos (docs/patches.md). The final content of every
 * affected file is computed before anything is written, foreign edits are refused, and only files
 * whose content changes are written, so an unchanged file keeps its mtime and the build stays
 * incremental. The ledger records exactly what changed.
 */
export const patchStage = defineStage<AppContext, PatchInputs, PatchOutput>({
  id: 'patch',
  title: 'Apply the patches',
  after: ['resolve', 'checkout', 'patch-check'],
  async inputs({ app, upstream }) {
    const series = await parseSeries(app.config.patches.series);
    const { repos } = upstream<SourceOutput>('checkout');
    return { patchset: patchsetId(series), patches: seriesSummary(series), repos };
  },
  async run(ctx) {
    const series = await parseSeries(ctx.app.config.patches.series);
    const checkout = ctx.upstream<SourceOutput>('checkout');
    const { repos } = checkout;
    await refuseHandEdits(ctx.app, checkout);
    const result = await applySeries({
      series,
      repos,
      ledgerFile: ctx.app.paths.appliedPatches,
      exec: (file, args, options) => ctx.exec(file, args, options),
      version: ctx.upstreamIfDone<ResolveOutput>('resolve')?.version,
      beforeWrite: (writes) => ctx.guard.update({ writes }),
    });
    for (const note of result.notes) ctx.report.note(note);
    for (const write of result.written)
      ctx.log.write(
        `wrote ${write.repo}:${write.path} (${write.beforeSha256?.slice(0, 12) ?? 'absent'} -> ${write.finalSha256?.slice(0, 12) ?? 'deleted'})`,
      );
    const files = Object.entries(result.ledger.repos).flatMap(([repo, record]) =>
      record.files.map((file) => ({
        repo: repo as PatchRepo,
        path: file.path,
        baseSha256: file.baseSha256,
        resultSha256: file.resultSha256,
      })),
    );
    ctx.report.note(
      `patchset ${result.patchset}: ${result.written.length} file${result.written.length === 1 ? '' : 's'} written, ${result.unchanged.length} already up to date (mtimes kept)`,
    );
    return { patchset: result.patchset, files };
  },
  async verify({ app, upstreamIfDone }, record) {
    // Checked on every run, before compile: an edit made since the last run must not be built in.
    await refuseHandEdits(app, { repos: record.inputs.repos, adopted: upstreamIfDone<SourceOutput>('checkout')?.adopted });
    return verifyLedger(app.paths.appliedPatches, record.outputs.patchset);
  },
  async repair(ctx, guard) {
    const writes = (guard.data.writes as PlannedWrite[] | undefined) ?? [];
    if (writes.length === 0) return;
    const { restored } = await repairInterruptedApply(writes, ctx.app.paths.appliedPatches);
    ctx.report.note(
      `the last patch run stopped while writing: restored ${restored.length} file${restored.length === 1 ? '' : 's'} to upstream before re-applying`,
    );
    await ctx.guard.update({ writes: [] });
  },
  describe: (output) => `patchset ${output.patchset}, ${output.files.length} file${output.files.length === 1 ? '' : 's'} patched`,
});

/**
 * An artifact's fingerprint names the pins and the patch series, so the tree it is built from must be
 * exactly that: a hand edit in the cache's own checkout (a file no patch of ours touches) would be
 * compiled in under the clean build's name. Such edits stop the run, naming the files; nothing is
 * reset or reverted. An adopted checkout is the user's to build as it is.
 */
async function refuseHandEdits(app: AppContext, checkout: SourceOutput): Promise<void> {
  if (checkout.adopted) return;
  const ledger = { ledgerFile: app.paths.appliedPatches, root: backendFor(app.config).ledgerRoot(app) };
  const foreign = await foreignChanges(
    ledger,
    Object.values(checkout.repos).flatMap((repo) => (repo ? [repo.path] : [])),
  );
  if (foreign.length === 0) return;
  throw foreignChangesError(
    foreign,
    "The cache's checkout has changes that are not build-quiche's patches; they would be built under the clean build's fingerprint",
    'Keep an edit by turning it into a patch in the series (build-quiche patches export), or discard it (git -C <repo> checkout -- <file>), then run again.',
  );
}
