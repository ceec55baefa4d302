import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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
 *
 * The pipe alone leaves a window: a command runs from the moment it is spawned, but its group is
 * listed only once spawn() has returned and the line is written (milliseconds on a loaded machine;
 * the fault suite hit it once in 200 trials: a smoke server outlived a group kill). A command may
 * also leave its group on purpose (setsid, a daemon). So every command also carries this run's mark
 * in its environment (RUN_MARK_VAR, inherited by all its descendants), and when the pipe closes
 * without the "bye" a clean exit writes, the watchdog also kills every process that carries the mark:
 * exactly this run's descendants, wherever they went.
 */
/** The environment variable that marks this run's descendants (its value: RUN_MARK). */
export const RUN_MARK_VAR = 'BUILD_QUICHE_RUN_MARK';
/** Unique per build-quiche process; fixed length and [0-9a-f], so it is safe inside the shell script. */
export const RUN_MARK = `${process.pid}-${randomBytes(6).toString('hex')}`;

const WATCHDOG = `live=' '
clean=
while read -r op pg; do
  case $op in
    +) live="$live$pg " ;;
    -) case $live in *" $pg "*) live="\${live%% $pg *} \${live#* $pg }" ;; esac ;;
    bye) clean=1 ;;
  esac
done
for pg in $live; do kill -s KILL -- "-$pg" 2>/dev/null; done
if [ -z "$clean" ]; then
  for pass in 1 2; do
    for f in /proc/[0-9]*/environ; do
      grep -qzxF "${RUN_MARK_VAR}=${RUN_MARK}" "$f" 2>/dev/null || continue
      p=\${f#/proc/}; kill -s KILL -- "\${p%/environ}" 2>/dev/null
    done
  done
fi`;

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
    // A clean exit says so: then only listed groups are stopped, and no marked process is looked for.
    process.once('exit', () => channel?.write('bye\n'));
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
