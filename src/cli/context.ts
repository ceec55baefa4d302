import type { Io, OutputMode } from './output.js';

/** The global options, as commander parses them. */
export interface GlobalOptions {
  config?: string;
  cacheDir?: string;
  distDir?: string;
  pin?: string;
  jobs?: string;
  builder?: string;
  srcDir?: string;
  moveExisting?: boolean;
  offline?: boolean;
  set: string[];
  json?: boolean;
  verbose?: boolean;
  plain?: boolean;
  docker?: boolean;
  backend?: string;
}

/** What every command's action gets: output, the global options, the config options, the signal. */
export interface CliContext {
  io: Io;
  globals: () => GlobalOptions;
  mode: () => OutputMode;
  configOptions: () => { configFile?: string; flags: Record<string, unknown>; set: string[]; cwd: string; env: NodeJS.ProcessEnv };
  signal: AbortSignal;
  setExitCode: (code: number) => void;
  /** With --docker: runs the whole command in the builder image and returns true (the preAction hook then skips the action). */
  inContainer: () => Promise<boolean>;
}
