/**
 * What every fault trial needs: a seeded random source, workspaces (empty, or a copy of a finished
 * build), the real CLI in a child process of its own process group, and the judgement of the run
 * after the fault: it completes and its artifact verifies, with nothing left behind.
 */
import { execa, type ResultPromise } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { installArtifact } from '../../src/artifacts/install.js';
import type { UserConfig } from '../../src/config/schema.js';
import { writeConfigFile } from '../support/cli.js';
import { offlineConfig } from '../../testkit/world.js';
import { seededRandom } from '../../src/util/seeded-random.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const ENTRY = path.join(ROOT, 'src', 'cli', 'entry.ts');
const TSX = import.meta.resolve('tsx');

/** The suite's seeded generator: the same trials for the same SEED on every machine. */
export const rng = seededRandom;

export interface Cli {
  child: ResultPromise<{ all: true; reject: false; detached: true }>;
  /** Everything printed so far (stdout and stderr interleaved). */
  output(): string;
}

/** The CLI as a user starts it, leader of its own process group (as a shell job is). */
export function startCli(dir: string, args: string[], env: Record<string, string> = {}): Cli {
  const child = execa(process.execPath, ['--import', TSX, ENTRY, ...args], {
    cwd: dir,
    env: { CI: '1', ...env },
    all: true,
    reject: false,
    detached: true,
    cleanup: false,
  });
  let out = '';
  child.all.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return { child, output: () => out };
}

/** SIGKILL to the CLI alone or to its whole process group (a CI timeout, an OOM kill); then its end. */
export async function killCli(cli: Cli, group: boolean): Promise<void> {
  try {
    process.kill(group ? -cli.child.pid! : cli.child.pid!, 'SIGKILL');
  } catch {
    // it finished first
  }
  await cli.child;
}

/** One of `items`, drawn with the trial's seeded generator. */
export const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;

export async function runCli(dir: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const cli = startCli(dir, args, env);
  const result = await cli.child;
  return { code: result.exitCode ?? 128 + (result.signal ? 9 : 0), output: cli.output() };
}

export interface Workspace {
  dir: string;
  remove(): Promise<void>;
}

export async function emptyWorkspace(baseUrl: string, overrides: UserConfig = {}): Promise<Workspace> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bq-fault-'));
  await writeConfigFile(dir, offlineConfig(baseUrl, dir, overrides));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A finished build at `dir`, copied from `golden`. State, guards and the checkout hold absolute
 * paths, so the golden build was made at `dir` itself and then moved aside: every copy is a finished
 * build in the very place it was made. Trials run one at a time.
 */
export async function finishedWorkspace(golden: string, dir: string): Promise<Workspace> {
  await rm(dir, { recursive: true, force: true });
  await cp(golden, dir, { recursive: true, verbatimSymlinks: true });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Files a run must never leave behind once a later run finished. */
export async function leftovers(dir: string, dist = path.join(dir, 'dist')): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string, depth: number) => {
    if (depth > 3 || !existsSync(d)) return;
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (/^\.put-|\.tmp$|\.install-/.test(entry.name)) found.push(path.relative(dir, full));
      if (entry.isDirectory()) await walk(full, depth + 1);
    }
  };
  await walk(dist, 0);
  return found;
}

/** The judgement after a fault: a normal run exits 0, its artifact installs and verifies, no temp files. */
export async function recovers(dir: string, dist = path.join(dir, 'dist')): Promise<string | undefined> {
  const run = await runCli(dir, ['build', '--plain']);
  if (run.code !== 0) return `the next normal run exited ${run.code}: ${tail(run.output)}`;
  const to = await mkdtemp(path.join(os.tmpdir(), 'bq-fault-install-'));
  try {
    await installArtifact(dist, { to });
  } catch (error) {
    return `the artifact does not verify: ${(error as Error).message}`;
  } finally {
    await rm(to, { recursive: true, force: true });
  }
  const left = await leftovers(dir, dist);
  if (left.length) return `left behind: ${left.join(', ')}`;
  return undefined;
}

export const tail = (output: string, lines = 6) => output.trimEnd().split('\n').slice(-lines).join(' | ');

export async function fileHash(file: string): Promise<string | undefined> {
  if (!existsSync(file)) return undefined;
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

/** Whether any process still runs with this workspace in its command line or working directory. */
export async function strays(dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
      const cmdline = (await readFile(`/proc/${name}/cmdline`, 'utf8')).replace(/\0/g, ' ');
      if (cmdline.includes(dir)) found.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}
