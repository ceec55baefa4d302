import type { BuildQuicheError } from '../../errors.js';
import type { PipelineEvent, Progress } from '../../api/types.js';
import { formatDuration } from '../../util/duration.js';

export { formatDuration };

/** Steps per second and an ETA, measured from the first progress report of the stage. */
export class ProgressMeter {
  private start: { at: number; done: number } | undefined;

  describe(progress: Progress, now = Date.now()): string {
    this.start ??= { at: now, done: progress.done };
    const percent = progress.total ? Math.floor((progress.done / progress.total) * 100) : 0;
    const elapsed = (now - this.start.at) / 1000;
    const rate = elapsed > 0.5 ? (progress.done - this.start.done) / elapsed : 0;
    const eta = rate > 0 ? formatDuration(((progress.total - progress.done) / rate) * 1000) : '?';
    return `[${progress.done}/${progress.total}] ${percent}% ${rate.toFixed(1)}/s ETA ${eta}`;
  }
}

/** The failure block every renderer prints: cause, what to do, the log, and its last lines. */
export function formatFailure(error: BuildQuicheError, stage?: string, verbose = false): string[] {
  const lines = [`✖ ${stage ? `${stage}: ` : ''}${error.message}`];
  if (error.hint) lines.push(`  → ${error.hint}`);
  if (error.logPath) lines.push(`  log: ${error.logPath}`);
  if (error.tail?.length) {
    lines.push('  last lines:');
    for (const line of error.tail.slice(-20)) lines.push(`    ${line}`);
  }
  lines.push(`  exit code ${error.exitCode} (${error.failureClass})`);
  if (verbose && error.stack) lines.push(error.stack);
  return lines;
}

/** The last line of a run: what ran, or that there was nothing to do. */
export function runSummary(event: Extract<PipelineEvent, { type: 'run-end' }>): string {
  if (event.ran.length === 0 && event.ok) {
    return `nothing to do: every stage is up to date${event.checked.length ? ` (${event.checked.join(', ')} checked)` : ''}, ${formatDuration(event.durationMs)}`;
  }
  return `${event.ok ? 'finished' : 'stopped'} in ${formatDuration(event.durationMs)}: ran ${event.ran.join(', ') || 'nothing'}; skipped ${event.skipped.length}`;
}
