import type { Exec, ExecResult } from '../process/exec.js';

/** gn (Chromium's meta-build): run in the source root with the depot_tools environment. */
export interface GnOptions {
  exec: Exec;
  /** The gn binary (config build.gn, default `gn` from depot_tools). */
  gn: string;
  /** The source root (chromium/src). */
  src: string;
  env: Record<string, string>;
}

const run = (options: GnOptions, args: string[]) => options.exec(options.gn, args, { cwd: options.src, env: options.env });

/** `gn --version`, trimmed. */
export const gnVersion = async (options: GnOptions): Promise<string> => (await run(options, ['--version'])).stdout.trim();

/** `gn gen <outDir>`; returns the result so callers can surface gn's warnings. */
export const gnGen = (options: GnOptions, outDir: string): Promise<ExecResult> => run(options, ['gen', outDir]);

/** `gn clean <outDir>`: keeps args.gn, removes everything else (needed before switching builders). */
export const gnClean = async (options: GnOptions, outDir: string): Promise<void> => {
  await run(options, ['clean', outDir]);
};

/** gn's lines worth showing the user: args with no effect and other warnings. */
export const gnWarnings = (result: ExecResult): string[] =>
  result.stdout
    .split('\n')
    .concat(result.stderr.split('\n'))
    .filter((line) => /has no effect|WARNING/i.test(line))
    .map((line) => line.trim());
