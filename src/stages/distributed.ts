/**
 * The distributed engine in the compile stages (docs/distributed.md): the probe runs once per run, when
 * the first stage is about to compile (a run that compiles nothing probes nothing); each stage gets the
 * environment and -j, its own DISTCC_LOG next to its stage log, a progress line that says where
 * compiles ran, and a closing note with the counts. None of it is an input of any stage or of the build
 * identity: where a compile ran changes how fast, never what comes out (the probe checks that per host).
 */
import path from 'node:path';
import { distccEnv } from '../distributed/env.js';
import { DistccLogTail, formatCounts } from '../distributed/log.js';
import { checkDistributed, describeUnusable, prepareDistcc, type DistributedSetup } from '../distributed/setup.js';
import { exec } from '../process/exec.js';
import { effectiveGnArgs } from '../chromium/gn-args.js';
import { REPRODUCIBLE_DEBUG_FLAGS, type Toolchain } from '../standalone/cmake-recipes.js';
import type { ResolvedConfig } from '../config/load.js';
import type { HostReport } from './host-check.js';
import { hostLabel } from '../distributed/hosts.js';
import type { StageContext } from '../engine/stage.js';
import { ConfigError } from '../errors.js';
import type { AppContext } from './context.js';
import { jobsOf } from './host-check.js';
import { createAppContext } from './context.js';

export interface DistributedUse {
  /** The compilers the build calls (the probe checks each on every host). */
  compilers: readonly string[];
  /** Flags the probe compiles with: the build's optimization and debug flags. */
  flags: readonly string[];
  /** ccache is the launcher (distcc comes in as CCACHE_PREFIX). */
  viaCcache: boolean;
}

export interface DistributedBuild {
  env: Record<string, string>;
  jobs: number;
  /** A progress callback that adds where compiles ran so far. */
  progress: <P extends { message?: string }>(report: (progress: P) => void) => (progress: P) => void;
  /** The closing note: how many compiles ran remotely, and where. */
  finish: () => void;
}

export const distributing = (app: AppContext) => app.config.distributed.engine !== 'none';

/** The local -j: links, archives and protoc run this many at a time when distributing. */
export const localJobsOf = (app: AppContext) => app.config.distributed.localJobs ?? jobsOf(app.config);

/** One probe per run (and per compiler set): the stages of one run share it. */
const setups = new Map<string, Promise<DistributedSetup>>();

/**
 * The engine for this stage, or undefined when distributed.engine is 'none'. Probes the hosts the
 * first time a run asks (notes name every unusable host and why; with onUnusableHost 'stop' the run
 * stops here).
 */
export async function distributedFor(ctx: StageContext<AppContext>, use: DistributedUse): Promise<DistributedBuild | undefined> {
  const { app } = ctx;
  if (!distributing(app)) return undefined;
  const settings = app.config.distributed;
  const key = JSON.stringify([ctx.runId, use.compilers, use.flags, use.viaCcache]);
  let pending = setups.get(key);
  const first = !pending;
  if (!pending) {
    // Older runs' entries are of no use (a long-lived library user may run many builds).
    for (const old of setups.keys()) if (!old.startsWith(`[${JSON.stringify(ctx.runId)},`)) setups.delete(old);
    pending = prepareDistcc({
      settings,
      compilers: use.compilers,
      flags: use.flags,
      exec: ctx.exec,
      probeDir: path.join(app.paths.cacheDir, 'distcc', 'probe'),
      distccDir: path.join(app.paths.cacheDir, 'distcc', 'state'),
      logFile: '',
      viaCcache: use.viaCcache,
      localJobs: localJobsOf(app),
    });
    setups.set(key, pending);
  }
  let setup: DistributedSetup;
  try {
    setup = await pending;
  } catch (error) {
    setups.delete(key);
    throw error;
  }
  if (first) {
    const usable = setup.usable.map(hostLabel);
    ctx.report.note(
      setup.usable.some((h) => h.kind !== 'local')
        ? `distcc: ${usable.length} of ${setup.verdicts.length} host(s) usable (${usable.join(', ')}; probe identical), -j ${setup.jobs}, links here ${setup.localJobs} at a time`
        : `distcc: no usable host; compiling here (-j ${setup.jobs})`,
    );
    for (const line of describeUnusable(setup.unusable)) ctx.report.note(`distcc: left out ${line}`);
  }
  // This stage's own log, next to its stage log: the counts are per stage.
  const logFile = ctx.log.path.replace(/(\.log)?$/, '.distcc.log');
  const env = distccEnv({
    hosts: setup.usable,
    dir: setup.env.DISTCC_DIR!,
    log: logFile,
    fallback: settings.fallback,
    viaCcache: use.viaCcache,
    localJobs: setup.localJobs,
    globals: setup.env.DISTCC_HOSTS!.split(' ').filter((s) => s.startsWith('--')),
  });
  const tail = new DistccLogTail(logFile);
  const remote = setup.usable.some((h) => h.kind !== 'local');
  return {
    env,
    jobs: setup.jobs,
    progress:
      <P extends { message?: string }>(report: (progress: P) => void) =>
      (progress: P) => {
        if (!remote) return report(progress);
        const counts = tail.poll();
        report({ ...progress, message: `${progress.message ?? ''} · distcc ${formatCounts(counts)}`.trim() });
      },
    finish: () => {
      ctx.report.note(`distcc: ${formatCounts(tail.poll())}${use.viaCcache ? ' (ccache hits never leave this machine)' : ''}`);
    },
  };
}

/**
 * gn args with the distributed compiler as `cc_wrapper` (the Chromium backend; what cc_wrapper.gni
 * documents): distcc, or a cc_wrapper the user set (ccache) with distcc behind it through
 * CCACHE_PREFIX. Not part of the identity: the identity reads build.args, never these.
 */
export function withCcWrapper<T extends Record<string, string | number | boolean>>(args: T, app: AppContext): T {
  if (!distributing(app)) return args;
  if (args.use_remoteexec === true) {
    throw new ConfigError('distributed.engine and use_remoteexec = true both distribute the Chromium build; use one.', {
      hint: "Chromium's cc_wrapper.gni asserts cc_wrapper is empty with use_remoteexec: drop distributed.engine, or the remote execution settings.",
    });
  }
  return typeof args.cc_wrapper === 'string' && args.cc_wrapper !== '' ? args : { ...args, cc_wrapper: 'distcc' };
}

/** The Chromium backend's use of the engine: the probe checks the compilers cc_wrapper prefixes. */
export function chromiumDistributedUse(app: AppContext, args: Record<string, string | number | boolean>): DistributedUse {
  const wrapper = typeof args.cc_wrapper === 'string' ? args.cc_wrapper : '';
  return {
    compilers: app.config.distributed.compilers ?? ['gcc', 'g++'],
    flags: ['-O2'],
    viaCcache: /(^|\/)ccache$/.test(wrapper),
  };
}

/**
 * The standalone backend's use of the engine: the compilers its toolchain resolved (or
 * distributed.compilers, as for doctor) with its own flags; ccache first when it is the launcher.
 */
export function standaloneDistributedUse(app: AppContext, toolchain: Toolchain): DistributedUse {
  return {
    compilers: app.config.distributed.compilers ?? [toolchain.cc, toolchain.cxx],
    flags: [...toolchain.flags],
    viaCcache: toolchain.launcher === 'ccache',
  };
}

/** What the probe checks for a config, without a run: the compilers and flags its build would use. */
export function distributedUseOf(app: AppContext): DistributedUse {
  const { config } = app;
  if (config.backend === 'quiche') {
    const { quiche } = config;
    return {
      compilers: config.distributed.compilers ?? [quiche.cc, quiche.cxx],
      flags: [quiche.optimization, ...REPRODUCIBLE_DEBUG_FLAGS],
      viaCcache: quiche.ccache !== 'off',
    };
  }
  return chromiumDistributedUse(app, withCcWrapper(effectiveGnArgs(config.build.args, config.build.builder), app));
}

/** doctor: the host report plus distcc and every host, probed as a build would (nothing changes with engine 'none'). */
export async function withDistributedCheck(config: ResolvedConfig, report: HostReport): Promise<HostReport> {
  if (config.distributed.engine === 'none') return report;
  const app = createAppContext(config);
  const use = distributedUseOf(app);
  const distributed = await checkDistributed({
    settings: config.distributed,
    compilers: use.compilers,
    flags: use.flags,
    exec,
    probeDir: path.join(config.cacheDir, 'distcc', 'doctor-probe'),
    localJobs: localJobsOf(app),
  });
  return {
    ...report,
    distributed,
    problems: [...report.problems, ...distributed.problems],
    warnings: [...report.warnings, ...distributed.warnings],
  };
}
