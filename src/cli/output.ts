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
}

/**
 * A line writer for a process stream. When the reader goes away (`build-quiche build --json | head`)
 * the output goes quiet and the run carries on: a closed pipe is no reason to interrupt a build
 * half-way, and must not change what the state says about finished work.
 */
function lineWriter(stream: NodeJS.WriteStream): (line: string) => void {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed = true;
  });
  return (line) => {
    if (!closed) stream.write(`${redact(line)}\n`);
  };
}

/** Every line the CLI prints passes redact(): no configured secret reaches a terminal, a pipe or --json. */
export const processIo = (): Io => ({
  stdout: lineWriter(process.stdout),
  stderr: lineWriter(process.stderr),
  isTTY: Boolean(process.stdout.isTTY),
  env: process.env,
});

export interface Renderer {
  onEvent: EventSink;
  /** Wait until the view has drawn its final state. */
  done(): Promise<void>;
  /** Whether failures were already shown by the renderer (so the CLI does not print them twice). */
  showsFailures: boolean;
}

/** listr2 on a terminal; plain timestamped lines in CI, pipes and with --plain; NDJSON with --json. */
export function chooseRenderer(mode: OutputMode, io: Io): Renderer {
  if (mode.json) return { onEvent: jsonRenderer(io.stdout), done: async () => {}, showsFailures: true };
  const interactive = io.isTTY && !io.env.CI && !mode.plain && !mode.verbose && io.env.TERM !== 'dumb';
  if (interactive) {
    const view = new ListrView(io.stdout);
    return { onEvent: view.onEvent, done: () => view.done(), showsFailures: false };
  }
  return { onEvent: plainRenderer({ write: io.stdout, verbose: mode.verbose }), done: async () => {}, showsFailures: true };
}
