import type { PatchRepo } from './repos.js';
import { dryRunSeries } from './dry-run.js';
import type { Exec } from '../process/exec.js';
import { renderConflictReport, type ConflictReport } from './report.js';
import type { Patch } from './patch-file.js';
import { parseSeries, patchsetId, seriesRepos, type Series } from './series.js';
import { readerFor, type RepoSources } from './sources.js';

/**
 * `build-quiche patches check`: dry-run the series against the base files of each repo it patches
 * (a local clone at a revision, a pin read remotely, a directory: sources.ts) and say whether it
 * applies. Nothing is written anywhere.
 */

export interface CheckOptions {
  series: Series | string;
  /** Where each repo's base files are read; patches for a repo without one are listed as not checked. */
  sources: RepoSources;
  /** The pin the sources are at, for the conflict report ("does not apply at 152.0.7977.83"). */
  version?: string;
  exec?: Exec;
}

export interface CheckResult {
  ok: boolean;
  patchset: string;
  /** Patches that were dry-run, in series order. */
  checked: string[];
  /** Patches for a repo nothing was given for (e.g. repo=src patches with only --quiche). */
  skipped: Array<{ patch: string; repo: PatchRepo }>;
  report: ConflictReport | undefined;
  text: string;
}

export async function checkPatches(options: CheckOptions): Promise<CheckResult> {
  const series = typeof options.series === 'string' ? await parseSeries(options.series) : options.series;
  const { sources } = options;
  const checkable = (patch: Patch) => sources[patch.repo] !== undefined;
  const subset: Series = { ...series, patches: series.patches.filter(checkable) };
  const skipped = series.patches.filter((patch) => !checkable(patch)).map((patch) => ({ patch: patch.name, repo: patch.repo }));
  const targets = Object.fromEntries(seriesRepos(subset).map((repo) => [repo, sources[repo]!.label]));
  const result = await dryRunSeries(subset, readerFor(sources), { exec: options.exec, targets });
  const checked = subset.patches.map((patch) => patch.name);
  const skippedText = skipped.length
    ? `\nNot checked (no ${[...new Set(skipped.map((s) => s.repo))].join('/')} files given): ${skipped.map((s) => s.patch).join(', ')}`
    : '';
  if (!result.ok) {
    return {
      ok: false,
      patchset: patchsetId(series),
      checked,
      skipped,
      report: result.report,
      text: `${renderConflictReport(result.report, { version: options.version })}${skippedText}`,
    };
  }
  const where = Object.values(targets).join('; ') || 'nothing';
  const text = `${checked.length} of ${series.patches.length} patch${series.patches.length === 1 ? '' : 'es'} in ${series.file} appl${checked.length === 1 ? 'ies' : 'y'} to ${where} (patchset ${patchsetId(series)}).${skippedText}`;
  return { ok: checked.length > 0 || series.patches.length === 0, patchset: patchsetId(series), checked, skipped, report: undefined, text };
}
