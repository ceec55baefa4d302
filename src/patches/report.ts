import path from 'node:path';
import type { PatchRepo } from './repos.js';
import { PatchConflictError } from '../errors.js';

/**
 * The one summary of everything that is wrong with a series at a base (CEF's model): each failing
 * patch once, with file, hunk and why, and what to do next. It is data first (`--json` prints it as
 * is) and rendered text second.
 */

export type ProblemReason = 'context-mismatch' | 'missing-file' | 'already-applied' | 'file-exists' | 'malformed';

export interface PatchProblem {
  patch: string;
  repo: PatchRepo;
  /** The file in the repo, or null when the problem is the patch as a whole (already applied, malformed). */
  file: string | null;
  /** The hunk's `@@ -a,b +c,d @@` line, when one hunk is at fault. */
  hunk: string | null;
  reason: ProblemReason;
  detail: string;
  /** An earlier patch in the series that failed on the same file: this failure may follow from it. */
  after?: string;
}

export interface ConflictReport {
  /** The series file. */
  series: string;
  /** What the patches were tried against, per repo ("quiche 1ba0d99a (Chromium 152.0.7977.83)"). */
  targets: Partial<Record<PatchRepo, string>>;
  /** Patch names in series order. */
  failed: string[];
  applied: string[];
  problems: PatchProblem[];
}

const REASON_TEXT: Record<ProblemReason, string> = {
  'context-mismatch': 'context mismatch',
  'missing-file': 'missing file',
  'already-applied': 'already applied',
  'file-exists': 'file already exists',
  malformed: 'malformed patch',
};

export interface RenderOptions {
  /** The version the user is building, for the rebase suggestion. */
  version?: string;
}

export function renderConflictReport(report: ConflictReport, options: RenderOptions = {}): string {
  const total = report.failed.length + report.applied.length;
  const where = Object.entries(report.targets)
    .map(([repo, label]) => (label?.startsWith(repo) ? label : `${repo}: ${label}`))
    .join('; ');
  const out: string[] = [
    `${report.failed.length} of ${total} patch${total === 1 ? '' : 'es'} in ${report.series} do${report.failed.length === 1 ? 'es' : ''} not apply to ${where || 'the base'}:`,
    '',
  ];
  for (const patch of report.failed) {
    const problems = report.problems.filter((problem) => problem.patch === patch);
    out.push(`  ${patch}${problems[0] ? ` (${problems[0].repo})` : ''}`);
    for (const problem of problems) {
      const location = [problem.file, problem.hunk].filter(Boolean).join(' ');
      out.push(`    ${REASON_TEXT[problem.reason]}${location ? ` in ${location}` : ''}`);
      for (const line of problem.detail.split('\n')) out.push(`      ${line}`);
      if (problem.after) out.push(`      (${problem.after} failed on this file before it: fix that one first)`);
    }
  }
  out.push('', 'What to do:');
  const seriesDir = path.dirname(report.series);
  const byReason = (reason: ProblemReason) => [...new Set(report.problems.filter((p) => p.reason === reason).map((p) => p.patch))];
  const toEdit = [...new Set([...byReason('context-mismatch'), ...byReason('missing-file'), ...byReason('file-exists')])];
  const plural = (names: string[], many: string, one: string) => (names.length > 1 ? many : one);
  if (toEdit.length) {
    out.push(
      `  - If the pin moved, run \`build-quiche patches rebase --to ${options.version ?? '<version>'}\`: it 3-way merges the series`,
      '    onto the new base, refreshes the patches that merge cleanly and lists those that need a hand.',
      `  - Otherwise edit ${listNames(toEdit)} in ${seriesDir} so ${plural(toEdit, 'their', 'its')} hunks match the base,`,
      '    then check with `build-quiche patches check`.',
    );
  }
  const applied = byReason('already-applied');
  if (applied.length) {
    out.push(
      `  - ${listNames(applied)} ${plural(applied, 'are', 'is')} already there (merged upstream, or a repeat of an earlier patch): remove ${plural(applied, 'them', 'it')} from ${report.series}.`,
    );
  }
  const malformed = byReason('malformed');
  if (malformed.length) {
    out.push(
      `  - ${listNames(malformed)} cannot be read as a patch: re-export ${plural(malformed, 'them', 'it')} with \`build-quiche patches export\` (hand edits must keep the hunk line counts right).`,
    );
  }
  return out.join('\n');
}

function listNames(names: string[]): string {
  const unique = [...new Set(names)];
  return unique.length <= 1 ? (unique[0] ?? 'the patch') : `${unique.slice(0, -1).join(', ')} and ${unique.at(-1)}`;
}

/** The error stages throw for a failed dry run: the rendered report as message, the report as data. */
export function conflictError(report: ConflictReport, options: RenderOptions = {}): PatchConflictError {
  return new PatchConflictError(renderConflictReport(report, options), {
    hint: `Nothing was changed. Try \`build-quiche patches rebase --to ${options.version ?? '<version>'}\` or edit the failing patch, then run again.`,
    data: report,
  });
}
