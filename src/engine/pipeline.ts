import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { BuildQuicheError, InternalError, InterruptedError, UsageError, toBuildQuicheError } from '../errors.js';
import { namingFilesystem } from '../process/disk-full.js';
import { LogFile } from '../process/log-file.js';
import type { ChildTracker } from '../process/exec.js';
import { createStageContext, newRunId, verifyExec } from './context.js';
import type { EventSink, PipelineEvent, PlanEntry } from './events.js';
import { changedPaths, fingerprint } from './fingerprint.js';
import { Guards, type GuardInfo } from './guard.js';
import { RunLock } from './lock.js';
import type { AnyStage, InputContext } from './stage.js';
import { StateStore, type StageRecord } from './state.js';

export interface Selection {
  from?: string;
  until?: string;
  only?: string[];
  /** Stage ids to run even when up to date; 'all' forces every selected stage. */
  force?: string[] | 'all';
}

export interface PipelineOptions<C> {
  stages: AnyStage<C>[];
  app: C;
  /** Holds state.json, guards/, logs/ and the run lock. */
  stateDir: string;
  lockWaitMs?: number;
  keepLogs?: number;
  onEvent?: EventSink;
}

export interface RunOptions extends Selection {
  signal?: AbortSignal;
  /** Shown to a second run that finds the lock held. */
  command?: string;
}

export interface RunSummary {
  runId: string;
  logDir: string;
  ran: string[];
  skipped: string[];
  /** `always` stages (host checks) that ran. */
  checked: string[];
  durationMs: number;
  outputs: Record<string, unknown>;
}

/** The engine's files under its state dir: everything else (status, the container runner) asks here. */
export interface EngineFiles {
  stateFile: string;
  guardsDir: string;
  lockFile: string;
  logsDir: string;
}

export function engineFiles(stateDir: string): EngineFiles {
  return {
    stateFile: path.join(stateDir, 'state.json'),
    guardsDir: path.join(stateDir, 'guards'),
    lockFile: path.join(stateDir, 'run.lock'),
    logsDir: path.join(stateDir, 'logs'),
  };
}

/** What to do with one stage, decided from state, guards and fresh inputs. */
interface Decision {
  status: PlanEntry['status'];
  reason: string;
  inputs?: unknown;
  fingerprint?: string;
  guard?: GuardInfo;
}

/**
 * The engine: decides per stage whether to run, skip or repair, runs stages in order under the run
 * lock, and records each success atomically. A stage is skipped only when its stored fingerprint
 * matches its current inputs AND its verify() finds the outputs still on disk.
 */
export class Pipeline<C> {
  private readonly stageList: AnyStage<C>[];
  /** Where state.json, guards/, logs/ and run.lock live. */
  readonly files: EngineFiles;
  readonly guards: Guards;
  private readonly emit: EventSink;

  constructor(private readonly options: PipelineOptions<C>) {
    this.stageList = options.stages;
    this.files = engineFiles(options.stateDir);
    this.guards = new Guards(this.files.guardsDir, formerIdsOf(options.stages));
    this.emit = options.onEvent ?? (() => {});
  }

  /**
   * state.json with the records of renamed stages under their current ids. A record whose
   * fingerprint is the stage's own under the former id (same version, same inputs) is re-keyed with
   * the fingerprint it has now, so a rename alone re-runs nothing.
   */
  private async openState(): Promise<StateStore> {
    const state = await StateStore.open(this.files.stateFile);
    for (const stage of this.stageList) {
      for (const formerId of stage.formerIds ?? []) {
        const record = state.get(formerId);
        if (!record) continue;
        const same = record.fingerprint === stageFingerprint(stage, formerId, record.inputs);
        state.adopt(formerId, stage.id, same ? { ...record, fingerprint: stageFingerprint(stage, stage.id, record.inputs) } : record);
      }
    }
    return state;
  }

  /** The stages, in order. */
  get stages(): readonly AnyStage<C>[] {
    return this.stageList;
  }

  get stageIds(): string[] {
    return this.stageList.map((s) => s.id);
  }

  /** Stage ids in order that a selection covers; unknown ids are a usage error naming the valid ones. */
  select(selection: Selection): string[] {
    const ids = this.stageIds;
    const check = (id: string) => {
      if (!ids.includes(id)) {
        throw new UsageError(`Unknown stage "${id}". Stages: ${ids.join(', ')}.`, {
          hint: 'Pick one of the stages listed (build-quiche plan shows them in order).',
        });
      }
      return ids.indexOf(id);
    };
    if (Array.isArray(selection.force)) selection.force.forEach(check);
    if (selection.only?.length) {
      const wanted = new Set(selection.only.map((id) => ids[check(id)]!));
      return ids.filter((id) => wanted.has(id));
    }
    const start = selection.from ? check(selection.from) : 0;
    const end = selection.until ? check(selection.until) : ids.length - 1;
    if (start > end) throw new UsageError(`--from ${selection.from} comes after --until ${selection.until}.`);
    return ids.slice(start, end + 1);
  }

  /** What a run with this selection would do, without running or locking anything. */
  async plan(selection: Selection = {}): Promise<PlanEntry[]> {
    const state = await this.openState();
    const selected = new Set(this.select(selection));
    const willRun = new Set<string>();
    const outputs: Record<string, unknown> = {};
    const entries: PlanEntry[] = [];
    for (const stage of this.stageList) {
      const record = state.get(stage.id);
      const summary = record && stage.describe ? describeOutputs(stage, record.outputs) : undefined;
      if (!selected.has(stage.id)) {
        entries.push({ stage: stage.id, title: stage.title, status: 'unselected', reason: 'outside the selection', summary });
        continue;
      }
      const blockers = stage.after.filter((id) => willRun.has(id));
      let decision: Decision;
      if (blockers.length && !stage.always) {
        decision = record
          ? { status: 'waits', reason: `runs if ${blockers.join(', ')} produce${blockers.length > 1 ? '' : 's'} new outputs` }
          : { status: 'run', reason: 'never completed' };
      } else {
        decision = await this.decide(stage, state, outputs, selection, new AbortController().signal).catch((error) => ({
          status: 'run' as const,
          reason: `cannot evaluate inputs: ${toBuildQuicheError(error).message}`,
        }));
      }
      if (['run', 'stale', 'waits', 'repair', 'always'].includes(decision.status)) willRun.add(stage.id);
      // As in a run: a disabled stage has no outputs this time, whatever an old record holds.
      if (decision.status === 'disabled') outputs[stage.id] = undefined;
      entries.push({
        stage: stage.id,
        title: stage.title,
        status: decision.status,
        reason: decision.reason,
        fingerprint: decision.fingerprint,
        summary,
      });
    }
    return entries;
  }

  /** Every stage's last record, for `status`. */
  async records(): Promise<Record<string, StageRecord>> {
    return { ...(await this.openState()).all() };
  }

  /**
   * When an `always` stage (a host check) last ran, for `status`: it keeps no record (that would
   * rewrite state.json on every run), but each run leaves its log; the newest one says when.
   */
  async lastChecked(stageId: string): Promise<string | undefined> {
    const runs = (await readdir(this.files.logsDir).catch(() => [] as string[])).sort().reverse();
    for (const run of runs) {
      const log = await stat(path.join(this.files.logsDir, run, `${stageId}.log`)).catch(() => undefined);
      if (log) return log.mtime.toISOString();
    }
    return undefined;
  }

  /**
   * Forget stage records (and guards) so they run again; the stages' own files are not touched.
   * `first` runs under the same lock before the records go (e.g. deleting what those stages made).
   */
  async forget(stageIds: string[], first?: () => Promise<void>): Promise<void> {
    await this.withLock('clean', async () => {
      await first?.();
      const state = await this.openState();
      await state.drop(stageIds);
      for (const id of stageIds) await this.guards.clear(id);
    });
  }

  async withLock<T>(command: string, body: (lock: RunLock) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const lock = await RunLock.acquire(this.files.lockFile, {
      command,
      waitMs: this.options.lockWaitMs ?? 0,
      signal,
      onWait: (holder) => this.emit({ type: 'lock-wait', holderPid: holder.pid, command: holder.command }),
      onStale: (holder, killedGroups) => this.emit({ type: 'lock-stale', holderPid: holder.pid, killedGroups }),
    });
    try {
      return await body(lock);
    } finally {
      await lock.release();
    }
  }

  async run(options: RunOptions = {}): Promise<RunSummary> {
    const signal = options.signal ?? new AbortController().signal;
    const selectedIds = this.select(options);
    return this.withLock(options.command ?? 'build', (lock) => this.runLocked(options, selectedIds, signal, lock), signal);
  }

  private async runLocked(options: RunOptions, selectedIds: string[], signal: AbortSignal, lock: RunLock): Promise<RunSummary> {
    const started = Date.now();
    const runId = newRunId();
    const logDir = path.join(this.files.logsDir, runId);
    await mkdir(logDir, { recursive: true });
    await this.pruneLogs(runId);
    const state = await this.openState();
    const outputs: Record<string, unknown> = {};
    const ran: string[] = [];
    const skipped: string[] = [];
    const checked: string[] = [];
    const unusable = new Map<string, string>();
    const selected = new Set(selectedIds);
    this.emit({
      type: 'run-start',
      runId,
      logDir,
      command: options.command ?? 'build',
      stages: this.stageList.filter((s) => selected.has(s.id)).map((s) => ({ id: s.id, title: s.title })),
    });

    let ok = false;
    try {
      for (const stage of this.stageList) {
        if (!selected.has(stage.id)) {
          const record = state.get(stage.id);
          const guard = stage.pure ? undefined : await this.guards.read(stage.id);
          if (record && guard) {
            // Its record predates a run that died or failed inside it: its outputs may not be on disk.
            unusable.set(stage.id, `the last run ${guard.failure ? 'failed' : 'died'} in ${stage.id}`);
          } else if (record) outputs[stage.id] = record.outputs;
          continue;
        }
        const decision = await this.decide(stage, state, outputs, options, signal, unusable, { logDir, lock });
        // Interrupted while deciding (e.g. in compile's dry run): nothing of the stage ran, so its
        // record stays as it was and no failure guard is written; an aborted verify says nothing.
        if (signal.aborted) throw new InterruptedError(`Interrupted while checking whether ${stage.id} is up to date.`);
        if (decision.status === 'skip' || decision.status === 'disabled') {
          outputs[stage.id] = decision.status === 'skip' ? state.get(stage.id)!.outputs : undefined;
          skipped.push(stage.id);
          this.emit({ type: 'stage-skip', stage: stage.id, title: stage.title, reason: decision.reason });
          continue;
        }
        outputs[stage.id] = await this.runStage(stage, decision, state, outputs, { runId, logDir, signal, lock });
        (stage.always ? checked : ran).push(stage.id);
      }
      ok = true;
    } catch (thrown) {
      // A full disk met between stages (the state, a log) names its filesystem too.
      const error = toBuildQuicheError(thrown);
      throw error.failureClass === 'disk' ? namingFilesystem(error, this.options.stateDir) : thrown;
    } finally {
      this.emit({ type: 'run-end', ok, durationMs: Date.now() - started, ran, skipped, checked });
    }
    return { runId, logDir, ran, skipped, checked, durationMs: Date.now() - started, outputs };
  }

  private inputContext(
    stage: AnyStage<C>,
    state: StateStore,
    outputs: Record<string, unknown>,
    unusable = new Map<string, string>(),
  ): InputContext<C> {
    /** The outputs, or why there are none: the stage has not completed (or its last run died there). */
    const read = (id: string): { outputs: unknown } | { missing: UsageError } => {
      // `after` drives plan's predictions: a read it does not declare would make plan lie.
      if (!stage.after.includes(id)) {
        throw new InternalError(`Stage ${stage.id} reads the outputs of ${id}, which its \`after\` does not declare.`, {
          hint: `A bug in build-quiche: add '${id}' to the after list of stage ${stage.id}.`,
        });
      }
      if (id in outputs) return { outputs: outputs[id] };
      const why = unusable.get(id);
      if (why) {
        return {
          missing: new UsageError(`${why}, and a selected stage needs its results.`, {
            hint: `Run it again first: build-quiche build --until ${id}`,
          }),
        };
      }
      const record = state.get(id);
      if (!record) {
        return {
          missing: new UsageError(`Stage ${id} has not completed yet, and a later stage needs its results.`, {
            hint: `Run it first: build-quiche build --until ${id}`,
          }),
        };
      }
      return { outputs: record.outputs };
    };
    return {
      app: this.options.app,
      upstream: <T>(id: string): T => {
        const found = read(id);
        if ('missing' in found) throw found.missing;
        return found.outputs as T;
      },
      upstreamIfDone: <T>(id: string): T | undefined => {
        const found = read(id);
        return 'missing' in found ? undefined : (found.outputs as T);
      },
    };
  }

  private async decide(
    stage: AnyStage<C>,
    state: StateStore,
    outputs: Record<string, unknown>,
    selection: Selection,
    signal: AbortSignal,
    unusable?: Map<string, string>,
    run?: RunFiles,
  ): Promise<Decision> {
    const ctx = this.inputContext(stage, state, outputs, unusable);
    const enabled = stage.enabled?.(ctx) ?? true;
    if (enabled !== true) return { status: 'disabled', reason: enabled };
    const inputs = await stage.inputs(ctx);
    const fp = stageFingerprint(stage, stage.id, inputs);
    const guard = await this.guards.read(stage.id);
    const base = { inputs, fingerprint: fp, guard };
    if (guard) {
      const why = guard.failure
        ? `the last run failed here (${guard.failure.message.split('\n')[0]})`
        : `the run ${guard.runId} (pid ${guard.pid}) died in this stage`;
      return { ...base, status: 'repair', reason: why };
    }
    const forced = selection.force === 'all' || selection.force?.includes(stage.id);
    if (forced) return { ...base, status: 'run', reason: 'forced' };
    if (stage.always) return { ...base, status: 'always', reason: 'checks run every time' };
    const record = state.get(stage.id);
    if (!record) return { ...base, status: 'run', reason: 'never completed' };
    if (record.fingerprint !== fp) {
      const changed = changedPaths(record.inputs, inputs);
      return {
        ...base,
        status: 'stale',
        reason: changed.length ? `changed: ${changed.slice(0, 6).join(', ')}${changed.length > 6 ? ', ...' : ''}` : 'stage version changed',
      };
    }
    const verified = stage.verify ? await this.verify(stage, ctx, { inputs, outputs: record.outputs }, signal, run) : true;
    if (verified !== true) return { ...base, status: 'run', reason: `outputs changed on disk: ${verified}` };
    return { ...base, status: 'skip', reason: 'up to date' };
  }

  private async verify(
    stage: AnyStage<C>,
    ctx: InputContext<C>,
    record: { inputs: unknown; outputs: unknown },
    signal: AbortSignal,
    run?: RunFiles,
  ): Promise<true | string> {
    const checks = verifyExec(run && path.join(run.logDir, `${stage.id}.log`), signal, run && trackerOf(run.lock));
    try {
      return await stage.verify!({ ...ctx, signal, exec: checks.exec }, record);
    } finally {
      await checks.close();
    }
  }

  private async runStage(
    stage: AnyStage<C>,
    decision: Decision,
    state: StateStore,
    outputs: Record<string, unknown>,
    run: { runId: string; logDir: string; signal: AbortSignal; lock: RunLock },
  ): Promise<unknown> {
    const started = Date.now();
    const log = new LogFile(path.join(run.logDir, `${stage.id}.log`));
    const emit = (event: PipelineEvent) => this.emit(event);
    const guardInfo: GuardInfo = decision.guard
      ? { ...decision.guard, runId: run.runId, pid: process.pid, failure: undefined }
      : { stage: stage.id, runId: run.runId, pid: process.pid, startedAt: new Date().toISOString(), data: {} };
    const ctx = createStageContext<C>({
      input: this.inputContext(stage, state, outputs),
      stageId: stage.id,
      runId: run.runId,
      log,
      signal: run.signal,
      emit,
      previous: state.get(stage.id),
      tracker: trackerOf(run.lock),
      guard: {
        data: guardInfo.data,
        update: async (data) => {
          Object.assign(guardInfo.data, data);
          await this.guards.write(guardInfo);
        },
      },
    });

    emit({ type: 'stage-start', stage: stage.id, title: stage.title, reason: decision.reason, logPath: log.path });
    let stageFailed = false;
    try {
      // From here until success the guard says "started, not finished": plan, status and the next
      // run treat the old record as void (repair, then run) whatever state.json still holds.
      if (!stage.pure) await this.guards.write(guardInfo);
      if (decision.guard && stage.repair) {
        emit({ type: 'stage-repair', stage: stage.id, reason: decision.reason });
        log.write(`== repair: ${decision.reason}`);
        await stage.repair(ctx, decision.guard);
      }
      const result = await stage.run(ctx, decision.inputs);
      // Checks that run every time keep no record: they would rewrite state.json on every run.
      if (!stage.always)
        await state.put(stage.id, {
          fingerprint: decision.fingerprint!,
          inputs: decision.inputs,
          outputs: result ?? null,
          finishedAt: new Date().toISOString(),
          durationMs: Date.now() - started,
          runId: run.runId,
        });
      await this.guards.clear(stage.id);
      emit({
        type: 'stage-done',
        stage: stage.id,
        title: stage.title,
        durationMs: Date.now() - started,
        summary: stage.describe ? describeOutputs(stage, result) : undefined,
      });
      return result ?? null;
    } catch (thrown) {
      stageFailed = true;
      const error = namingFilesystem(
        toBuildQuicheError(
          run.signal.aborted && !(thrown instanceof BuildQuicheError)
            ? Object.assign(new Error('Interrupted'), { name: 'AbortError' })
            : thrown,
        ),
        this.options.stateDir,
      );
      error.logPath ??= log.path;
      error.tail ??= log.tail(20);
      log.write(`== failed: ${error.message}`);
      if (!stage.pure) await this.guards.write({ ...guardInfo, failure: { message: error.message, class: error.failureClass } });
      emit({ type: 'stage-fail', stage: stage.id, title: stage.title, error });
      throw error;
    } finally {
      // A log that could not be written (full disk) fails the stage, unless it failed already.
      await log.close().catch((error) => {
        if (!stageFailed) throw error;
      });
    }
  }

  private async pruneLogs(current: string): Promise<void> {
    const { logsDir } = this.files;
    const keep = this.options.keepLogs ?? 20;
    const runs = (await readdir(logsDir).catch(() => [] as string[])).filter((name) => name !== current).sort();
    for (const old of runs.slice(0, Math.max(0, runs.length - (keep - 1)))) {
      await rm(path.join(logsDir, old), { recursive: true, force: true });
    }
  }
}

/** The fingerprint a stage's record carries: its id (current or former), its version and its inputs. */
const stageFingerprint = <C>(stage: AnyStage<C>, id: string, inputs: unknown) =>
  fingerprint({ stage: id, version: stage.version ?? 1, inputs });

/** Per stage, the ids it had before a rename; a former id that is another stage's id is a bug. */
function formerIdsOf<C>(stages: readonly AnyStage<C>[]): Map<string, readonly string[]> {
  const ids = new Set(stages.map((stage) => stage.id));
  const formerIds = new Map<string, readonly string[]>();
  for (const stage of stages) {
    const clash = stage.formerIds?.find((id) => ids.has(id));
    if (clash) throw new InternalError(`Stage ${stage.id} names ${clash} as a former id, but ${clash} is a stage of this pipeline.`);
    if (stage.formerIds?.length) formerIds.set(stage.id, stage.formerIds);
  }
  return formerIds;
}

/** In a run, verify's and the stage's processes are logged there and tracked by the lock. */
interface RunFiles {
  logDir: string;
  lock: RunLock;
}

const trackerOf = (lock: RunLock): ChildTracker => ({ add: (child) => lock.addChild(child), remove: (pid) => lock.removeChild(pid) });

/** A stage's one-line summary; undefined when a record from an older build-quiche has another shape. */
export function describeOutputs<C>(stage: AnyStage<C>, outputs: unknown): string | undefined {
  try {
    return outputs == null ? undefined : stage.describe?.(outputs);
  } catch {
    return undefined;
  }
}
