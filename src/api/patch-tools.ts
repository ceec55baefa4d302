import path from 'node:path';
import { checkPatches, type CheckResult } from '../patches/check.js';
import { exportPatches, type ExportResult } from '../patches/export.js';
import { rebasePatches, type RebaseResult } from '../patches/rebase.js';
import { pinSources, readerFor } from '../patches/sources.js';
import { isGitRepo } from '../tools/git.js';
import type { ResolveOutput } from '../chromium/types.js';
import { loadConfig, type ResolvedConfig } from '../config/load.js';
import type { EventSink } from '../engine/events.js';
import { UsageError } from '../errors.js';
import { resolveStage } from '../stages/resolve.js';
import { withAdhocContext } from '../engine/context.js';
import type { ApiOptions } from './pipeline.js';
import { createAppContext, type AppContext } from '../stages/context.js';
import { quicheDir, remoteFilesFor } from '../stages/context.js';

/**
 * `build-quiche patches check|export|rebase` as library functions. They reuse the resolve stage's
 * code (DEPS at a pin, read without a checkout) but write no pipeline state.
 */

export interface PatchToolOptions extends ApiOptions {
  signal?: AbortSignal;
  onEvent?: EventSink;
}

async function appFor(options: PatchToolOptions): Promise<AppContext> {
  const config: ResolvedConfig = options.config ?? (await loadConfig(options));
  return createAppContext(config);
}

/** Resolve any pin (not only the configured one) exactly as the resolve stage does. */
async function resolvePin(app: AppContext, version: string, options: PatchToolOptions): Promise<ResolveOutput> {
  const pinned = createAppContext({ ...app.config, chromium: { ...app.config.chromium, version } });
  return withAdhocContext(
    pinned,
    pinned.paths.cacheDir,
    'resolve',
    async (ctx) => resolveStage.run(ctx, await resolveStage.inputs(ctx)),
    options,
  );
}

function localRepos(app: AppContext) {
  const quiche = quicheDir(app.paths.src);
  return { ...(isGitRepo(quiche) ? { quiche } : {}), ...(isGitRepo(app.paths.src) ? { src: app.paths.src } : {}) };
}

export interface CheckSeriesOptions extends PatchToolOptions {
  /** A local quiche clone to check against (at `rev`, default HEAD) instead of a pin. */
  quiche?: string;
  rev?: string;
  /** A local chromium/src clone for repo=src patches. */
  src?: string;
  /** Check against this pin instead of the configured one. */
  pin?: string;
}

export async function checkSeries(options: CheckSeriesOptions = {}): Promise<CheckResult> {
  const app = await appFor(options);
  const series = app.config.patches.series;
  if (options.quiche || options.src) {
    return checkPatches({ series, quicheDir: options.quiche, quicheRev: options.rev, srcDir: options.src });
  }
  const version = options.pin ?? app.config.chromium.version;
  const resolved = await resolvePin(app, version, options);
  return withAdhocContext(
    app,
    app.paths.cacheDir,
    'patch-check',
    (ctx) => checkPatches({ series, pin: { remote: remoteFilesFor(ctx), resolved, localRepos: localRepos(app) } }),
    options,
  );
}

export interface RebaseSeriesOptions extends PatchToolOptions {
  to: string;
  /** Report only; write nothing. */
  dryRun?: boolean;
  outDir?: string;
  workDir?: string;
}

export async function rebaseSeries(options: RebaseSeriesOptions): Promise<RebaseResult> {
  if (!options.to) throw new UsageError('patches rebase needs --to <version>.');
  const app = await appFor(options);
  const from = await resolvePin(app, app.config.chromium.version, options);
  const to = await resolvePin(app, options.to, options);
  return withAdhocContext(
    app,
    app.paths.cacheDir,
    'patch-rebase',
    (ctx) => {
      const remote = remoteFilesFor(ctx);
      return rebasePatches({
        series: app.config.patches.series,
        from: readerFor(pinSources(remote, from, localRepos(app))),
        to: readerFor(pinSources(remote, to)),
        labels: { from: from.version, to: to.version },
        write: !options.dryRun,
        outDir: options.outDir,
        workDir: options.workDir,
      });
    },
    options,
  );
}

export interface ExportSeriesOptions extends PatchToolOptions {
  /** Repo holding the patch commits; default the checkout's quiche. */
  dir?: string;
  /** Commits base..HEAD are exported; default the configured pin's quiche revision. */
  base?: string;
  outDir?: string;
}

export async function exportSeries(options: ExportSeriesOptions = {}): Promise<ExportResult> {
  const app = await appFor(options);
  const repoDir = path.resolve(options.dir ?? quicheDir(app.paths.src));
  if (!isGitRepo(repoDir))
    throw new UsageError(`${repoDir} is not a git repository.`, { hint: 'Pass --dir <quiche clone holding your patch commits>.' });
  const base = options.base ?? (await resolvePin(app, app.config.chromium.version, options)).quicheRevision;
  return exportPatches({
    repoDir,
    base,
    outDir: options.outDir ?? path.dirname(app.config.patches.series),
    seriesFile: options.outDir ? undefined : app.config.patches.series,
  });
}
