import { readFileSync } from 'node:fs';
import { isRunning } from './liveness.js';

/** A process identity that survives pid reuse: the pid plus its start time in clock ticks. */
export interface ProcessId {
  pid: number;
  startTicks?: number;
}

export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); fields after the parenthesised command name are space-separated.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

export function selfId(pid = process.pid): ProcessId {
  return { pid, startTicks: processStartTicks(pid) };
}

/** A zombie counts as gone: it runs nothing and holds nothing, though pid 1 may reap it late. */
export const pidExists = (pid: number): boolean => isRunning(pid);

/** True when that very process (not a later one that reused its pid) still runs. */
export function isAlive(id: ProcessId): boolean {
  if (!pidExists(id.pid)) return false;
  if (id.startTicks === undefined) return true;
  const now = processStartTicks(id.pid);
  return now === undefined || now === id.startTicks;
}

/** Signal a whole process group; quiet when it is already gone. */
export function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
