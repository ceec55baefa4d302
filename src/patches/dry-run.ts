import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { PatchRepo } from './repos.js';
import { readIfExists } from '../util/fs.js';
import type { Exec, ExecResult } from '../process/exec.js';
import { gitErrors, scratchDir, type Scratch } from '../tools/git.js';
import type { ConflictReport, PatchProblem } from './report.js';
import { touchedPaths, type FileChange, type Hunk, type Patch } from './patch-file.js';
import { seriesRepos, type Series } from './series.js';
import type { ReadBase } from './sources.js';

/**
 * Apply a series to the base content of the files it touches, in scratch repos, never in a checkout:
 * exactly `git apply` (offsets allowed, no fuzz), patch by patch. The result is either the final
 * content of every touched file, or one report listing every patch that fails and why.
 */

export interface FileResult {
  repo: PatchRepo;
  /** Relative to the repo root. */
  path: string;
  /** Content before the series; undefined when the file does not exist at the base. */
  base: Buffer | undefined;
  /** Content after the series; undefined when the series deletes (or never creates) it. */
  result: Buffer | undefined;
  /** Mode a patch sets (new file or mode change), else undefined: keep the file's mode. */
  mode: number | undefined;
  /** Patches that touch the file, in series order. */
  patches: string[];
}

export type DryRunResult = { ok: true; files: FileResult[]; applied: string[] } | { ok: false; report: ConflictReport };

export interface DryRunOptions {
  exec?: Exec;
  /** What the base is, per repo, for the report ("quiche 1ba0d99a"). */
  targets?: Partial<Record<PatchRepo, string>>;
  /** Parent directory for scratch repos (default: the OS temp dir). */
  tmpDir?: string;
}

export async function dryRunSeries(series: Series, readBase: ReadBase, options: DryRunOptions = {}): Promise<DryRunResult> {
  const files: FileResult[] = [];
  const applied: string[] = [];
  const problems: PatchProblem[] = [];
  const failed = new Set<string>();
  for (const repo of seriesRepos(series)) {
    const patches = series.patches.filter((patch) => patch.repo === repo);
    const outcome = await dryRunRepo(repo, patches, readBase, options);
    files.push(...outcome.files);
    applied.push(...outcome.applied);
    problems.push(...outcome.problems);
    for (const problem of outcome.problems) failed.add(problem.patch);
  }
  if (failed.size === 0) return { ok: true, files, applied: series.patches.map((patch) => patch.name) };
  const inOrder = (names: Iterable<string>) => series.patches.map((patch) => patch.name).filter((name) => new Set(names).has(name));
  return {
    ok: false,
    report: { series: series.file, targets: options.targets ?? {}, failed: inOrder(failed), applied: inOrder(applied), problems },
  };
}

async function dryRunRepo(repo: PatchRepo, patches: Patch[], readBase: ReadBase, options: DryRunOptions) {
  const work = await scratchDir(`dry-run-${repo}`, options.exec, options.tmpDir);
  let rejectsDir: Scratch | undefined;
  const rejects = async () => (rejectsDir ??= await scratchDir(`rejects-${repo}`, options.exec, options.tmpDir));
  try {
    const paths = [...new Set(patches.flatMap(touchedPaths))].sort();
    const base = new Map<string, Buffer | undefined>();
    for (const file of paths) {
      const content = await readBase(repo, file);
      base.set(file, content);
      if (content !== undefined) await writeInto(work.dir, file, content);
    }
    const applied: string[] = [];
    const problems: PatchProblem[] = [];
    const touchedBy = new Map<string, string[]>();
    const failedOn = new Map<string, string>();
    for (const patch of patches) {
      const result = await work.git(['apply', '--whitespace=nowarn', patch.file], { allowFailure: true });
      if (result.exitCode === 0) {
        applied.push(patch.name);
        for (const file of touchedPaths(patch)) touchedBy.set(file, [...(touchedBy.get(file) ?? []), patch.name]);
        continue;
      }
      const found = await explainFailure(patch, result, work, rejects);
      for (const problem of found) {
        const earlier = problem.file ? failedOn.get(problem.file) : undefined;
        problems.push({ ...problem, repo, ...(earlier ? { after: earlier } : {}) });
      }
      for (const file of touchedPaths(patch)) if (!failedOn.has(file)) failedOn.set(file, patch.name);
    }
    const files: FileResult[] = [];
    if (problems.length === 0) {
      for (const file of paths) {
        files.push({
          repo,
          path: file,
          base: base.get(file),
          result: await readIfExists(path.join(work.dir, file)),
          mode: lastMode(patches, file),
          patches: touchedBy.get(file) ?? [],
        });
      }
    }
    return { files, applied, problems };
  } finally {
    await work.dispose();
    await rejectsDir?.dispose();
  }
}

type Found = Omit<PatchProblem, 'repo' | 'after'>;

/** Turn git's complaints about one patch into problems: which file, which hunk, and why. */
async function explainFailure(patch: Patch, result: ExecResult, work: Scratch, rejects: () => Promise<Scratch>): Promise<Found[]> {
  const reverse = await work.git(['apply', '--check', '--reverse', '--whitespace=nowarn', patch.file], { allowFailure: true });
  if (reverse.exitCode === 0) {
    return [
      {
        patch: patch.name,
        file: null,
        hunk: null,
        reason: 'already-applied',
        detail: 'Every change in it is already there (in the base, or made by an earlier patch): the reverse patch applies cleanly.',
      },
    ];
  }
  const errors = gitErrors(result);
  const found: Found[] = [];
  const mismatches = new Map<string, number[]>();
  const notApplying = new Set<string>();
  const other: string[] = [];
  for (const line of errors) {
    let match: RegExpExecArray | null;
    if ((match = /^error: patch failed: (.+):(\d+)$/.exec(line))) {
      mismatches.set(match[1]!, [...(mismatches.get(match[1]!) ?? []), Number(match[2])]);
    } else if ((match = /^error: (.+): patch does not apply$/.exec(line))) {
      notApplying.add(match[1]!);
    } else if ((match = /^error: (.+): (No such file or directory|does not exist in (?:index|working tree))$/.exec(line))) {
      found.push({
        patch: patch.name,
        file: match[1]!,
        hunk: null,
        reason: 'missing-file',
        detail: `The patch changes ${match[1]}, which does not exist in the base (moved, renamed or deleted upstream?).`,
      });
    } else if ((match = /^error: (.+): already exists in (?:working directory|index)$/.exec(line))) {
      found.push({
        patch: patch.name,
        file: match[1]!,
        hunk: null,
        reason: 'file-exists',
        detail: `The patch creates ${match[1]}, which already exists in the base.`,
      });
    } else if (
      /corrupt patch|fragment without header|No valid patches|lacks filename|garbage|unrecognized input|bad git-diff|corrupt binary|does not match the/i.test(
        line,
      )
    ) {
      found.push({
        patch: patch.name,
        file: null,
        hunk: null,
        reason: 'malformed',
        detail: [line.replace(/^(error|fatal): /, 'git apply: '), ...patch.problems].join('\n'),
      });
    } else {
      other.push(line.replace(/^(error|fatal): /, ''));
    }
  }
  for (const [file, oldStarts] of mismatches) {
    const change = patch.files.find((candidate) => candidate.path === file || candidate.oldPath === file);
    const current = await readIfExists(path.join(work.dir, file));
    const rejected = await rejectedHunks(patch, file, work.dir, await rejects());
    const hunks = rejected.length
      ? rejected
      : oldStarts.map((start) => change?.hunks.find((hunk) => hunk.oldStart === start)).filter((hunk): hunk is Hunk => !!hunk);
    if (!hunks.length) {
      found.push({
        patch: patch.name,
        file,
        hunk: null,
        reason: 'context-mismatch',
        detail: `git apply: patch failed at ${file}:${oldStarts.join(', ')}`,
      });
    }
    for (const hunk of hunks) {
      found.push({ patch: patch.name, file, hunk: hunk.header, reason: 'context-mismatch', detail: mismatchDetail(hunk, change, current) });
    }
  }
  for (const file of notApplying) {
    if (mismatches.has(file) || found.some((problem) => problem.file === file)) continue;
    found.push({
      patch: patch.name,
      file,
      hunk: null,
      reason: 'context-mismatch',
      detail: other.length ? other.join('\n') : `git apply: ${file}: patch does not apply`,
    });
  }
  if (found.length === 0) {
    found.push({
      patch: patch.name,
      file: null,
      hunk: null,
      reason: 'malformed',
      detail: [...other, ...errors, ...patch.problems].join('\n') || `git apply failed (exit ${result.exitCode}) without saying why`,
    });
  }
  return found;
}

/**
 * git stops at the first failing hunk of a file; to list every one, apply the patch to a copy of
 * that file with --reject and read which hunks it rejected.
 */
async function rejectedHunks(patch: Patch, file: string, workDir: string, rejects: Scratch): Promise<Hunk[]> {
  const change = patch.files.find((candidate) => candidate.path === file || candidate.oldPath === file);
  if (!change) return [];
  for (const entry of await readdir(rejects.dir)) await rm(path.join(rejects.dir, entry), { recursive: true, force: true });
  for (const name of change.oldPath ? [change.oldPath, change.path] : [change.path]) {
    const content = await readIfExists(path.join(workDir, name));
    if (content !== undefined) await writeInto(rejects.dir, name, content);
  }
  const includes = [...new Set([change.path, change.oldPath].filter((name): name is string => !!name))].map((name) => `--include=${name}`);
  const result = await rejects.git(['apply', '--reject', '--verbose', '--whitespace=nowarn', ...includes, patch.file], {
    allowFailure: true,
  });
  const numbers = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map((line) => /^Rejected hunk #(\d+)\.$/.exec(line.trim()))
    .filter((match): match is RegExpExecArray => !!match)
    .map((match) => Number(match[1]));
  return numbers.map((n) => change.hunks[n - 1]).filter((hunk): hunk is Hunk => !!hunk);
}

/**
 * Which expected line the base lacks. git looks for the hunk at its line and at any offset; we find
 * the place where most of the hunk's lines match (nearest to the hunk's line on a tie) and name the
 * first line that differs there.
 */
function mismatchDetail(hunk: Hunk, change: FileChange | undefined, current: Buffer | undefined): string {
  const where = `Hunk #${(change?.hunks.indexOf(hunk) ?? -1) + 1} of ${change?.hunks.length ?? '?'} expects ${hunk.preimage.length} line${hunk.preimage.length === 1 ? '' : 's'} near line ${hunk.oldStart} that the base does not have, at that line or at any offset.`;
  if (current === undefined || hunk.preimage.length === 0) return where;
  const lines = current.toString('utf8').split('\n');
  const nominal = Math.max(0, hunk.oldStart - 1);
  let best = { start: nominal, matches: -1 };
  for (let start = 0; start < Math.max(1, lines.length); start++) {
    const matches = hunk.preimage.reduce((count, line, i) => count + (lines[start + i] === line ? 1 : 0), 0);
    if (matches > best.matches || (matches === best.matches && Math.abs(start - nominal) < Math.abs(best.start - nominal)))
      best = { start, matches };
  }
  const show = (text: string) => JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}...` : text);
  const offset = best.start - nominal;
  const at = offset === 0 ? `at line ${best.start + 1}` : `at line ${best.start + 1} (offset ${offset > 0 ? '+' : ''}${offset})`;
  for (let i = 0; i < hunk.preimage.length; i++) {
    const actual = lines[best.start + i];
    if (actual === hunk.preimage[i]) continue;
    return `${where}\nClosest match ${at}, ${best.matches} of ${hunk.preimage.length} lines equal; line ${best.start + i + 1}: the patch expects ${show(hunk.preimage[i]!)}, the base has ${actual === undefined ? 'no such line (the file is shorter)' : show(actual)}.`;
  }
  return where;
}

function lastMode(patches: Patch[], file: string): number | undefined {
  let mode: number | undefined;
  for (const patch of patches) for (const change of patch.files) if (change.path === file && change.mode !== undefined) mode = change.mode;
  return mode;
}

async function writeInto(dir: string, file: string, content: Buffer): Promise<void> {
  const target = path.join(dir, file);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, content);
}
