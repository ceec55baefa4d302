import { existsSync } from 'node:fs';
import path from 'node:path';
import { FailureCollector, parseProgress, type CompileFailure, type StepProgress } from './builder-output.js';
import { CompileError } from '../errors.js';
import { diskFullFailure } from '../process/disk-full.js';
import type { Exec, ExecResult } from '../process/exec.js';

/**
 * The builder: autoninja (depot_tools; siso or ninja underneath) or plain ninja. Which command
 * runs, which builder last used an out dir, a build with progress, and the `-n` dry run that tells
 * whether an out dir is up to date.
 */

export type Builder = 'autoninja' | 'ninja';

export interface BuilderCommandOptions {
  builder: Builder;
  /** The source root, for the ninja that Chromium bundles (third_party/ninja). */
  src: string;
  /** An explicit ninja (config build.ninja). */
  ninja?: string;
}

export function builderCommand({ builder, src, ninja }: BuilderCommandOptions): string {
  if (builder === 'autoninja') return 'autoninja';
  if (ninja) return ninja;
  const bundled = path.join(src, 'third_party', 'ninja', 'ninja');
  return existsSync(bundled) ? bundled : 'ninja';
}

/** Which builder last used an out dir, by the state files each leaves (as autoninja checks). */
export function builderOfOutDir(outDir: string): Builder | undefined {
  if (existsSync(path.join(outDir, '.siso_deps'))) return 'autoninja';
  if (existsSync(path.join(outDir, '.ninja_log'))) return 'ninja';
  return undefined;
}

export interface BuildOptions {
  exec: Exec;
  command: string;
  outDir: string;
  targets: string[];
  jobs: number;
  /** Flags that replace `-j <jobs>`: siso's -remote_jobs/-local_jobs in a remote build (tools/siso.ts). */
  jobArgs?: string[];
  env: Record<string, string>;
  /** Throttled progress ("[done/total] ..."); the log still gets every line. */
  onProgress: (progress: StepProgress) => void;
}

export interface BuildResult {
  result: ExecResult;
  /** The out dir the build wrote to (to tell a full disk from a compile error). */
  outDir: string;
  /** Steps the builder ran (0 when everything was up to date). */
  steps: number;
  /** The failed steps with their compiler messages, in order. */
  failures: CompileFailure[];
}

/**
 * Throws the error a failed build deserves: a DiskSpaceError naming the filesystem when the out dir's
 * disk filled up (whichever tool hit it: compiler, assembler, linker, ninja); else a CompileError with
 * the first failing step and the compiler's message (and how many more failed), else the exit code
 * and the output's last lines. Does nothing on success.
 */
export function throwIfFailed({ result, failures, outDir }: BuildResult, command: string): void {
  if (result.exitCode === 0) return;
  const full = diskFullFailure([...failures.flatMap((f) => f.message), ...result.tail], outDir, `${path.basename(command)} in ${outDir}`, {
    tail: result.tail.slice(-20),
  });
  if (full) throw full;
  const first = failures[0];
  if (first) {
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more step(s))` : '';
    throw new CompileError(`Compile failed at ${first.step}${more}:\n  ${first.message.join('\n  ')}`, {
      hint: 'Fix the source (or the patch that changed it), then run again: finished steps are kept.',
      data: { failures },
    });
  }
  throw new CompileError(`${command} failed with exit code ${result.exitCode}.`, { tail: result.tail.slice(-20) });
}

/** Run the build; a failed build resolves (with its failures) so the caller can word the error. */
export async function build(options: BuildOptions): Promise<BuildResult> {
  const failures = new FailureCollector();
  let lastProgress = 0;
  let steps = 0;
  const jobArgs = options.jobArgs ?? ['-j', String(options.jobs)];
  const result = await options.exec(options.command, ['-C', options.outDir, ...jobArgs, ...options.targets], {
    env: options.env,
    cwd: path.dirname(path.dirname(options.outDir)),
    captureStdout: false,
    allowFailure: true,
    onLine: (line) => {
      failures.push(line);
      const progress = parseProgress(line);
      if (!progress) return;
      steps = Math.max(steps, progress.done);
      const now = Date.now();
      // 30,000 steps: throttle UI updates, the log file still gets every line.
      if (now - lastProgress > 100 || progress.done === progress.total) {
        lastProgress = now;
        options.onProgress(progress);
      }
    },
  });
  return { result, outDir: options.outDir, steps, failures: failures.failures };
}

/** `-n`: true when the builder has nothing to do for these targets, else why not. */
export async function dryRun(options: {
  exec: Exec;
  command: string;
  outDir: string;
  targets: string[];
  env: Record<string, string>;
}): Promise<true | string> {
  const dry = await options
    .exec(options.command, ['-C', options.outDir, '-n', ...options.targets], {
      env: options.env,
      allowFailure: true,
      captureStdout: true,
      timeoutMs: 300_000,
    })
    .catch((error: Error) => ({ exitCode: -1, stdout: error.message, stderr: '' }));
  if (dry.exitCode !== 0) return `${options.command} -n failed`;
  return /no work to do|everything is up-to-date/.test(`${dry.stdout}\n${dry.stderr}`) ? true : 'the builder has work left';
}

/** `ninja -t deps`: every object with the headers it was compiled with (from .ninja_deps). */
export async function ninjaDeps(options: { exec: Exec; command: string; outDir: string }): Promise<string> {
  const result = await options.exec(options.command, ['-C', options.outDir, '-t', 'deps'], { captureStdout: true, timeoutMs: 300_000 });
  return result.stdout;
}
