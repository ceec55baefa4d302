import type { PipelineEvent } from '../../api/types.js';

/** --json: one event per line (NDJSON) on stdout, for scripts; errors carry class and exit code. */
export function jsonRenderer(write: (line: string) => void): (event: PipelineEvent) => void {
  return (event) => {
    const payload = event.type === 'stage-fail' ? { ...event, error: event.error.toJSON() } : event;
    write(JSON.stringify({ time: new Date().toISOString(), ...payload }));
  };
}
