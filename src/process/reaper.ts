import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';

/**
 * Children never outlive a killed run. exec() starts every command as the leader of its own process
 * group (so an abort stops the whole tree), which also means nothing stops those groups when
 * build-quiche itself dies: kill -9 of it alone, or of its group (a CI timeout, an OOM kill, a closed
 * terminal), would leave gclient, ninja, the compilers or a smoke server running, holding files and
 * ports. Node cannot set a parent-death signal (prctl), so a small watchdog shell does the job: it
 * leads a group of its own (a group kill of ours does not reach it), is told each group as it starts
 * and ends over a pipe, and when the pipe closes (this process is gone, however it died) it SIGKILLs
 * the groups still listed. One process per run, not a wrapper per command: exit codes, signals and
 * stdin stay the commands' own.
 */
const WATCHDOG = `live=' '
while read -r op pg; do
  case $op in
    +) live="$live$pg " ;;
    -) case $live in *" $pg "*) live="\${live%% $pg *} \${live#* $pg }" ;; esac ;;
  esac
done
for pg in $live; do kill -s KILL -- "-$pg" 2>/dev/null; done`;

let channel: Writable | null | undefined;

function watchdog(): Writable | null {
  if (channel !== undefined) return channel;
  try {
    const child = spawn('sh', ['-c', WATCHDOG], { cwd: '/', detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', () => (channel = null)); // no sh: commands still run, only unguarded
    child.stdin.on('error', () => (channel = null)); // the watchdog was killed itself
    // Neither the watchdog nor its pipe keeps this process alive; at exit the pipe closes and it ends.
    child.unref();
    (child.stdin as Writable & { unref?: () => void }).unref?.();
    channel = child.stdin;
  } catch {
    channel = null;
  }
  return channel;
}

/** From now until release(), the group `pgid` is killed if this process dies. */
export function guardGroup(pgid: number): void {
  watchdog()?.write(`+ ${pgid}\n`);
}

/** The group ended (or is being reaped here): the watchdog forgets it, so a reused pid is never hit. */
export function releaseGroup(pgid: number): void {
  channel?.write(`- ${pgid}\n`);
}
