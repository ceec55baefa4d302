import { statfs } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ResolvedConfig } from '../config/load.js';
import { exec } from '../process/exec.js';

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
  problems: string[];
  warnings: string[];
}

const GB = 1024 ** 3;
const round = (n: number) => Math.round(n * 10) / 10;

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

async function checkTool(name: string): Promise<ToolCheck> {
  const fix = `Install it: apt-get install ${PACKAGE_FOR[name] ?? name}`;
  const which = await exec('sh', ['-c', `command -v ${name}`], { allowFailure: true });
  const found = which.exitCode === 0 && which.stdout.trim() !== '';
  if (!found) return { name, found, problem: `${name} not found on PATH`, fix };
  // The first line either stream prints (some tools print their version on stderr).
  let version: string | undefined;
  await exec(name, VERSION_ARGS[name] ?? ['--version'], { allowFailure: true, timeoutMs: 10_000, onLine: (line) => (version ??= line.trim() || undefined) }).catch(() => undefined);
  const check: ToolCheck = { name, found, path: which.stdout.trim(), version };
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

export async function checkHost(config: ResolvedConfig, extraTools: string[] = []): Promise<HostReport> {
  const diskPath = existingAncestor(config.cacheDir);
  const fs = await statfs(diskPath);
  const freeGb = round((fs.bavail * fs.bsize) / GB);
  const needGb = config.preflight.minFreeDiskGb;
  const totalGb = round(os.totalmem() / GB);
  const availableGb = round(os.freemem() / GB);
  const cores = os.availableParallelism();
  const suggestedJobs = jobsFor(config);
  const tools = await Promise.all([...new Set([...config.preflight.tools, ...extraTools])].map(checkTool));
  const root = process.getuid?.() === 0;
  const problems: string[] = [];
  const warnings: string[] = [];
  if (freeGb < needGb) {
    problems.push(`Only ${freeGb} GB free at ${diskPath}; the build needs ${needGb} GB. Free space, or point cacheDir at a larger disk (preflight.minFreeDiskGb sets the need).`);
  }
  if (totalGb < config.preflight.minMemoryGb) {
    problems.push(`Only ${totalGb} GB of RAM; the build needs ${config.preflight.minMemoryGb} GB (preflight.minMemoryGb).`);
  }
  for (const tool of tools) if (tool.problem) problems.push(`${tool.problem}. ${tool.fix}`);
  if (root) warnings.push('Running as root: depot_tools and Chromium\'s hooks expect a normal user; `--docker` runs as your uid instead.');
  return {
    disk: { path: diskPath, freeGb, needGb, ok: freeGb >= needGb },
    memory: { totalGb, availableGb, needGb: config.preflight.minMemoryGb, ok: totalGb >= config.preflight.minMemoryGb },
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
    ...report.tools.map((t) => `${mark(!t.problem)} ${t.name.padEnd(8)} ${t.found ? `${t.version ?? ''} (${t.path})` : 'not found'}${t.problem && t.found ? ` - ${t.problem}` : ''}`),
    `${report.root ? 'warn' : 'ok  '} user     ${report.root ? 'root' : `uid ${process.getuid?.()}`}`,
  ];
}
