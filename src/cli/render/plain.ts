import type { PipelineEvent } from '../../api/types.js';
import { formatDuration, formatFailure, ProgressMeter, runSummary } from './format.js';
import { OutputGate } from './gate.js';

export interface PlainOptions {
  write: (line: string) => void;
  /** Also print every subprocess line (they are always in the stage log). */
  verbose?: boolean;
  /** Minimum seconds between two progress lines of one stage. */
  progressEverySeconds?: number;
  /** Bytes not yet taken by the reader (render/gate.ts): subprocess lines past a limit are dropped. */
  backlog?: () => number;
}

/**
 * For CI logs and pipes: one timestamped line per event, progress at most every few seconds,
 * subprocess output only with --verbose (it is all in the per-stage log files anyway; when the
 * reader falls behind, those lines are dropped and a line says how many).
 */
export function plainRenderer(options: PlainOptions): (event: PipelineEvent) => void {
  const meters = new Map<string, ProgressMeter>();
  const lastProgress = new Map<string, number>();
  const every = (options.progressEverySeconds ?? 5) * 1000;
  const stamp = () => new Date().toISOString().slice(11, 19);
  const out = (text: string) => options.write(`${stamp()} ${text}`);
  const gate = new OutputGate(options.backlog);
  const dropped = (stage: string, count: number) => {
    if (count > 0) out(`  ${stage}| … ${count} line(s) not shown: the output was read too slowly (all are in the stage log)`);
  };
  return (event) => {
    switch (event.type) {
      case 'run-start':
        out(`build-quiche ${event.command}: ${event.stages.length} stage(s); logs in ${event.logDir}`);
        break;
      case 'lock-wait':
        out(`waiting for the cache lock held by pid ${event.holderPid} ("${event.command}")`);
        break;
      case 'lock-stale':
        out(
          `took over a stale lock from pid ${event.holderPid}${event.killedGroups.length ? `; stopped its leftover processes ${event.killedGroups.join(', ')}` : ''}`,
        );
        break;
      case 'stage-start':
        out(`▶ ${event.stage}: ${event.title} (${event.reason})`);
        break;
      case 'stage-skip':
        out(`↷ ${event.stage}: skipped, ${event.reason}`);
        break;
      case 'stage-repair':
        out(`⚕ ${event.stage}: repairing, ${event.reason}`);
        break;
      case 'stage-note':
        out(`· ${event.stage}: ${event.message}`);
        break;
      case 'stage-line':
        if (!options.verbose || !gate.admit(event.stage)) break;
        dropped(event.stage, gate.take(event.stage));
        out(`  ${event.stage}| ${event.line}`);
        break;
      case 'stage-progress': {
        const now = Date.now();
        const meter = meters.get(event.stage) ?? new ProgressMeter();
        meters.set(event.stage, meter);
        const text = meter.describe(event.progress, now);
        if (now - (lastProgress.get(event.stage) ?? 0) >= every || event.progress.done === event.progress.total) {
          lastProgress.set(event.stage, now);
          out(`… ${event.stage}: ${text}`);
        }
        break;
      }
      case 'stage-done':
        dropped(event.stage, gate.take(event.stage));
        out(`✔ ${event.stage}: done in ${formatDuration(event.durationMs)}${event.summary ? ` (${event.summary})` : ''}`);
        break;
      case 'stage-fail':
        dropped(event.stage, gate.take(event.stage));
        for (const line of formatFailure(event.error, event.stage)) options.write(line);
        break;
      case 'run-end':
        out(runSummary(event));
        break;
    }
  };
}
