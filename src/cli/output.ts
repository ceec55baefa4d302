import { redact } from '../util/redact.js';
import type { EventSink } from '../api/types.js';
import { jsonRenderer } from './render/json.js';
import { ListrView } from './render/listr.js';
import { plainRenderer } from './render/plain.js';

export interface OutputMode {
  json: boolean;
  verbose: boolean;
  plain: boolean;
}

export interface Io {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  /**
   * Bytes written to stdout that its reader has not taken yet (a slow terminal, or a pipe read
   * slowly): renderers drop or coalesce build output beyond a limit instead of queueing it without
   * end. Absent: the reader keeps up (tests, a container runner's callback).
   */
  stdoutBacklog?: () => number;
  /**
   * Write a terminal without blocking from now on (as a pipe already is), for a renderer that draws a
   * build. Not done for every command: a child sharing the terminal (`--docker -it`) inherits the mode.
   */
  writeTerminalWithoutBlocking?: () => void;
}

/** A batch of lines is written once it holds this much text, else at the end of the event loop turn. */
const BATCH_CHARS = 64 * 1024;

/**
 * A line writer for a process stream. When the reader goes away (`build-quiche build --json | head`)
 * the output goes quiet and the run carries on: a closed pipe is no reason to interrupt a build
 * half-way, and must not change what the state says about finished work.
 *
 * Lines are written in batches (one write per event-loop turn, or per 64 KB), so 100,000 lines of
 * --json or --verbose output cost a few hundred writes, not one each. Once a build's renderer is
 * chosen, a terminal is written without blocking (unblock()), as a pipe already is: Node writes a TTY
 * synchronously, so a terminal that reads slowly (a slow link, or output paused with Ctrl-S) would
 * otherwise stop this process, and with it the reading of the build's output and the build itself.
 * What has not been taken is `backlog()`.
 */
function lineWriter(stream: NodeJS.WriteStream): { write: (line: string) => void; backlog: () => number; unblock: () => void } {
  let closed = false;
  let batch = '';
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed = true;
  });
  const flush = () => {
    const text = batch;
    batch = '';
    if (!closed && text) stream.write(redact(text));
  };
  return {
    write: (line) => {
      if (closed) return;
      if (!batch) setImmediate(flush);
      batch += `${line}\n`;
      if (batch.length >= BATCH_CHARS) flush();
    },
    backlog: () => (closed ? 0 : stream.writableLength + batch.length),
    unblock: () => {
      if (stream.isTTY) (stream as { _handle?: { setBlocking?: (blocking: boolean) => void } })._handle?.setBlocking?.(false);
    },
  };
}

/** Every line the CLI prints passes redact(): no configured secret reaches a terminal, a pipe or --json. */
export const processIo = (): Io => {
  const stdout = lineWriter(process.stdout);
  const stderr = lineWriter(process.stderr);
  return {
    stdout: stdout.write,
    stderr: stderr.write,
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
    stdoutBacklog: stdout.backlog,
    writeTerminalWithoutBlocking: () => {
      stdout.unblock();
      stderr.unblock();
    },
  };
};

export interface Renderer {
  onEvent: EventSink;
  /** Wait until the view has drawn its final state. */
  done(): Promise<void>;
  /** Whether failures were already shown by the renderer (so the CLI does not print them twice). */
  showsFailures: boolean;
}

/** listr2 on a terminal; plain timestamped lines in CI, pipes and with --plain; NDJSON with --json. */
export function chooseRenderer(mode: OutputMode, io: Io): Renderer {
  io.writeTerminalWithoutBlocking?.();
  const backlog = io.stdoutBacklog;
  if (mode.json) return { onEvent: jsonRenderer(io.stdout, backlog), done: async () => {}, showsFailures: true };
  const interactive = io.isTTY && !io.env.CI && !mode.plain && !mode.verbose && io.env.TERM !== 'dumb';
  if (interactive) {
    const view = new ListrView(io.stdout, { backlog });
    return { onEvent: view.onEvent, done: () => view.done(), showsFailures: false };
  }
  return { onEvent: plainRenderer({ write: io.stdout, verbose: mode.verbose, backlog }), done: async () => {}, showsFailures: true };
}
