import { readFileSync } from 'node:fs';

/**
 * Whether a process is running: it exists and is not a zombie. A killed child whose parent died is
 * re-parented to pid 1, which may reap it late (a container's init often does); until then
 * `kill(pid, 0)` still succeeds, yet the process runs nothing and holds nothing.
 */
export function isRunning(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return signalable(pid); // no /proc (not Linux): the best answer there is
  }
  // Field 3 (state) follows the parenthesised command name, which may itself contain ') '.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

function signalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
