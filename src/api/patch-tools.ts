import path from 'node:path';
import { checkPatches, type CheckResult } from '../patches/check.js';
import { exportPatches, type ExportResult } from '../patches/export.js';
import { rebasePatches, type RebaseResult } from '../patches/rebase.js';
import { gitRevisionSource, pinSources, readerFor, type RepoSources } from '../patches/sources.js';
import { isGitRepo } from '../tools/git.js';
import type { ResolveOutput } from '../stages/resolve.js';
import { loadConfig, type ResolvedConfig } from '../config/load.js';
import type { EventSink } from '../engine/events.js';
import { UsageError } from '../errors.js';
import { resolvePin } from '../pins/resolve-pin.js';
import { backendFor } from '../stages/backends/index.js';
import { withAdhocContext } from '../engine/context.js';
import type { ApiOptions } from './pipeline.js';
import { createAppContext, type AppContext } from '../stages/context.js';
import { remoteFilesFor } from '../stages/context.js';

/**
 * `build-quiche patches check|export|rebase` as library functions. They resolve pins as the resolve
 * stage does (resolvePin: DEPS at a pin, read without a checkout) but write no pipeline state.
 */

export interface PatchToolOptions extends ApiOptions {
  signal?: AbortSignal;
  onEvent?: EventSink;
}

async function appFor(options: PatchToolOptions): Promise<AppContext> {
  const config: ResolvedConfig = options.config ?? (await loadConfig(options));
  return createAppContext(config);
}

/**
 * Any pin (default the configured one) resolved exactly as the resolve stage does: the backend says
 * what it pins, resolvePin() reads it. The context is only for logging and abort.
 */
async function resolvePinOf(app: AppContext, version: string | undefined, options: PatchToolOptions): Promise<ResolveOutput> {
  const inputs = backendFor(app.config).resolveInputs(app, version);
  return withAdhocContext(
    app,
    app.paths.cacheDir,
    'resolve',
    (ctx) => resolvePin(remoteFilesFor(ctx), inputs, { cacheDir: app.paths.resolveCache, report: ctx.report }),
    options,
  );
}

/** Where the backend's checkout keeps the patched repos (pinSources reads those that are clones). */
const localRepos = (app: AppContext) => backendFor(app.config).repoDirs?.(app) ?? {};

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
    const sources: RepoSources = {};
    if (options.quiche) sources.quiche = await gitRevisionSource(options.quiche, options.rev);
    if (options.src) sources.src = await gitRevisionSource(options.src);
    return checkPatches({ series, sources });
  }
  const resolved = await resolvePinOf(app, options.pin, options);
  return withAdhocContext(
    app,
    app.paths.cacheDir,
    'patch-check',
    (ctx) => checkPatches({ series, sources: pinSources(remoteFilesFor(ctx), resolved, localRepos(app)), version: resolved.version }),
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
  const from = await resolvePinOf(app, undefined, options);
  const to = await resolvePinOf(app, options.to, options);
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
  const dir = options.dir ?? localRepos(app).quiche;
  if (!dir)
    throw new UsageError('This backend keeps no quiche clone to export from.', {
      hint: 'Pass --dir <quiche clone holding your patch commits>.',
    });
  const repoDir = path.resolve(dir);
  if (!isGitRepo(repoDir))
    throw new UsageError(`${repoDir} is not a git repository.`, { hint: 'Pass --dir <quiche clone holding your patch commits>.' });
  const base = options.base ?? (await resolvePinOf(app, undefined, options)).quicheRevision;
  return exportPatches({
    repoDir,
    base,
    outDir: options.outDir ?? path.dirname(app.config.patches.series),
    seriesFile: options.outDir ? undefined : app.config.patches.series,
  });
}
