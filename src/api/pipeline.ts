import { rm } from 'node:fs/promises';
import { loadConfig, type LoadConfigOptions, type ResolvedConfig } from '../config/load.js';
import type { EventSink, PlanEntry } from '../engine/events.js';
import { readLockInfo, type LockInfo } from '../engine/lock.js';
import type { GuardInfo } from '../engine/guard.js';
import { describeOutputs, Pipeline, type RunSummary, type Selection } from '../engine/pipeline.js';
import type { StageRecord } from '../engine/state.js';
import { backendFor } from '../stages/backends/index.js';
import { stagesFor } from '../stages/index.js';
import { createAppContext, type AppContext } from '../stages/context.js';
import { checkHost, type HostReport } from '../stages/host-check.js';
import { withDistributedCheck } from '../stages/distributed.js';
import { hostname } from 'node:os';
import { isAlive } from '../process/proc.js';
import { exec } from '../process/exec.js';

/**
 * The library API: everything the CLI does is a function here (`import { build } from
 * 'build-quiche'`). Nothing here prints or exits; progress arrives through `onEvent`.
 */

export interface ApiOptions extends LoadConfigOptions {
  /** Already loaded config (skips loading). */
  config?: ResolvedConfig;
  onEvent?: EventSink;
}

export interface BuildOptions extends ApiOptions, Selection {
  signal?: AbortSignal;
  command?: string;
}

async function resolveConfig(options: ApiOptions): Promise<ResolvedConfig> {
  const config = options.config ?? (await loadConfig(options));
  backendFor(config); // a backend id nothing is registered under is a config error before anything runs
  return config;
}

export function createPipeline(app: AppContext, onEvent?: EventSink): Pipeline<AppContext> {
  return new Pipeline<AppContext>({
    stages: stagesFor(app.config),
    app,
    stateDir: app.paths.cacheDir,
    lockWaitMs: app.config.lockWaitMs,
    keepLogs: app.config.keepLogs,
    onEvent,
  });
}

export async function build(options: BuildOptions = {}): Promise<RunSummary> {
  const config = await resolveConfig(options);
  const pipeline = createPipeline(createAppContext(config), options.onEvent);
  return pipeline.run({ ...options, command: options.command ?? 'build' });
}

export async function plan(options: ApiOptions & Selection = {}): Promise<PlanEntry[]> {
  const config = await resolveConfig(options);
  return createPipeline(createAppContext(config)).plan(options);
}

export interface StageStatus {
  stage: string;
  title: string;
  record?: Pick<StageRecord, 'finishedAt' | 'durationMs' | 'runId' | 'fingerprint'>;
  summary?: string;
  /** Present when the last run died or failed inside this stage. */
  guard?: Pick<GuardInfo, 'runId' | 'pid' | 'startedAt' | 'failure'>;
  /** A check that runs every time (keeps no record): when it last ran, if any run is logged. */
  everyRun?: { lastCheckedAt?: string };
}

export interface StatusReport {
  cacheDir: string;
  lock?: LockInfo;
  /** Whether the lock's holder still runs (a dead holder's lock is taken over by the next run). */
  lockAlive?: boolean;
  stages: StageStatus[];
}

export async function status(options: ApiOptions = {}): Promise<StatusReport> {
  const config = await resolveConfig(options);
  const app = createAppContext(config);
  const pipeline = createPipeline(app);
  const records = await pipeline.records();
  const stages: StageStatus[] = [];
  for (const stage of pipeline.stages) {
    const record = records[stage.id];
    const guard = await pipeline.guards.read(stage.id);
    stages.push({
      stage: stage.id,
      title: stage.title,
      ...(record
        ? { record: { finishedAt: record.finishedAt, durationMs: record.durationMs, runId: record.runId, fingerprint: record.fingerprint } }
        : {}),
      ...(record ? { summary: describeOutputs(stage, record.outputs) } : {}),
      ...(guard ? { guard: { runId: guard.runId, pid: guard.pid, startedAt: guard.startedAt, failure: guard.failure } } : {}),
      ...(stage.always ? { everyRun: { lastCheckedAt: await pipeline.lastChecked(stage.id) } } : {}),
    });
  }
  const lock = await readLockInfo(pipeline.files.lockFile);
  const lockAlive = lock ? lock.hostname !== hostname() || isAlive(lock) : undefined;
  return { cacheDir: app.paths.cacheDir, lock, lockAlive, stages };
}

export interface CleanOptions extends ApiOptions {
  /** Forget these stages' records (they re-run next time). Default: every stage. */
  stages?: string[];
  /**
   * Also delete the backend's checkouts and build trees under the cache (BuildBackend.cleanCheckout;
   * never a checkout adopted from the user) and the patch ledger that describes them.
   */
  checkout?: boolean;
}

export async function clean(options: CleanOptions = {}): Promise<{ forgotten: string[]; removed: string[] }> {
  const config = await resolveConfig(options);
  const app = createAppContext(config);
  const pipeline = createPipeline(app);
  const ids = options.stages?.length ? options.stages : pipeline.stageIds;
  pipeline.select({ only: ids });
  const removed: string[] = [];
  await pipeline.forget(ids, async () => {
    if (options.checkout) {
      removed.push(...(await backendFor(config).cleanCheckout(app)));
      await rm(app.paths.appliedPatches, { force: true });
    }
  });
  return { forgotten: ids, removed };
}

export async function doctor(options: ApiOptions = {}): Promise<HostReport> {
  const config = await resolveConfig(options);
  const report = await checkHost(config);
  // What the backend checks beyond the host (the Chromium backend: its remote execution service).
  const section = await backendFor(config).doctor?.(config, { exec });
  if (section) {
    report.backend = section;
    report.problems.push(...section.problems);
    report.warnings.push(...section.warnings);
  }
  // With distributed.engine set, also distcc and every host (probed as a build would).
  return withDistributedCheck(config, report);
}
