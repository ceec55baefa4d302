import { readFile, realpath, stat, statfs } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ResolvedConfig } from '../config/load.js';
import { exec } from '../process/exec.js';
import { findOnPath } from '../process/find-on-path.js';
import { writeJsonAtomic } from '../util/fs.js';
import { formatDistributedReport, type DistributedReport } from '../distributed/setup.js';

/**
 * Host checks with numbers, shared by the preflight stage and `build-quiche doctor`: free disk at
 * the cache dir, memory and cores (and the -j they allow), the tools Chromium's checkout and hooks
 * need, and whether we run as root (depot_tools dislikes it).
 */

export interface ToolCheck {
  name: string;
  found: boolean;
  path?: string;
  version?: string;
  problem?: string;
  fix?: string;
}

export interface HostReport {
  disk: { path: string; freeGb: number; needGb: number; ok: boolean };
  memory: { totalGb: number; availableGb: number; needGb: number; ok: boolean };
  cores: number;
  suggestedJobs: number;
  tools: ToolCheck[];
  root: boolean;
  /** doctor with distributed.engine set: distcc and every host, probed (stages/distributed.ts). */
  distributed?: DistributedReport;
  problems: string[];
  warnings: string[];
  /**
   * What the configured backend checks beyond the host (`BuildBackend.doctor`), by name: e.g. the
   * Chromium backend's `remoteExecution` (the REAPI endpoint and the credential helper).
   */
  backend?: DoctorSection;
}

/** A backend's own doctor check: lines for the report, what is wrong and what is doubtful, and its data for --json. */
export interface DoctorSection {
  name: string;
  lines: string[];
  problems: string[];
  warnings: string[];
  data?: unknown;
}

const GB = 1024 ** 3;
const round = (n: number) => Math.round(n * 10) / 10;
/** Free space is shown rounded down: 49.96 GB must not read as the 50 GB a build needs. */
const roundDown = (n: number) => Math.floor(n * 10) / 10;

/** Debian/Ubuntu package that provides each tool, for the "how to fix" line. */
const PACKAGE_FOR: Record<string, string> = {
  git: 'git',
  python3: 'python3',
  curl: 'curl',
  lsb_release: 'lsb-release',
  file: 'file',
  xz: 'xz-utils',
  openssl: 'openssl',
  readelf: 'binutils',
  ninja: 'ninja-build',
  gn: 'generate-ninja',
};

const VERSION_ARGS: Record<string, string[]> = { openssl: ['version'], lsb_release: ['--version'] };
const MINIMUM: Record<string, [number, number]> = { git: [2, 25], python3: [3, 8] };

/**
 * Probed tool versions, kept between runs in <cacheDir>/host-tools.json: a no-op rerun would otherwise
 * start two processes per tool (most of its time). A probe is reused only while the binary it ran is
 * the same file (realpath, size, mtime, inode); for a pyenv shim, also while pyenv would pick the
 * same interpreter.
 */
interface ToolProbe {
  key: string;
  version?: string;
}
type ProbeCache = Record<string, ToolProbe>;

const probeCacheFile = (config: ResolvedConfig) => path.join(config.cacheDir, 'host-tools.json');

async function readProbeCache(config: ResolvedConfig): Promise<ProbeCache> {
  try {
    const parsed = JSON.parse(await readFile(probeCacheFile(config), 'utf8')) as { schema?: number; tools?: ProbeCache };
    return parsed.schema === 1 && parsed.tools ? parsed.tools : {};
  } catch {
    return {}; // none yet, or unreadable: probe
  }
}

async function identity(file: string): Promise<string> {
  const real = await realpath(file);
  const info = await stat(real);
  const key = `${real}:${info.size}:${info.mtimeMs}:${info.ino}`;
  return path.basename(path.dirname(file)) === 'shims' ? `${key}|${await shimSelection(file)}` : key;
}

/**
 * A pyenv shim stays the same file while the interpreter behind it changes: add what pyenv chooses
 * the version by (PYENV_VERSION, the nearest .python-version, the global version file) to its key.
 */
async function shimSelection(shim: string): Promise<string> {
  const root = process.env.PYENV_ROOT ?? path.dirname(path.dirname(shim));
  const read = (file: string) => readFile(file, 'utf8').catch(() => '');
  let local = '';
  for (let dir = process.cwd(); !local; dir = path.dirname(dir)) {
    local = await read(path.join(dir, '.python-version'));
    if (path.dirname(dir) === dir) break;
  }
  return JSON.stringify([process.env.PYENV_VERSION ?? '', local, await read(path.join(root, 'version'))]);
}

async function checkTool(name: string, cache: ProbeCache): Promise<ToolCheck> {
  const fix = `Install it: apt-get install ${PACKAGE_FOR[name] ?? name}`;
  const found = await findOnPath(name);
  if (!found) return { name, found: false, problem: `${name} not found on PATH`, fix };
  const key = await identity(found).catch(() => undefined);
  let version = key && cache[name]?.key === key ? cache[name].version : undefined;
  if (!key || cache[name]?.key !== key) {
    // The first line either stream prints (some tools print their version on stderr).
    await exec(name, VERSION_ARGS[name] ?? ['--version'], {
      allowFailure: true,
      timeoutMs: 10_000,
      onLine: (line) => (version ??= line.trim() || undefined),
    }).catch(() => undefined);
    if (key) cache[name] = { key, version };
  }
  const check: ToolCheck = { name, found: true, path: found, version };
  const minimum = MINIMUM[name];
  const match = version?.match(/(\d+)\.(\d+)/);
  if (minimum && match) {
    const [major, minor] = [Number(match[1]), Number(match[2])];
    if (major < minimum[0] || (major === minimum[0] && minor < minimum[1])) {
      check.problem = `${name} ${major}.${minor} is older than ${minimum.join('.')}`;
      check.fix = `Upgrade ${name} to ${minimum.join('.')} or newer.`;
    }
  }
  return check;
}

/** The nearest existing ancestor: the cache dir may not exist yet. */
function existingAncestor(dir: string): string {
  let current = path.resolve(dir);
  while (!existsSync(current) && path.dirname(current) !== current) current = path.dirname(current);
  return current;
}

/** Compile jobs the host can feed: one per core, at most one per `gbPerJob` GB of RAM. */
export function jobsFor(config: ResolvedConfig): number {
  const totalGb = os.totalmem() / GB;
  return Math.max(1, Math.min(os.availableParallelism(), Math.floor(totalGb / config.preflight.gbPerJob)));
}

/** The -j a build runs with: build.jobs, else what memory and cores allow (jobsFor). */
export const jobsOf = (config: ResolvedConfig): number => config.build.jobs ?? jobsFor(config);

export async function checkHost(config: ResolvedConfig, extraTools: string[] = []): Promise<HostReport> {
  const diskPath = existingAncestor(config.cacheDir);
  const fs = await statfs(diskPath);
  // Compared exactly, shown rounded: a rounded value once let 49.96 GB pass a 50 GB need.
  const exactFreeGb = (fs.bavail * fs.bsize) / GB;
  const freeGb = roundDown(exactFreeGb);
  const needGb = config.preflight.minFreeDiskGb;
  const exactTotalGb = os.totalmem() / GB;
  const totalGb = round(exactTotalGb);
  const availableGb = round(os.freemem() / GB);
  const cores = os.availableParallelism();
  const suggestedJobs = jobsFor(config);
  const cache = await readProbeCache(config);
  const before = JSON.stringify(cache);
  const tools = await Promise.all([...new Set([...config.preflight.tools, ...extraTools])].map((name) => checkTool(name, cache)));
  if (JSON.stringify(cache) !== before && existsSync(config.cacheDir)) {
    // Only a speed-up: a full disk or a read-only cache must not fail the host check.
    await writeJsonAtomic(probeCacheFile(config), { schema: 1, tools: cache }).catch(() => undefined);
  }
  const root = process.getuid?.() === 0;
  const problems: string[] = [];
  const warnings: string[] = [];
  const diskOk = exactFreeGb >= needGb;
  const memoryOk = exactTotalGb >= config.preflight.minMemoryGb;
  if (!diskOk) {
    problems.push(
      `Only ${freeGb} GB free at ${diskPath}; the build needs ${needGb} GB. Free space, or point cacheDir at a larger disk (preflight.minFreeDiskGb sets the need).`,
    );
  }
  if (!memoryOk) {
    problems.push(`Only ${totalGb} GB of RAM; the build needs ${config.preflight.minMemoryGb} GB (preflight.minMemoryGb).`);
  }
  for (const tool of tools) if (tool.problem) problems.push(`${tool.problem}. ${tool.fix}`);
  if (root) warnings.push("Running as root: depot_tools and Chromium's hooks expect a normal user; `--docker` runs as your uid instead.");
  return {
    disk: { path: diskPath, freeGb, needGb, ok: diskOk },
    memory: { totalGb, availableGb, needGb: config.preflight.minMemoryGb, ok: memoryOk },
    cores,
    suggestedJobs,
    tools,
    root,
    problems,
    warnings,
  };
}

export function formatHostReport(report: HostReport): string[] {
  const mark = (ok: boolean) => (ok ? 'ok  ' : 'FAIL');
  return [
    `${mark(report.disk.ok)} disk     ${report.disk.freeGb} GB free at ${report.disk.path} (need ${report.disk.needGb} GB)`,
    `${mark(report.memory.ok)} memory   ${report.memory.totalGb} GB total, ${report.memory.availableGb} GB available (need ${report.memory.needGb} GB)`,
    `ok   cores    ${report.cores} (suggested -j ${report.suggestedJobs})`,
    ...report.tools.map(
      (t) =>
        `${mark(!t.problem)} ${t.name.padEnd(8)} ${t.found ? `${t.version ?? ''} (${t.path})` : 'not found'}${t.problem && t.found ? ` - ${t.problem}` : ''}`,
    ),
    `${report.root ? 'warn' : 'ok  '} user     ${report.root ? 'root' : `uid ${process.getuid?.()}`}`,
    ...(report.backend?.lines ?? []),
    ...(report.distributed ? formatDistributedReport(report.distributed) : []),
  ];
}
