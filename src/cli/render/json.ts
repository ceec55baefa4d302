import type { PipelineEvent } from '../../api/types.js';
import { OutputGate } from './gate.js';

/**
 * --json: one event per line (NDJSON) on stdout, for scripts; errors carry class and exit code.
 *
 * When the reader falls behind (render/gate.ts), `stage-line` events are dropped, and
 * `{"type":"stage-lines-dropped","stage":...,"count":N}` says how many before the next line of that
 * stage or its end (every line is in the stage log, whose path stage-start gives); a `stage-progress`
 * event is dropped too (the next one replaces it). Every other event is always written.
 */
export function jsonRenderer(write: (line: string) => void, backlog?: () => number): (event: PipelineEvent) => void {
  const gate = new OutputGate(backlog);
  const emit = (payload: object) => write(JSON.stringify({ time: new Date().toISOString(), ...payload }));
  const dropped = (stage: string, count: number) => count > 0 && emit({ type: 'stage-lines-dropped', stage, count });
  return (event) => {
    if (event.type === 'stage-line') {
      if (!gate.admit(event.stage)) return;
      dropped(event.stage, gate.take(event.stage));
    } else if (event.type === 'stage-progress') {
      if (gate.behind) return;
    } else if (event.type === 'stage-done' || event.type === 'stage-fail') {
      dropped(event.stage, gate.take(event.stage));
    } else if (event.type === 'run-end') {
      for (const [stage, count] of gate.takeAll()) dropped(stage, count);
    }
    emit(event.type === 'stage-fail' ? { ...event, error: event.error.toJSON() } : event);
  };
}
