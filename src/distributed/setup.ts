/**
 * The distributed engine put together for one build (and for doctor): parse the hosts, probe them,
 * leave out (or stop on) the unusable ones, and the environment and -j the build runs with.
 */
import { lookup } from 'node:dns/promises';
import { mkdir, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { Config } from '../config/schema.js';
import { PreflightError } from '../errors.js';
import type { Exec } from '../process/exec.js';
import { distccVersion } from '../tools/distcc.js';
import { distccEnv, distributedJobs } from './env.js';
import { hostLabel, isPrivateAddress, parseHostList, type DistccHost } from './hosts.js';
import { probeHosts, type HostVerdict } from './probe.js';

export type DistributedSettings = Config['distributed'];

export interface DistributedSetup {
  usable: DistccHost[];
  unusable: Array<{ host: DistccHost; reason: string }>;
  verdicts: HostVerdict[];
  /** DISTCC_* (and CCACHE_PREFIX) for the build's environment. */
  env: Record<string, string>;
  jobs: number;
  localJobs: number;
  /** DISTCC_LOG: where the build's compiles are counted. */
  logFile: string;
}

export interface PrepareOptions {
  settings: DistributedSettings;
  compilers: readonly string[];
  flags: readonly string[];
  exec: Exec;
  /** Scratch directory of the probe. */
  probeDir: string;
  /** DISTCC_DIR of the build: emptied (no backoff or lock left from an earlier run), then created. */
  distccDir: string;
  logFile: string;
  viaCcache: boolean;
  /** The local -j: links, archives and protoc run this many at a time. */
  localJobs: number;
}

/** One line per unusable host, for notes and errors. */
export const describeUnusable = (unusable: DistributedSetup['unusable']) =>
  unusable.map(({ host, reason }) => `${hostLabel(host)}: ${reason}`);

/** The hosts of distributed.hosts, each probed with the build's compilers and flags (the build and doctor alike). */
async function probeListedHosts(options: Pick<PrepareOptions, 'settings' | 'compilers' | 'flags' | 'exec' | 'probeDir'>) {
  const { hosts, globals } = parseHostList(options.settings.hosts);
  const verdicts = await probeHosts({
    hosts,
    compilers: options.compilers,
    flags: options.flags,
    exec: options.exec,
    workDir: options.probeDir,
  });
  return { hosts, globals, verdicts };
}

export async function prepareDistcc(options: PrepareOptions): Promise<DistributedSetup> {
  const { settings } = options;
  if (!(await distccVersion(options.exec))) {
    throw new PreflightError('distributed.engine is distcc, but distcc does not run on this machine.', {
      hint: "Install it (apt-get install distcc), or set distributed.engine to 'none'.",
    });
  }
  const { hosts, globals, verdicts } = await probeListedHosts(options);
  const usable = verdicts.filter((v) => v.usable).map((v) => v.host);
  const unusable = verdicts.filter((v) => !v.usable).map((v) => ({ host: v.host, reason: v.reason ?? 'unusable' }));
  if (unusable.length && settings.onUnusableHost === 'stop') {
    throw new PreflightError(
      `${unusable.length} of ${hosts.length} distcc host(s) cannot take this build's compiles:\n  - ${describeUnusable(unusable).join('\n  - ')}`,
      {
        hint: "Fix or remove those hosts (build-quiche doctor probes them again), or set distributed.onUnusableHost to 'skip' to build without them.",
        data: { unusable: unusable.map((u) => ({ host: u.host.spec, reason: u.reason })) },
      },
    );
  }
  await rm(options.distccDir, { recursive: true, force: true });
  await mkdir(options.distccDir, { recursive: true });
  const env = distccEnv({
    hosts: usable,
    globals,
    dir: options.distccDir,
    log: options.logFile,
    fallback: settings.fallback,
    viaCcache: options.viaCcache,
    localJobs: options.localJobs,
  });
  return {
    usable,
    unusable,
    verdicts,
    env,
    jobs: distributedJobs(usable, options.localJobs, settings.jobs),
    localJobs: options.localJobs,
    logFile: options.logFile,
  };
}

export interface DistributedHostReport {
  spec: string;
  usable: boolean;
  reason?: string;
  ms: number;
  /** The addresses a TCP host's name resolves to, and whether all are private. */
  addresses?: string[];
  private?: boolean;
}

export interface DistributedReport {
  engine: 'distcc';
  version?: string;
  hosts: DistributedHostReport[];
  jobs: number;
  problems: string[];
  warnings: string[];
}

/**
 * The warning for a TCP host with an address outside private ranges (none for ssh hosts, localhost, or
 * a name that did not resolve: the probe reports that one).
 */
export function publicHostWarning(host: DistccHost, addresses: readonly string[]): string | undefined {
  if (host.kind !== 'tcp' || addresses.length === 0 || addresses.every(isPrivateAddress)) return undefined;
  return `distcc host ${hostLabel(host)} (${addresses.join(', ')}) is outside private address ranges and reached over plain TCP: its distccd runs a compiler for anyone it --allows, and sources and objects cross unencrypted. Use ssh mode ('user@${host.host}/${host.slots}') or a private network (docs/distributed.md, "Security").`;
}

/** Addresses of a host name (the address itself for an address). */
async function addressesOf(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  return (await lookup(host, { all: true }).catch(() => [])).map((a) => a.address);
}

/**
 * doctor's view: distcc runs here, every host answers and compiles the probe to our bytes, and which
 * TCP hosts sit outside private ranges (distccd runs a compiler for anyone it allows; over the open
 * internet that must be ssh mode).
 */
export async function checkDistributed(options: Omit<PrepareOptions, 'distccDir' | 'logFile' | 'viaCcache'>): Promise<DistributedReport> {
  const problems: string[] = [];
  const warnings: string[] = [];
  const version = await distccVersion(options.exec);
  if (!version) {
    problems.push(
      "distcc does not run on this machine (distributed.engine is distcc): apt-get install distcc, or set distributed.engine to 'none'.",
    );
    return { engine: 'distcc', hosts: [], jobs: options.localJobs, problems, warnings };
  }
  const { verdicts } = await probeListedHosts(options);
  const reports: DistributedHostReport[] = [];
  for (const verdict of verdicts) {
    const { host } = verdict;
    const report: DistributedHostReport = {
      spec: host.spec,
      usable: verdict.usable,
      ms: verdict.ms,
      ...(verdict.reason ? { reason: verdict.reason } : {}),
    };
    if (host.kind === 'tcp') {
      report.addresses = await addressesOf(host.host);
      report.private = report.addresses.length > 0 && report.addresses.every(isPrivateAddress);
      const warning = publicHostWarning(host, report.addresses);
      if (warning) warnings.push(warning);
    }
    if (!verdict.usable) {
      const line = `distcc host ${hostLabel(host)}: ${verdict.reason}`;
      if (options.settings.onUnusableHost === 'stop') problems.push(`${line} (distributed.onUnusableHost is 'stop': a build would stop)`);
      else warnings.push(`${line}; a build leaves it out`);
    }
    reports.push(report);
  }
  const usable = verdicts.filter((v) => v.usable).map((v) => v.host);
  if (usable.length === 0 && options.settings.onUnusableHost === 'skip')
    warnings.push('No distcc host is usable: a build would compile everything here.');
  return {
    engine: 'distcc',
    version,
    hosts: reports,
    jobs: distributedJobs(usable, options.localJobs, options.settings.jobs),
    problems,
    warnings,
  };
}

/** doctor's lines for the distributed engine. */
export function formatDistributedReport(report: DistributedReport): string[] {
  const lines = [
    `${report.version ? 'ok  ' : 'FAIL'} distcc   ${report.version ?? 'not found'}${report.hosts.length ? ` (-j ${report.jobs})` : ''}`,
  ];
  for (const host of report.hosts) {
    const where = host.addresses?.length ? ` [${host.addresses.join(', ')}${host.private === false ? ', public' : ''}]` : '';
    lines.push(
      `${host.usable ? 'ok  ' : 'FAIL'} host     ${host.spec}${where} ${host.usable ? `probe identical in ${host.ms} ms` : `- ${host.reason}`}`,
    );
  }
  return lines;
}
