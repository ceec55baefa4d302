import type { AppContext } from './context.js';
import { remoteFilesFor } from './context.js';
import type { PatchRepo } from '../patches/repos.js';
import type { ResolveOutput } from './resolve.js';
import { defineStage } from '../engine/stage.js';
import { ConfigError } from '../errors.js';
import { backendFor } from './backends/index.js';
import { dryRunSeries } from '../patches/dry-run.js';
import { conflictError } from '../patches/report.js';
import { parseSeries, patchsetId, seriesFiles, seriesRepos, seriesSummary } from '../patches/series.js';
import { pinSources, readerFor } from '../patches/sources.js';

export interface PatchCheckInputs {
  patchset: string;
  patches: Array<{ name: string; repo: PatchRepo; sha256: string }>;
  /** The revisions the series is checked against, only for the repos it patches. */
  pins: Partial<Record<PatchRepo, { url: string; commit: string }>>;
}

export interface PatchCheckOutput {
  patchset: string;
  patches: Array<{ file: string; repo: PatchRepo; sha256: string; subject: string }>;
  /** Every file the series touches, per repo (relative to the repo root). */
  files: Record<PatchRepo, string[]>;
}

/**
 * Seconds, before the 50 GB: read only the files the series touches at the pinned revisions
 * (gitiles or a blob-less fetch; an existing checkout is read first) and dry-run the series. A
 * series that does not apply stops the run here with the full conflict report.
 */
export const patchCheckStage = defineStage<AppContext, PatchCheckInputs, PatchCheckOutput>({
  id: 'patch-check',
  title: 'Check that the patches apply at the pin',
  after: ['resolve'],
  pure: true,
  async inputs({ app, upstream }) {
    const series = await parseSeries(app.config.patches.series);
    const resolve = upstream<ResolveOutput>('resolve');
    const pinOf: Record<PatchRepo, { url: string; commit: string }> = {
      quiche: { url: resolve.quicheUrl, commit: resolve.quicheRevision },
      src: { url: resolve.srcUrl, commit: resolve.srcCommit },
    };
    return {
      patchset: patchsetId(series),
      patches: seriesSummary(series),
      pins: Object.fromEntries(seriesRepos(series).map((repo) => [repo, pinOf[repo]])),
    };
  },
  async run(ctx) {
    const series = await parseSeries(ctx.app.config.patches.series);
    const output: PatchCheckOutput = {
      patchset: patchsetId(series),
      patches: series.patches.map((patch) => ({ file: patch.name, repo: patch.repo, sha256: patch.sha256, subject: patch.subject })),
      files: seriesFiles(series),
    };
    const backend = backendFor(ctx.app.config);
    const unbuilt = seriesRepos(series).filter((repo) => !backend.patchRepos.includes(repo));
    if (unbuilt.length) {
      throw new ConfigError(`The series ${series.file} patches ${unbuilt.join(', ')}, which the ${backend.id} backend does not build.`, {
        hint: `Drop those patches from the series, or pick a backend that builds ${unbuilt.join(', ')}.`,
      });
    }
    if (series.patches.length === 0) {
      ctx.report.note(`the series ${series.file} is empty: building unpatched`);
      return output;
    }
    const resolve = ctx.upstream<ResolveOutput>('resolve');
    const sources = pinSources(remoteFilesFor(ctx), resolve, backend.repoDirs?.(ctx.app));
    const result = await dryRunSeries(series, readerFor(sources), {
      exec: ctx.exec,
      targets: Object.fromEntries(seriesRepos(series).map((repo) => [repo, sources[repo].label])),
    });
    if (!result.ok) throw conflictError(result.report, { version: resolve.version });
    const fileCount = Object.values(output.files).flat().length;
    ctx.report.note(
      `${series.patches.length} patch${series.patches.length === 1 ? '' : 'es'} apply at ${resolve.version} (${fileCount} file${fileCount === 1 ? '' : 's'} read, patchset ${output.patchset})`,
    );
    return output;
  },
  describe: (output) => `patchset ${output.patchset}: ${output.patches.length} patch${output.patches.length === 1 ? '' : 'es'} apply`,
});
