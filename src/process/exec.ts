import { spawnSync } from 'node:child_process';
import { execa } from 'execa';
import { BuildQuicheError, InterruptedError, ToolError, type FailureClass } from '../errors.js';
import { killGroup, processStartTicks, type ProcessId } from './proc.js';
import { classifyOutput } from './classify.js';
import { diskFullFailure } from './disk-full.js';
import { guardGroup, releaseGroup, RUN_MARK, RUN_MARK_VAR } from './reaper.js';
import type { LogFile } from './log-file.js';

export type Stream = 'stdout' | 'stderr';

/** Registers running process groups (the run lock records them for a successor after kill -9). */
export interface ChildTracker {
  add(child: ProcessId): Promise<void> | void;
  remove(pid: number): Promise<void> | void;
}

export interface ExecOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** false: the child gets only `env`, not this process's environment on top. Default true. */
  inheritEnv?: boolean;
  /**
   * Share this terminal: stdio inherited (nothing is logged or captured) and the child stays in our
   * process group, so it can read from the terminal. Abort, timeout and group kill then do not
   * reach it: the caller stops it its own way (e.g. a container engine's stop).
   */
  terminal?: boolean;
  log?: LogFile;
  onLine?: (line: string, stream: Stream) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
  input?: string;
  /** Keep the whole stdout in the result (small outputs such as rev-parse). Default true. */
  captureStdout?: boolean;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  tracker?: ChildTracker;
  /**
   * The directory the command writes to (a build or out dir), to tell a full disk from other failures
   * and name its filesystem (process/disk-full.ts). Default: cwd.
   */
  writesTo?: string;
  /** Turn a failed result into a specific error; default: classify the output. */
  failure?: (result: ExecResult) => BuildQuicheError | undefined;
  /** Grace period between SIGTERM and SIGKILL of the process group. */
  killGraceMs?: number;
  /** Called with the child's pid once it runs (e.g. to sample /proc/<pid> while it works). */
  onSpawn?: (pid: number) => void;
}

export interface ExecResult {
  command: string;
  exitCode: number;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  /** Last lines of stdout and stderr, interleaved as they arrived. */
  tail: string[];
  durationMs: number;
  timedOut: boolean;
  aborted: boolean;
}

/** The shape of exec() itself, for code that takes an exec bound to a stage (log, signal, lock). */
export type Exec = (file: string, args: readonly string[], options?: ExecOptions) => Promise<ExecResult>;

const TAIL_LINES = 40;

/** Process groups started by exec() that are still running (for a last-resort kill on exit). */
const LIVE_GROUPS = new Set<number>();

/** SIGKILL every subprocess group still running: for a second Ctrl-C that exits at once. */
export function killAllGroups(): void {
  for (const pid of LIVE_GROUPS) killGroup(pid, 'SIGKILL');
}
const MAX_CAPTURE = 16 * 1024 * 1024;

function splitLines(onLine: (line: string) => void) {
  let pending = '';
  return {
    push(chunk: string) {
      pending += chunk;
      const parts = pending.split(/\r\n|\n|\r/);
      pending = parts.pop() ?? '';
      for (const part of parts) onLine(part);
    },
    flush() {
      if (pending) onLine(pending);
      pending = '';
    },
  };
}

const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
export const formatCommand = (file: string, args: readonly string[]) => [file, ...args].map(quote).join(' ');

/**
 * The one way build-quiche starts a subprocess: in its own process group (so abort, Ctrl-C and
 * timeouts stop the whole tree, never leaving gclient or siso behind), output teed line by line to
 * the stage log and the UI, and failures turned into typed, classified errors with the log's tail.
 */
export async function exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const command = formatCommand(file, args);
  const started = Date.now();
  const { log, onLine, signal } = options;
  signal?.throwIfAborted();
  log?.write(`$ ${command}${options.cwd ? `   (in ${options.cwd})` : ''}`);

  const terminal = options.terminal === true;
  const child = execa(file, args, {
    cwd: options.cwd,
    // The run's mark: if this process dies before the group below is listed, or a descendant leaves
    // the group, the watchdog still finds it (reaper.ts).
    env: { ...options.env, [RUN_MARK_VAR]: RUN_MARK },
    extendEnv: options.inheritEnv !== false,
    detached: !terminal,
    reject: false,
    buffer: false,
    ...(terminal
      ? { stdio: 'inherit' as const }
      : { stdin: options.input === undefined ? ('ignore' as const) : ('pipe' as const), input: options.input }),
    encoding: 'utf8',
  });

  const tail: string[] = [];
  const captured: Record<Stream, string[]> = { stdout: [], stderr: [] };
  const capturedSize: Record<Stream, number> = { stdout: 0, stderr: 0 };
  const capture = options.captureStdout !== false;
  const handle = (stream: Stream) => (line: string) => {
    log?.write(line);
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    if ((stream === 'stderr' || capture) && capturedSize[stream] < MAX_CAPTURE) {
      captured[stream].push(line);
      capturedSize[stream] += line.length + 1;
    }
    onLine?.(line, stream);
  };
  const splitters = { stdout: splitLines(handle('stdout')), stderr: splitLines(handle('stderr')) };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => splitters.stdout.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => splitters.stderr.push(chunk));

  // In terminal mode the child leads no group of its own: never signal "its" group (ours).
  const pid = terminal ? undefined : child.pid;
  if (pid !== undefined) {
    LIVE_GROUPS.add(pid);
    guardGroup(pid);
  }
  if (child.pid !== undefined) options.onSpawn?.(child.pid);

  let aborted = false;
  let timedOut = false;
  let forceKill: NodeJS.Timeout | undefined;
  const stop = () => {
    if (pid === undefined) return;
    killGroup(pid, 'SIGTERM');
    forceKill ??= setTimeout(() => killGroup(pid, 'SIGKILL'), options.killGraceMs ?? 5000);
    forceKill.unref();
  };
  const onAbort = () => {
    aborted = true;
    stop();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort();
  if (pid !== undefined && options.tracker) {
    try {
      await options.tracker.add({ pid, startTicks: processStartTicks(pid) });
    } catch (error) {
      // Untracked, it would outlive a kill -9 of this run unseen: stop it rather than run blind.
      killGroup(pid, 'SIGKILL');
      await child;
      LIVE_GROUPS.delete(pid);
      releaseGroup(pid);
      throw error;
    }
  }
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          stop();
        }, options.timeoutMs);

  const outcome = await child;
  splitters.stdout.flush();
  splitters.stderr.flush();
  signal?.removeEventListener('abort', onAbort);
  if (timer) clearTimeout(timer);
  if (forceKill) clearTimeout(forceKill);
  if (pid !== undefined) {
    LIVE_GROUPS.delete(pid);
    releaseGroup(pid);
    await options.tracker?.remove(pid);
  }

  const result: ExecResult = {
    command,
    exitCode: outcome.exitCode ?? (outcome.signal ? 128 : 1),
    signal: outcome.signal ?? undefined,
    stdout: captured.stdout.join('\n'),
    stderr: captured.stderr.join('\n'),
    tail,
    durationMs: Date.now() - started,
    timedOut,
    aborted,
  };
  log?.write(`[exit ${result.signal ?? result.exitCode} after ${(result.durationMs / 1000).toFixed(1)}s]`);

  const spawnCode = (outcome as { code?: string }).code;
  if (spawnCode === 'ENOENT' || (outcome.failed && outcome.exitCode === undefined && !outcome.signal && child.pid === undefined)) {
    throw new ToolError(`Could not start ${file}: not found on PATH.`, {
      hint: `Install ${file} (see \`build-quiche doctor\`) or fix PATH.`,
      logPath: log?.path,
      data: { missingCommand: file },
    });
  }
  if (aborted) throw new InterruptedError(`Interrupted: ${command}`, { logPath: log?.path, tail: tail.slice(-20) });
  if (timedOut) {
    throw new BuildQuicheError('tool', `Timed out after ${options.timeoutMs} ms: ${command}`, {
      logPath: log?.path,
      tail: tail.slice(-20),
    });
  }
  if (result.exitCode !== 0 && !options.allowFailure) {
    throw options.failure?.(result) ?? failureFor(result, log?.path, undefined, options.writesTo ?? options.cwd ?? process.cwd());
  }
  return result;
}

/** True for exec's error when the command itself could not be found. */
export const isMissingCommand = (error: unknown): boolean =>
  error instanceof ToolError && typeof (error.data as { missingCommand?: unknown } | undefined)?.missingCommand === 'string';

/**
 * A classified error for a failed command, with the log path and the last lines it printed; a full
 * disk (its words, or a write error while the filesystem of `writesTo` is nearly full) names the filesystem.
 */
export function failureFor(result: ExecResult, logPath?: string, message?: string, writesTo?: string): BuildQuicheError {
  const full =
    writesTo === undefined ? undefined : diskFullFailure(result.tail, writesTo, result.command, { logPath, tail: result.tail.slice(-20) });
  if (full) return full;
  const failureClass: FailureClass = classifyOutput(result.tail, result.exitCode) ?? 'tool';
  const hints: Partial<Record<FailureClass, string>> = {
    network: 'A network failure; it was retried. Check connectivity or the mirror, then run again: finished work is kept.',
    disk: 'The disk is full. Free space (see `build-quiche doctor`), then run again.',
    lock: 'A git lock file is held. If no git process is running, the next run removes a stale lock.',
    'dirty-tree': 'A repository has local changes. Commit, stash or discard them, then run again.',
    'not-found': 'A revision, tag or repository does not exist upstream. Check the pin and the URLs in the config.',
  };
  const cause = causeLine(result.tail);
  const headline = `${result.command} failed with exit code ${result.exitCode}${cause ? `: ${cause}` : ''}.`;
  return new BuildQuicheError(failureClass, message ?? headline, {
    hint: hints[failureClass],
    logPath,
    tail: result.tail.slice(-20),
    data: { exitCode: result.exitCode },
  });
}

/**
 * A short synchronous command, output ignored, for the one place nothing asynchronous can run: a
 * process 'exit' hook (e.g. removing a container on a second Ctrl-C). Never throws.
 */
export function execSyncQuiet(
  file: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): number | null {
  try {
    return spawnSync(file, args, { env: options.env, stdio: 'ignore', timeout: options.timeoutMs ?? 10_000 }).status;
  } catch {
    return null;
  }
}

/**
 * The line that says why a command failed ("fatal: unable to access …: Could not resolve host: x"),
 * so a retry note or a headline names the cause, not only the exit code: the last line that looks
 * like an error, else the last line printed.
 */
export function causeLine(tail: readonly string[]): string | undefined {
  const lines = tail.map((line) => line.trim()).filter(Boolean);
  const line = lines.findLast((l) => /\b(fatal|error|ERROR|failed|Could not|unable to)\b/.test(l)) ?? lines.at(-1);
  return line && line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
