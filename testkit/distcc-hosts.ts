/**
 * Real distccd daemons (for the tests, the real tier and bench/distcc.bench.ts), each in a network namespace of its own joined to this one by a veth pair:
 * host i listens on 10.<net>.<i>.2 and sees this machine as 10.<net>.<i>.1; every daemon allows
 * 10.<net>.0.0/16 only. Names carry the caller's prefix (namespaces `<prefix><i>`, links
 * `<prefix><i>h`/`<prefix><i>n`), so the fast suite, the real tier and the bench can run side by side.
 *
 * Root only (ip netns, and distccd drops to user distccd: its log directory is world-writable with the
 * sticky bit, and a compiler wrapper must be readable by that user). Everything a killed test left
 * behind under the same prefix (namespaces, links, the daemons inside, by the pids `ip netns pids`
 * names) is removed before new ones start, and by close().
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DistccDaemon {
  index: number;
  namespace: string;
  address: string;
  /** The DISTCC_HOSTS entry: `<address>/<slots>,lzo`. */
  spec: string;
  logFile: string;
  /** Compiles the daemon finished (its COMPILE_OK lines). */
  jobs(): number;
  /** Every process in its namespace, SIGKILLed (a host that dies). */
  kill(): void;
}

export interface DistccHostsOptions {
  /** Namespace and link prefix, e.g. 'bqdi'. At most 6 characters (link names are 15 at most). */
  prefix: string;
  /** Second octet of 10.x.0.0/16. */
  net: number;
  count: number;
  /** Jobs per daemon (--jobs) and slots in its spec. */
  slots?: number;
  /** Per daemon index: directories put first on that daemon's PATH (a compiler wrapper). */
  pathPrepend?: Record<number, string>;
  /** Where logs go (made world-writable); default /tmp/<prefix>-distcc. */
  dir?: string;
  /** Per daemon index: a cgroup v1 cpuset (e.g. '1') the daemon runs pinned to. */
  cpus?: Record<number, string>;
}

export interface DistccHosts {
  daemons: DistccDaemon[];
  /** The whole subnet, for --allow and for messages. */
  subnet: string;
  close(): void;
}

const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'pipe', encoding: 'utf8' });
const must = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: 'pipe', encoding: 'utf8' });

/** Why these tests cannot run here, or undefined. */
export function distccSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces; distccd drops to its own user)';
  for (const tool of ['distcc', 'distccd', 'ip'])
    if (run('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed (apt-get install distcc iproute2)`;
  if (!existsSync('/usr/lib/distcc/g++-12')) return 'distccd has no g++-12 in its whitelist (/usr/lib/distcc): run update-distcc-symlinks';
  const probe = `bqdprobe${process.pid % 10000}`;
  const ok = run('ip', ['netns', 'add', probe]).status === 0;
  run('ip', ['netns', 'del', probe]);
  return ok ? undefined : 'cannot create network namespaces here';
}

/** Removes everything under this prefix: daemons (by pid, per namespace), namespaces, links, cpusets. */
export function cleanDistccHosts(prefix: string): void {
  const namespaces = run('ip', ['netns', 'list'])
    .stdout.split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter((name) => name && new RegExp(`^${prefix}\\d+$`).test(name));
  for (const ns of namespaces) {
    for (const pid of run('ip', ['netns', 'pids', ns]).stdout.split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    run('ip', ['netns', 'del', ns]);
  }
  for (const line of run('ip', ['-o', 'link', 'show']).stdout.split('\n')) {
    const name = /^\d+: ([^@:]+)/.exec(line)?.[1];
    if (name && new RegExp(`^${prefix}\\d+[hn]$`).test(name)) run('ip', ['link', 'del', name]);
  }
  for (const set of ['cpuset']) {
    const dir = `/sys/fs/cgroup/${set}/${prefix}`;
    if (existsSync(dir)) run('sh', ['-c', `for d in ${dir}/*/; do rmdir "$d" 2>/dev/null; done; rmdir ${dir} 2>/dev/null`]);
  }
}

/** A cgroup v1 cpuset `<prefix>/<name>` of CPUs `cpus`; returns its tasks file (write a pid to move it in). */
export function makeCpuset(prefix: string, name: string, cpus: string): string {
  const root = '/sys/fs/cgroup/cpuset';
  const dir = `${root}/${prefix}/${name}`;
  mkdirSync(dir, { recursive: true });
  const mems = readFileSync(`${root}/cpuset.mems`, 'utf8');
  writeFileSync(`${root}/${prefix}/cpuset.cpus`, readFileSync(`${root}/cpuset.cpus`, 'utf8'));
  writeFileSync(`${root}/${prefix}/cpuset.mems`, mems);
  writeFileSync(`${dir}/cpuset.cpus`, cpus);
  writeFileSync(`${dir}/cpuset.mems`, mems);
  return `${dir}/tasks`;
}

/** Puts a process (and its future children) into the cpuset `<prefix>/<name>` of CPUs `cpus`. */
export function pinToCpus(prefix: string, name: string, cpus: string, pid: number): void {
  writeFileSync(makeCpuset(prefix, name, cpus), String(pid));
}

export async function startDistccHosts(options: DistccHostsOptions): Promise<DistccHosts> {
  const { prefix, net, count } = options;
  const slots = options.slots ?? 1;
  const dir = options.dir ?? `/tmp/${prefix}-distcc`;
  cleanDistccHosts(prefix);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o1777);
  const children: ChildProcess[] = [];
  const daemons: DistccDaemon[] = [];
  try {
    for (let i = 1; i <= count; i++) {
      const ns = `${prefix}${i}`;
      const [outside, inside] = [`${ns}h`, `${ns}n`];
      const [here, there] = [`10.${net}.${i}.1`, `10.${net}.${i}.2`];
      must('ip', ['netns', 'add', ns]);
      must('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', inside]);
      must('ip', ['link', 'set', inside, 'netns', ns]);
      must('ip', ['addr', 'add', `${here}/24`, 'dev', outside]);
      must('ip', ['link', 'set', outside, 'up']);
      must('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${there}/24`, 'dev', inside]);
      must('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', inside, 'up']);
      must('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
      const logFile = path.join(dir, `distccd-${i}.log`);
      const pathPrepend = options.pathPrepend?.[i];
      const env = { ...process.env, ...(pathPrepend ? { PATH: `${pathPrepend}:${process.env.PATH ?? ''}` } : {}) };
      // prettier-ignore
      const child = spawn('ip', ['netns', 'exec', ns, 'distccd', '--daemon', '--no-detach', '--listen', there, '--allow', `10.${net}.0.0/16`,
        '--jobs', String(slots), '--log-file', logFile, '--log-level', 'info', '--pid-file', path.join(dir, `distccd-${i}.pid`)], { env, stdio: 'ignore' });
      children.push(child);
      const cpus = options.cpus?.[i];
      if (cpus && child.pid) pinToCpus(prefix, `host${i}`, cpus, child.pid);
      daemons.push({
        index: i,
        namespace: ns,
        address: there,
        spec: `${there}/${slots},lzo`,
        logFile,
        jobs: () => (existsSync(logFile) ? (readFileSync(logFile, 'utf8').match(/COMPILE_OK/g) ?? []).length : 0),
        kill: () => {
          for (const pid of run('ip', ['netns', 'pids', ns]).stdout.split('\n').filter(Boolean)) {
            try {
              process.kill(Number(pid), 'SIGKILL');
            } catch {
              // gone
            }
          }
        },
      });
    }
    // Up when each daemon says it listens.
    const deadline = Date.now() + 10_000;
    for (const daemon of daemons) {
      while (!(existsSync(daemon.logFile) && readFileSync(daemon.logFile, 'utf8').includes('listening on'))) {
        if (Date.now() > deadline)
          throw new Error(
            `distccd ${daemon.index} did not start: ${existsSync(daemon.logFile) ? readFileSync(daemon.logFile, 'utf8') : 'no log'}`,
          );
        await sleep(50);
      }
    }
  } catch (error) {
    cleanDistccHosts(prefix);
    throw error;
  }
  return { daemons, subnet: `10.${net}.0.0/16`, close: () => cleanDistccHosts(prefix) };
}

/**
 * A directory whose compilers are the real ones with another version string in every object (`.ident`,
 * the string `__VERSION__` holds: what a host with another gcc build hands back). World-readable, for
 * distccd's user. The client rewrites g++-12 to x86_64-linux-gnu-g++-12, so both names are there.
 */
export function otherCompilerDir(dir: string, ident = 'GCC: (Other 12.3.0-1) 12.3.0'): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  const comment = path.join(dir, 'comment.bin');
  writeFileSync(comment, Buffer.from(`\0${ident}\0`, 'latin1'));
  chmodSync(comment, 0o644);
  for (const base of ['gcc', 'g++', 'gcc-12', 'g++-12']) {
    for (const name of [base, `x86_64-linux-gnu-${base}`]) {
      const file = path.join(dir, name);
      writeFileSync(
        file,
        `#!/bin/sh
# A compiler that identifies as another version: the real /usr/bin/${base}, then .comment rewritten.
/usr/bin/${base} "$@" || exit $?
out=""; prev=""
for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done
[ -n "$out" ] && [ -f "$out" ] && objcopy --update-section .comment=${comment} "$out"
exit 0
`,
      );
      chmodSync(file, 0o755);
    }
  }
  return dir;
}
