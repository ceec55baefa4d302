import { readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  canonicalPath,
  edgeBinding,
  isPhony,
  NinjaParseError,
  readDepfile,
  readDepsLog,
  readNinjaGraph,
  type NinjaGraph,
} from './ninja-graph.js';
import { dryRun } from './builder.js';
import type { Exec } from '../process/exec.js';
import { writeFileAtomic } from '../util/fs.js';

/**
 * A cheap proof that a build has nothing to do, so a no-op rerun need not start the builder's dry run
 * (autoninja -> siso/ninja loads and stats the whole graph: ~0.8 s at 30,000 edges).
 *
 * Right after the builder finished the targets (or its dry run said there is nothing to do), every
 * file ninja would look at for them is stat'ed: the manifests, each edge's outputs and inputs, the
 * headers each compile read (ninja's deps log) and gn's build.ninja.d, plus the logs themselves; the
 * stats (mtime, ctime, size) are kept in one file. Later, the same files stat'ed to the same values
 * prove that ninja's inputs to its decision are what they were when it had nothing to do. Any
 * difference (a touched or edited source or header, a deleted or touched object, regenerated ninja
 * files after a flag changed, a rebuilt binary) only means "not proven": the caller asks the builder
 * as before. The record is not written when it could be wrong: a source changed while the build ran,
 * an output is missing, a compile has no deps record, or the builder keeps no deps log we can read
 * (the real siso keeps its own; its out dirs always take the builder's dry run).
 */

export interface UpToDateSubject {
  outDir: string;
  /** Builder, out dir and targets: a record proves nothing for another build. */
  key: string;
  targets: string[];
  /** The binaries the stage recorded: a match means their hashes need no re-reading. */
  binaries: Array<{ path: string; sha256: string }>;
}

interface UpToDateRecord {
  version: 1;
  key: string;
  binaries: Array<{ path: string; sha256: string }>;
  /** The files, by directory: [absolute dir, [names...]], in the order of stats. */
  dirs: Array<[string, string[]]>;
  /** mtimeMs, ctimeMs and size of each file in turn; -1, -1, -1 for a file that did not exist. */
  stats: number[];
}

interface Snapshot {
  record: UpToDateRecord;
  /** Files it covers: manifests, nodes, headers. */
  count: number;
}

const RECORD_VERSION = 1;

const MISSING = -1;

/** Whether `file` stats as stats[at..at+2] say (mtimeMs, ctimeMs, size; -1 when absent). */
function statsAs(file: string, stats: number[], at: number): boolean {
  const s = statSync(file, { throwIfNoEntry: false });
  if (!s) return stats[at] === MISSING;
  return s.mtimeMs === stats[at] && s.ctimeMs === stats[at + 1] && s.size === stats[at + 2];
}

/**
 * ninja's deps logs for an out dir: `.ninja_deps` there (gn sets no builddir) and in its dot-dirs (a
 * builder that runs ninja with its own state dir, as the test world's siso does).
 */
function depsLogs(outDir: string): string[] {
  const dirs = [outDir];
  for (const entry of readdirSync(outDir, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name.startsWith('.')) dirs.push(path.join(outDir, entry.name));
  }
  return dirs.map((dir) => path.join(dir, '.ninja_deps')).filter((file) => statSync(file, { throwIfNoEntry: false })?.isFile());
}

/**
 * Stats every file a build of the targets depends on. `builtSince`: the builder started then and just
 * finished (a source with a later mtime may have changed after it was read: no snapshot). Without it,
 * take the snapshot before the builder's dry run and save it only if that run finds nothing to do.
 * Returns why no snapshot can be taken instead of one.
 */
export async function snapshotBuild(subject: UpToDateSubject, builtSince?: number): Promise<Snapshot | string> {
  const { outDir } = subject;
  // Before reading the graph: without a deps log the compiles' headers are unknown.
  const logs = depsLogs(outDir);
  if (logs.length === 0) return 'the builder keeps no ninja deps log (.ninja_deps)';
  let graph: NinjaGraph;
  try {
    graph = await readNinjaGraph(outDir);
  } catch (error) {
    if (error instanceof NinjaParseError) return `ninja files not read: ${error.message}`;
    throw error;
  }
  const deps = new Map<string, string[]>();
  for (const log of logs) {
    try {
      // Two logs (a builder switched without a clean): the union, so no header is left out.
      for (const [output, inputs] of await readDepsLog(log)) {
        const earlier = deps.get(output);
        deps.set(output, earlier ? [...earlier, ...inputs] : inputs);
      }
    } catch (error) {
      if (error instanceof NinjaParseError) return error.message;
      throw error;
    }
  }

  // The targets' part of the graph, as ninja walks it (the manifest first: it is rebuilt before anything).
  const outputs = new Set<string>();
  const sources = new Set<string>();
  const visited = new Set<number>();
  const targets = subject.targets.map(canonicalPath);
  const unknown = subject.targets.find((_, i) => !graph.producer.has(targets[i]!));
  if (unknown !== undefined) return `${unknown} is not a target of ${outDir}/build.ninja`;
  const stack = ['build.ninja', ...targets];
  while (stack.length) {
    const node = stack.pop()!;
    const index = graph.producer.get(node);
    if (index === undefined) {
      sources.add(node);
      continue;
    }
    if (visited.has(index)) continue;
    visited.add(index);
    const edge = graph.edges[index]!;
    stack.push(...edge.inputs);
    if (isPhony(edge)) continue;
    for (const output of edge.outputs) outputs.add(output);
    // Inputs a dyndep file adds are known only to ninja (gn does not write such edges).
    if (edgeBinding(edge, 'dyndep')) return `${edge.outputs[0]} has a dyndep file`;
    if (edgeBinding(edge, 'deps')) {
      // ninja records an edge's deps under its first output.
      const read = deps.get(edge.outputs[0]!);
      if (!read) return `no deps record for ${edge.outputs[0]}`;
      stack.push(...read);
    } else {
      const depfile = edgeBinding(edge, 'depfile');
      if (depfile) {
        const read = await readDepfile(path.join(outDir, depfile)).catch(() => undefined);
        if (!read) return `depfile ${depfile} is missing`;
        stack.push(...read);
      }
    }
  }

  const logFiles = logs.flatMap((log) => [log, path.join(path.dirname(log), '.ninja_log')]);
  const inOutDir = (file: string) => path.resolve(outDir, file);
  const required = new Set([...outputs, ...sources].map(inOutDir));
  const files = [...new Set([...graph.manifests.map(inOutDir), ...required, ...logFiles])];
  // What the builder read rather than wrote: the sources and headers, and the manifests.
  const sourceFiles = new Set(
    [...sources, ...graph.manifests].filter((file) => !outputs.has(file)).map((file) => path.resolve(outDir, file)),
  );
  const stats: number[] = [];
  for (const file of files) {
    const s = statSync(file, { throwIfNoEntry: false });
    if (!s) {
      if (required.has(file)) return `${path.relative(outDir, file)} is missing`;
      stats.push(MISSING, MISSING, MISSING);
      continue;
    }
    stats.push(s.mtimeMs, s.ctimeMs, s.size);
  }
  if (builtSince !== undefined) {
    // builtSince is on the filesystem's clock (startBuild): a file written after it has an mtime at
    // least as late; one written in the same tick of that clock may be either, so it counts as late.
    const late = files.find((file, i) => sourceFiles.has(file) && stats[i * 3]! >= builtSince);
    if (late) return `${path.relative(outDir, late)} changed while the build ran`;
  }
  // By directory: a third of the size to write and parse.
  const byDir = new Map<string, Array<[string, number]>>();
  files.forEach((file, i) => {
    const dir = path.dirname(file);
    const list = byDir.get(dir) ?? byDir.set(dir, []).get(dir)!;
    list.push([path.basename(file), i]);
  });
  const dirs: Array<[string, string[]]> = [];
  const ordered: number[] = [];
  for (const [dir, list] of byDir) {
    dirs.push([dir, list.map(([name]) => name)]);
    for (const [, i] of list) ordered.push(stats[i * 3]!, stats[i * 3 + 1]!, stats[i * 3 + 2]!);
  }
  return {
    record: { version: RECORD_VERSION, key: subject.key, binaries: subject.binaries, dirs, stats: ordered },
    count: files.length,
  };
}

/** Writes the snapshot where proveUpToDate() reads it (atomically). */
export async function saveSnapshot(file: string, snapshot: Snapshot): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(snapshot.record));
}

/**
 * Before a build: drops the snapshot (a build that fails or dies leaves none) and returns the time
 * the build starts on the filesystem's own clock (the mtime of the marker written in its place), for
 * snapshotBuild's builtSince: the kernel's file times run on a coarse clock behind Date.now().
 */
export async function startBuild(file: string): Promise<number> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, '{"building":true}\n');
  return (await stat(file)).mtimeMs;
}

/** True when every file of the saved snapshot stats as it did, else why not (then ask the builder). */
export async function proveUpToDate(file: string, subject: UpToDateSubject): Promise<true | string> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return 'no snapshot of an up-to-date build';
  let record: UpToDateRecord;
  try {
    record = JSON.parse(text) as UpToDateRecord;
  } catch {
    return 'the snapshot is unreadable';
  }
  if (record.version !== RECORD_VERSION || record.key !== subject.key) return 'the snapshot is of another build';
  const same =
    record.binaries.length === subject.binaries.length &&
    record.binaries.every((b, i) => b.path === subject.binaries[i]!.path && b.sha256 === subject.binaries[i]!.sha256);
  if (!same) return 'the binaries differ from the snapshot';
  const { dirs, stats } = record;
  let at = 0;
  for (const [dir, names] of dirs) {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    for (const name of names) {
      if (at + 2 >= stats.length) return 'the snapshot is unreadable';
      if (!statsAs(prefix + name, stats, at)) return `${path.relative(subject.outDir, prefix + name)} changed`;
      at += 3;
    }
  }
  return at === stats.length ? true : 'the snapshot is unreadable';
}

export interface BuiltOptions {
  exec: Exec;
  /** The builder (autoninja or ninja) and its environment, for the dry run when nothing is proven. */
  command: string;
  env: Record<string, string>;
  outDir: string;
  targets: string[];
  binaries: ReadonlyArray<{ path: string; sha256: string }>;
  /** Where the snapshot is kept (one per stage). */
  snapshotFile: string;
}

const subjectOf = (options: BuiltOptions): UpToDateSubject => ({
  outDir: options.outDir,
  key: JSON.stringify([options.command, options.outDir, options.targets]),
  targets: options.targets,
  binaries: options.binaries.map((b) => ({ path: b.path, sha256: b.sha256 })),
});

/**
 * After a successful build of the targets: keep the snapshot that lets the next run skip the dry run.
 * `startedAt`: what startBuild() returned before the builder started. Returns what to log.
 */
export async function recordBuilt(options: BuiltOptions, startedAt: number): Promise<string> {
  const snapshot = await snapshotBuild(subjectOf(options), startedAt);
  if (typeof snapshot === 'string')
    return `no snapshot of the finished build (the next run asks ${path.basename(options.command)} -n): ${snapshot}`;
  await saveSnapshot(options.snapshotFile, snapshot);
  return `snapshot of the finished build: ${snapshot.count} files`;
}

/**
 * The compile stage's up-to-date check: the snapshot when it proves nothing changed, else the
 * builder's own dry run (`-n`), after which a fresh snapshot is kept if the dry run found nothing to do.
 * `changed`: the stage's other check (the recorded binaries' hashes), run only when the snapshot does
 * not prove them unchanged.
 */
export async function verifyBuilt(options: BuiltOptions, changed: () => Promise<string | undefined>): Promise<true | string> {
  const subject = subjectOf(options);
  const proof = await proveUpToDate(options.snapshotFile, subject);
  if (proof === true) return true;
  const why = await changed();
  if (why) return why;
  // Taken before the dry run: whatever changes after it shows as a difference next time.
  const snapshot = await snapshotBuild(subject);
  const dry = await dryRun(options);
  if (dry === true && typeof snapshot !== 'string') await saveSnapshot(options.snapshotFile, snapshot);
  // The first file that changed says why, where the builder only says that it has work.
  return dry === true || !proof.endsWith(' changed') ? dry : `${dry} (${proof})`;
}
