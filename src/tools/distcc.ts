/**
 * distcc (Debian's 3.4, plain mode) as typed calls: its version, and one compile through it with the
 * environment the caller chose (the probe runs one per host with fallback off). The build itself runs
 * distcc through ninja or CMake as a compiler launcher, or through ccache's CCACHE_PREFIX.
 */
import { exec as defaultExec, type Exec, type ExecResult } from '../process/exec.js';

/** `distcc --version`'s first line, e.g. `distcc 3.4 x86_64-pc-linux-gnu`; undefined when distcc does not run. */
export async function distccVersion(exec: Exec = defaultExec): Promise<string | undefined> {
  const result = await exec('distcc', ['--version'], { allowFailure: true, timeoutMs: 10_000 }).catch(() => undefined);
  return result?.exitCode === 0 ? result.stdout.split('\n')[0]?.trim() || undefined : undefined;
}

/**
 * distcc's own exit codes (distcc(1), "EXIT CODES"), for messages: 100-127 are distcc's failures, not the
 * compiler's.
 */
export const DISTCC_EXIT_CODES: Readonly<Record<number, string>> = {
  100: 'distcc failed',
  101: 'bad arguments',
  102: 'bind failed',
  103: 'connect failed',
  104: 'compiler crashed',
  105: 'out of memory',
  106: 'bad host specification',
  107: 'I/O error',
  108: 'truncated',
  109: 'protocol error',
  110: 'the compiler was not found on the host',
  111: 'recursive call to distcc',
  112: 'failed to discard privileges',
  113: 'network timeout',
  116: 'no host could take the job and fallbacks are off',
};

export interface DistccCompileOptions {
  exec?: Exec;
  compiler: string;
  args: readonly string[];
  cwd: string;
  /** DISTCC_HOSTS, DISTCC_DIR, DISTCC_LOG, DISTCC_FALLBACK ... */
  env: Record<string, string>;
  timeoutMs?: number;
}

/** `distcc <compiler> <args>` in cwd; resolves with the result whatever the exit code. */
export function distccCompile(options: DistccCompileOptions): Promise<ExecResult> {
  const exec = options.exec ?? defaultExec;
  return exec('distcc', [options.compiler, ...options.args], {
    cwd: options.cwd,
    env: options.env,
    allowFailure: true,
    timeoutMs: options.timeoutMs ?? 120_000,
  });
}
