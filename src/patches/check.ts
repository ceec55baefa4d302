import type { RemoteFiles } from '../tools/remote-files.js';
import type { PatchRepo, ResolveOutput } from '../chromium/types.js';
import { dryRunSeries } from './dry-run.js';
import type { Exec } from '../process/exec.js';
import { renderConflictReport, type ConflictReport } from './report.js';
import type { Patch } from './patch-file.js';
import { parseSeries, patchsetId, seriesRepos, type Series } from './series.js';
import { gitRevisionSource, pinSources, readerFor, type RepoLocalDirs, type RepoSources } from './sources.js';

/**
 * `build-quiche patches check`: dry-run the series against a local clone (at HEAD or a revision),
 * or against a pin read remotely, and say whether it applies. Nothing is written anywhere.
 */

export interface CheckOptions {
  series: Series | string;
  /** Explicit sources win over the convenience options below. */
  sources?: RepoSources;
  /** A local quiche clone, read at quicheRev (default HEAD). */
  quicheDir?: string;
  quicheRev?: string;
  /** A local chromium/src clone, read at srcRev (default HEAD), for repo=src patches. */
  srcDir?: string;
  srcRev?: string;
  /** A resolved pin, read through RemoteFiles (local clones that hold the commits are read first). */
  pin?: {
    remote: RemoteFiles;
    resolved: Pick<ResolveOutput, 'version' | 'srcUrl' | 'srcCommit' | 'quicheUrl' | 'quicheRevision'>;
    localRepos?: RepoLocalDirs;
  };
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
  const sources = await sourcesFor(options);
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
      text: `${renderConflictReport(result.report, { version: options.pin?.resolved.version })}${skippedText}`,
    };
  }
  const where = Object.values(targets).join('; ') || 'nothing';
  const text = `${checked.length} of ${series.patches.length} patch${series.patches.length === 1 ? '' : 'es'} in ${series.file} appl${checked.length === 1 ? 'ies' : 'y'} to ${where} (patchset ${patchsetId(series)}).${skippedText}`;
  return { ok: checked.length > 0 || series.patches.length === 0, patchset: patchsetId(series), checked, skipped, report: undefined, text };
}

async function sourcesFor(options: CheckOptions): Promise<RepoSources> {
  if (options.sources) return options.sources;
  const sources: RepoSources = options.pin ? pinSources(options.pin.remote, options.pin.resolved, options.pin.localRepos) : {};
  if (options.quicheDir) sources.quiche = await gitRevisionSource(options.quicheDir, options.quicheRev);
  if (options.srcDir) sources.src = await gitRevisionSource(options.srcDir, options.srcRev);
  return sources;
}
