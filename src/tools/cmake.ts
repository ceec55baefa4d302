/**
 * CMake as typed calls: configure, build (with ninja's `[N/M]` progress surfaced), install. Output goes
 * through exec() so it lands in the stage log and failures carry the log's tail.
 */
import { exec as defaultExec, type Exec, type ExecOptions, type ExecResult } from '../process/exec.js';

export interface BuildProgress {
  done: number;
  total: number;
  /** What ninja is doing, e.g. `Building CXX object CMakeFiles/crypto.dir/crypto/aes/aes.cc.o`. */
  description: string;
}

type CommonOptions = Pick<ExecOptions, 'log' | 'signal' | 'tracker' | 'env' | 'onLine'> & {
  /** A stage's exec (logged to its stage log, tracked by the run lock); default: the plain one. */
  exec?: Exec;
};

export interface CmakeBuildOptions extends CommonOptions {
  jobs?: number;
  targets?: readonly string[];
  onProgress?: (progress: BuildProgress) => void;
  /** Prefix such as ['nice', '-n', '10'] to lower the build's priority. */
  wrapper?: readonly string[];
}

/** `[12/479] Building CXX object ...` as ninja prints it (also through cmake --build). */
export function parseProgressLine(line: string): BuildProgress | undefined {
  const match = /^\[(\d+)\/(\d+)\]\s*(.*)$/.exec(line);
  if (!match) return undefined;
  const [, done, total, description] = match as unknown as [string, string, string, string];
  return { done: Number(done), total: Number(total), description };
}

/** `cmake <args>`: args from cmake-recipes' configureArgs() (they include -S and -B). */
export function configure(args: readonly string[], options: CommonOptions = {}): Promise<ExecResult> {
  const { exec = defaultExec, ...rest } = options;
  const buildDir = args[args.indexOf('-B') + 1];
  return exec('cmake', args, { ...rest, captureStdout: false, ...(buildDir && { writesTo: buildDir }) });
}

export function build(buildDir: string, options: CmakeBuildOptions = {}): Promise<ExecResult> {
  const args = [
    '--build',
    buildDir,
    ...(options.jobs === undefined ? [] : ['-j', String(options.jobs)]),
    ...(options.targets?.length ? ['--target', ...options.targets] : []),
  ];
  const [file, ...prefix] = options.wrapper?.length ? [...options.wrapper, 'cmake'] : ['cmake'];
  const exec = options.exec ?? defaultExec;
  const { log, signal, tracker, env } = options;
  return exec(file, [...prefix, ...args], {
    ...(log && { log }),
    ...(signal && { signal }),
    ...(tracker && { tracker }),
    ...(env && { env }),
    captureStdout: false,
    writesTo: buildDir,
    onLine: (line, stream) => {
      const progress = parseProgressLine(line);
      if (progress) options.onProgress?.(progress);
      options.onLine?.(line, stream);
    },
  });
}

/** `cmake --install`, of everything or of one component (see CmakeRecipe.installComponents). */
export function install(buildDir: string, options: CommonOptions & { component?: string } = {}): Promise<ExecResult> {
  const { component, exec = defaultExec, ...rest } = options;
  return exec('cmake', ['--install', buildDir, ...(component ? ['--component', component] : [])], {
    ...rest,
    captureStdout: false,
    writesTo: buildDir,
  });
}
