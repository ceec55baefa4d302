/**
 * How a build runs through distcc, as ccache's and distcc's manuals recommend: ccache first (a hit
 * never leaves the machine), its misses handed to distcc through CCACHE_PREFIX; distcc as the launcher
 * itself when ccache is off. -j from the hosts' slots; links, archives and protoc stay here in a small
 * pool. Pure functions: the stages and doctor put them together (setup.ts).
 */
import type { DistccHost } from './hosts.js';
import { localSlots, remoteSlots } from './hosts.js';

export type Launcher = 'ccache' | 'distcc';

/**
 * The compiler launcher a build writes into build.ninja / CMake: ccache whenever ccache is used (then
 * distcc comes in through the environment, so switching distcc on or off changes no command line and
 * rebuilds nothing), else distcc when distributing, else none.
 */
export function launcherFor(ccache: boolean, distributing: boolean): Launcher | undefined {
  if (ccache) return 'ccache';
  return distributing ? 'distcc' : undefined;
}

export interface DistccEnvInput {
  /** The hosts the probe found usable, in the config's order. */
  hosts: readonly DistccHost[];
  /** distcc's global options from the config (--randomize ...). */
  globals?: readonly string[];
  /** DISTCC_DIR: must exist (distcc does not create it); holds the hosts' backoff state and slot locks. */
  dir: string;
  /** DISTCC_LOG: one line per job, counted by log.ts. */
  log: string;
  /** DISTCC_FALLBACK: compile here when a host fails the job. */
  fallback: boolean;
  /** ccache is the launcher: distcc enters as CCACHE_PREFIX. */
  viaCcache: boolean;
  /** Jobs that run here when no host is usable (distcc compiles `localhost` jobs itself). */
  localJobs: number;
}

/** The environment of a build that distributes (or, with no usable host, of one that compiles here through distcc). */
export function distccEnv(input: DistccEnvInput): Record<string, string> {
  const remote = remoteSlots(input.hosts) > 0;
  return {
    // No usable host: `localhost/N` makes a `distcc` launcher compile here, N at a time, without a daemon.
    DISTCC_HOSTS: remote
      ? [...(input.globals ?? []), ...input.hosts.map((h) => h.spec)].join(' ')
      : `localhost/${Math.max(input.localJobs, localSlots(input.hosts))}`,
    DISTCC_DIR: input.dir,
    DISTCC_LOG: input.log,
    DISTCC_FALLBACK: input.fallback ? '1' : '0',
    // ccache hashes the compiler, never the prefix: a hit from a local build serves a distributed one.
    // Depend mode: on a miss ccache would otherwise run the preprocessor for its hash and distcc run it
    // again (measured: two local preprocessings per miss); with it ccache hashes the compiler's depfile
    // (the build passes -MMD / -MD) and distcc's is the only one. The object is the same.
    ...(input.viaCcache && remote ? { CCACHE_PREFIX: 'distcc', CCACHE_DEPEND: '1' } : {}),
  };
}

/**
 * -j while distributing: twice the other machines' slots (distcc(1): "about twice the number of
 * available server CPUs", so a job is being preprocessed and shipped while the last one compiles), plus
 * localhost's slots when listed, never below the local -j; `configured` (distributed.jobs) wins. No
 * usable remote host: the local -j.
 */
export function distributedJobs(hosts: readonly DistccHost[], localJobs: number, configured?: number): number {
  if (configured !== undefined) return configured;
  const remote = remoteSlots(hosts);
  if (remote === 0) return localJobs;
  return Math.max(localJobs, 2 * remote + localSlots(hosts));
}
