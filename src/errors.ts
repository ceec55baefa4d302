/**
 * Typed errors. Every failure the pipeline can explain carries a class (what kind of problem),
 * a hint (what to do about it) and a distinct process exit code, so the CLI can print it without a
 * stack and scripts can branch on the exit code.
 */
export type FailureClass =
  | 'usage'
  | 'config'
  | 'lock'
  | 'network'
  | 'disk'
  | 'not-found'
  | 'dirty-tree'
  | 'conflict'
  | 'compile'
  | 'smoke'
  | 'integrity'
  | 'preflight'
  | 'interrupted'
  | 'tool'
  | 'internal';

/** Exit codes, one per failure class. Documented in README.md ("Exit codes"). */
export const EXIT_CODES: Record<FailureClass, number> = {
  internal: 1,
  tool: 1,
  usage: 2,
  config: 2,
  lock: 3,
  conflict: 4,
  'dirty-tree': 5,
  'not-found': 6,
  network: 7,
  disk: 8,
  preflight: 8,
  compile: 9,
  smoke: 10,
  integrity: 11,
  interrupted: 130,
};

/** Failure classes worth retrying: the same command may succeed a moment later. */
export const TRANSIENT: ReadonlySet<FailureClass> = new Set(['network']);

export interface ErrorDetails {
  hint?: string;
  /** Per-stage log file holding the full output of the failing step. */
  logPath?: string;
  /** Last lines of that log, shown with the error. */
  tail?: string[];
  cause?: unknown;
  /** Structured payload for --json consumers (e.g. a patch conflict report). */
  data?: unknown;
}

export class BuildQuicheError extends Error {
  readonly failureClass: FailureClass;
  readonly hint: string | undefined;
  logPath: string | undefined;
  tail: string[] | undefined;
  readonly data: unknown;

  constructor(failureClass: FailureClass, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.failureClass = failureClass;
    this.hint = details.hint;
    this.logPath = details.logPath;
    this.tail = details.tail;
    this.data = details.data;
  }

  get exitCode(): number {
    return EXIT_CODES[this.failureClass];
  }

  get transient(): boolean {
    return TRANSIENT.has(this.failureClass);
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      class: this.failureClass,
      exitCode: this.exitCode,
      message: this.message,
      hint: this.hint,
      logPath: this.logPath,
      tail: this.tail,
      data: this.data,
    };
  }
}

/**
 * One class per failure: `export class UsageError extends define('usage') {}`. `defaults` are details
 * every instance has unless the thrower gives its own (a standing hint).
 */
export const define = (failureClass: FailureClass, defaults?: ErrorDetails) =>
  class extends BuildQuicheError {
    constructor(message: string, details?: ErrorDetails) {
      super(failureClass, message, defaults ? { ...defaults, ...details } : details);
    }
  };

export class UsageError extends define('usage') {}
export class ConfigError extends define('config') {}
export class LockHeldError extends define('lock') {}
export class NetworkError extends define('network') {}
export class DiskSpaceError extends define('disk') {}
export class NotFoundError extends define('not-found') {}
export class DirtyTreeError extends define('dirty-tree') {}
export class PatchConflictError extends define('conflict') {}
export class CompileError extends define('compile') {}
export class SmokeTestError extends define('smoke') {}
export class IntegrityError extends define('integrity') {}
export class PreflightError extends define('preflight') {}
export class InterruptedError extends define('interrupted') {}
export class ToolError extends define('tool') {}
export class InternalError extends define('internal') {}

export function isBuildQuicheError(error: unknown): error is BuildQuicheError {
  return error instanceof BuildQuicheError;
}

/** Wrap anything thrown into a BuildQuicheError without losing the original as `cause`. */
export function toBuildQuicheError(error: unknown): BuildQuicheError {
  if (error instanceof BuildQuicheError) return error;
  if (error instanceof Error && error.name === 'AbortError') {
    return new InterruptedError('Interrupted.', { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  // A full disk can surface from any write (state, guards, logs, a tarball): always exit 8, never "internal".
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new DiskSpaceError(`The disk is full: ${message}`, {
      hint: 'Free space where the cache and dist dirs are (see `build-quiche doctor`), then run again: finished work is kept.',
      cause: error,
    });
  }
  return new BuildQuicheError('internal', message, { cause: error });
}
