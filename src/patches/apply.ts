import { stat } from 'node:fs/promises';
import path from 'node:path';
import { headCommit, showFile } from '../tools/git.js';
import type { Exec } from '../process/exec.js';
import { PATCH_REPOS, type PatchRepo, type RepoState } from './repos.js';
import { IntegrityError, NotFoundError } from '../errors.js';
import { readIfExists, sha256, sha256OrNull } from '../util/fs.js';
import { dryRunSeries } from './dry-run.js';
import { emptyLedger, foreignEditsError, readLedger, writeLedger, type ForeignFile, type Ledger, type LedgerFile } from './ledger.js';
import { conflictError } from './report.js';
import { patchsetId, seriesRepos, seriesSummary, type Series } from './series.js';
import { removeFile, setMode, sweepTempFiles, writeFileKeepingMode } from './write.js';

/**
 * Applying a series to a checkout without ever leaving it half patched: the final content of every
 * affected file is computed first (a dry run against the repo's HEAD), foreign edits stop the run
 * before anything is written, and then only files whose content must change are written, each
 * atomically. Files that already hold their final content are not touched, so their mtimes stay
 * and the build rebuilds nothing for them.
 */

/** One file the apply is about to change; stored in the stage's guard before the first write. */
export interface PlannedWrite {
  repo: PatchRepo;
  root: string;
  path: string;
  baseCommit: string;
  baseSha256: string | null;
  /** What is on disk before the write. */
  beforeSha256: string | null;
  finalSha256: string | null;
}

export interface ApplyOptions {
  series: Series;
  /** Work trees to patch (CheckoutOutput.repos). */
  repos: Partial<Record<PatchRepo, RepoState>>;
  ledgerFile: string;
  exec?: Exec;
  tmpDir?: string;
  /** Called with every planned write before the first one (the stage persists them in its guard). */
  beforeWrite?: (writes: PlannedWrite[]) => Promise<void>;
  /** The pin, for the conflict report's suggestion. */
  version?: string;
}

export interface ApplyResult {
  patchset: string;
  ledger: Ledger;
  /** Files whose content changed on disk in this run (including files restored to base). */
  written: PlannedWrite[];
  /** Affected files that already held their final content and were left alone. */
  unchanged: string[];
  /** Things the user should know (e.g. a ledger for another work tree was ignored). */
  notes: string[];
}

interface Affected {
  repo: PatchRepo;
  root: string;
  baseCommit: string;
  path: string;
  base: Buffer | undefined;
  final: Buffer | undefined;
  mode: number | undefined;
  patches: string[];
  /** What the last run recorded writing here, if anything. */
  previous: LedgerFile | undefined;
}

const key = (repo: PatchRepo, file: string) => `${repo}\0${file}`;
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export async function applySeries(options: ApplyOptions): Promise<ApplyResult> {
  const { series } = options;
  const notes: string[] = [];
  const prior = (await readLedger(options.ledgerFile)) ?? emptyLedger();
  const roots = await repoRoots(options, prior, notes);

  const dryRun = await dryRunSeries(series, (repo, file) => showFile(roots[repo]!.path, roots[repo]!.commit, file), {
    exec: options.exec,
    tmpDir: options.tmpDir,
    targets: Object.fromEntries(seriesRepos(series).map((repo) => [repo, `${repo} ${roots[repo]!.commit.slice(0, 12)} (the checkout)`])),
  });
  if (!dryRun.ok) throw conflictError(dryRun.report, { version: options.version });

  const affected = new Map<string, Affected>();
  for (const file of dryRun.files) {
    const root = roots[file.repo]!;
    const previous =
      prior.repos[file.repo]?.root === root.path ? prior.repos[file.repo]!.files.find((entry) => entry.path === file.path) : undefined;
    affected.set(key(file.repo, file.path), { ...file, root: root.path, baseCommit: root.commit, final: file.result, previous });
  }
  for (const repo of PATCH_REPOS) {
    const record = prior.repos[repo];
    if (!record || record.root !== roots[repo]?.path) continue;
    for (const previous of record.files) {
      if (affected.has(key(repo, previous.path))) continue;
      // Patched last time, not by this series: back to base.
      const base = await showFile(record.root, roots[repo].commit, previous.path);
      affected.set(key(repo, previous.path), {
        repo,
        root: record.root,
        baseCommit: roots[repo].commit,
        path: previous.path,
        base,
        final: base,
        mode: undefined,
        patches: [],
        previous,
      });
    }
  }
  const files = [...affected.values()].sort((a, b) => compare(a.repo, b.repo) || compare(a.path, b.path));

  const writes: Array<{ file: Affected; planned: PlannedWrite }> = [];
  const modeOnly: Affected[] = [];
  const unchanged: string[] = [];
  const foreign: ForeignFile[] = [];
  for (const file of files) {
    const absPath = path.join(file.root, file.path);
    const onDisk = await readForCompare(absPath);
    const diskHash = onDisk === 'not-a-file' ? 'not-a-file' : sha256OrNull(onDisk);
    const [baseHash, finalHash] = [sha256OrNull(file.base), sha256OrNull(file.final)];
    const known = [baseHash, finalHash, ...(file.previous ? [file.previous.resultSha256] : [])];
    if (!known.includes(diskHash)) {
      foreign.push({ repo: file.repo, root: file.root, path: file.path });
    } else if (diskHash !== finalHash) {
      writes.push({
        file,
        planned: {
          repo: file.repo,
          root: file.root,
          path: file.path,
          baseCommit: file.baseCommit,
          baseSha256: baseHash,
          beforeSha256: diskHash,
          finalSha256: finalHash,
        },
      });
    } else {
      unchanged.push(absPath);
      if (file.final !== undefined && file.mode !== undefined && ((await stat(absPath)).mode & 0o777) !== file.mode) modeOnly.push(file);
    }
  }
  if (foreign.length) throw foreignEditsError(foreign, 'apply the patches');

  if (writes.length) await options.beforeWrite?.(writes.map(({ planned }) => planned));
  // No abort checks from here: a few small writes are better finished than left half done (a kill
  // is what the guard and repairInterruptedApply are for).
  for (const { file } of writes) {
    const absPath = path.join(file.root, file.path);
    if (file.final === undefined) await removeFile(absPath, file.root);
    else await writeFileKeepingMode(absPath, file.final, file.mode);
  }
  for (const file of modeOnly) await setMode(path.join(file.root, file.path), file.mode!);

  const ledger: Ledger = {
    schema: 1,
    patchset: patchsetId(series),
    series: series.file,
    patches: seriesSummary(series),
    repos: {},
  };
  for (const file of files) {
    if (sha256OrNull(file.base) === sha256OrNull(file.final)) continue;
    const record = (ledger.repos[file.repo] ??= { root: file.root, baseCommit: file.baseCommit, files: [] });
    record.files.push({
      path: file.path,
      baseSha256: sha256OrNull(file.base),
      resultSha256: sha256OrNull(file.final),
      patches: file.patches,
    });
  }
  await writeLedger(options.ledgerFile, ledger);
  return { patchset: ledger.patchset, ledger, written: writes.map(({ planned }) => planned), unchanged, notes };
}

/** Work tree and actual HEAD of every repo the series or the last ledger involves. */
async function repoRoots(options: ApplyOptions, prior: Ledger, notes: string[]): Promise<Partial<Record<PatchRepo, RepoState>>> {
  const roots: Partial<Record<PatchRepo, RepoState>> = {};
  const needed = new Set<PatchRepo>(seriesRepos(options.series));
  for (const repo of PATCH_REPOS) {
    const record = prior.repos[repo];
    if (!record?.files.length) continue;
    if (options.repos[repo]?.path === record.root) needed.add(repo);
    else
      notes.push(
        `The last patch run recorded changes in ${record.root}, which is not the ${repo} work tree now; those files were left alone.`,
      );
  }
  for (const repo of needed) {
    const given = options.repos[repo];
    if (!given)
      throw new NotFoundError(`The series patches ${repo}, but the checkout has no ${repo} repo.`, {
        hint: 'Run the checkout stage first: build-quiche build --until checkout',
      });
    const commit = await headCommit(given.path);
    if (!commit)
      throw new NotFoundError(`${given.path} is not a git work tree with a commit.`, {
        hint: 'Run the checkout stage again: build-quiche build --from checkout',
      });
    roots[repo] = { path: given.path, commit };
  }
  return roots;
}

/** Content for comparison; a directory or other non-file where a file should be is never ours. */
async function readForCompare(file: string): Promise<Buffer | undefined | 'not-a-file'> {
  try {
    return await readIfExists(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') return 'not-a-file';
    throw error;
  }
}

/**
 * After a run died while writing: put every file it meant to change back to base (sweeping temp
 * files), drop them from the ledger, and let the normal run re-apply. A file in none of the states
 * the run could have left (base, before, final) was edited since: refuse rather than clobber it.
 */
export async function repairInterruptedApply(writes: PlannedWrite[], ledgerFile: string): Promise<{ restored: string[] }> {
  const foreign: ForeignFile[] = [];
  const toRestore: Array<{ write: PlannedWrite; absPath: string; base: Buffer | undefined }> = [];
  for (const write of writes) {
    const absPath = path.join(write.root, write.path);
    await sweepTempFiles(absPath);
    const onDisk = await readForCompare(absPath);
    const diskHash = onDisk === 'not-a-file' ? 'not-a-file' : sha256OrNull(onDisk);
    if (![write.baseSha256, write.beforeSha256, write.finalSha256].includes(diskHash)) {
      foreign.push({ repo: write.repo, root: write.root, path: write.path });
      continue;
    }
    if (diskHash === write.baseSha256) continue;
    const base = write.baseSha256 === null ? undefined : await showFile(write.root, write.baseCommit, write.path);
    if (write.baseSha256 !== null && (base === undefined || sha256(base) !== write.baseSha256)) {
      throw new IntegrityError(`Cannot repair ${absPath}: its base content is not at ${write.baseCommit.slice(0, 12)}.`, {
        hint: `Restore it by hand (git -C ${write.root} checkout -- ${write.path}), then run again.`,
      });
    }
    toRestore.push({ write, absPath, base });
  }
  if (foreign.length) throw foreignEditsError(foreign, 'repair the interrupted patch run');
  for (const { write, absPath, base } of toRestore) {
    if (base === undefined) await removeFile(absPath, write.root);
    else await writeFileKeepingMode(absPath, base);
  }
  const ledger = await readLedger(ledgerFile);
  if (ledger) {
    for (const write of writes) {
      const record = ledger.repos[write.repo];
      if (record?.root === write.root) record.files = record.files.filter((file) => file.path !== write.path);
    }
    await writeLedger(ledgerFile, ledger);
  }
  return { restored: toRestore.map(({ absPath }) => absPath) };
}

/** true when every file the ledger records holds exactly the recorded result; else why not. */
export async function verifyLedger(ledgerFile: string, patchset: string): Promise<true | string> {
  const ledger = await readLedger(ledgerFile).catch((error: Error) => error);
  if (ledger instanceof Error) return ledger.message;
  if (!ledger) return `the applied-patches ledger ${ledgerFile} is missing`;
  if (ledger.patchset !== patchset) return `the ledger records patchset ${ledger.patchset}, not ${patchset}`;
  for (const [repo, record] of Object.entries(ledger.repos)) {
    for (const file of record.files) {
      const content = await readForCompare(path.join(record.root, file.path));
      if (content === 'not-a-file' || sha256OrNull(content) !== file.resultSha256)
        return `${file.path} (${repo}) is not what the patches wrote`;
    }
  }
  return true;
}
