import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { IntegrityError } from '../errors.js';
import { pathExists, sha256File, writeFileAtomic } from '../util/fs.js';
import { compareBytes } from './manifest.js';

/**
 * SHA256SUMS in the coreutils format (`<hex>  <path>`, one a line, sorted by path), so
 * `sha256sum -c SHA256SUMS` works next to our own verification.
 */

export const SUMS_FILE = 'SHA256SUMS';

export interface ChecksumEntry {
  path: string;
  sha256: string;
}

export interface ChecksumReport {
  ok: boolean;
  /** Listed files whose content hashes differently. */
  mismatched: { path: string; expected: string; actual: string }[];
  /** Listed files that are absent (or not regular files). */
  missing: string[];
}

function assertWritablePath(file: string): void {
  // coreutils escapes these with a leading backslash; we never produce such names, so refuse them.
  if (!file || /[\n\r\\]/.test(file)) throw new IntegrityError(`Cannot list ${JSON.stringify(file)} in ${SUMS_FILE}.`);
}

export function formatChecksums(entries: readonly ChecksumEntry[]): string {
  const byPath = new Map<string, string>();
  for (const entry of entries) {
    assertWritablePath(entry.path);
    byPath.set(entry.path, entry.sha256);
  }
  return [...byPath.keys()]
    .sort(compareBytes)
    .map((file) => `${byPath.get(file)}  ${file}\n`)
    .join('');
}

/** Parse SHA256SUMS text; `source` names the file in errors. Accepts text (`  `) and binary (` *`) mode lines. */
export function parseChecksums(text: string, source = SUMS_FILE): ChecksumEntry[] {
  const entries: ChecksumEntry[] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const match = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
    if (!match) {
      throw new IntegrityError(`${source}, line ${index + 1}: not a "<sha256>  <file>" line.`, {
        hint: 'The checksum file is damaged; download it again.',
      });
    }
    const file = match[2] as string;
    if (seen.has(file)) throw new IntegrityError(`${source} lists ${file} twice.`);
    seen.add(file);
    entries.push({ path: file, sha256: (match[1] as string).toLowerCase() });
  });
  return entries;
}

export async function readChecksums(file: string): Promise<ChecksumEntry[]> {
  return parseChecksums(await readFile(file, 'utf8'), file);
}

export async function writeChecksums(file: string, entries: readonly ChecksumEntry[]): Promise<void> {
  await writeFileAtomic(file, formatChecksums(entries));
}

/**
 * Add or replace entries in a SHA256SUMS file, keeping the others. Entries whose file no longer
 * sits next to the sums file are dropped, so `sha256sum -c` keeps passing after a tarball is deleted.
 */
export async function mergeChecksums(file: string, entries: readonly ChecksumEntry[]): Promise<ChecksumEntry[]> {
  const existing = (await pathExists(file)) ? await readChecksums(file) : [];
  const updated = new Set(entries.map((entry) => entry.path));
  const kept: ChecksumEntry[] = [];
  for (const entry of existing) {
    if (updated.has(entry.path)) continue;
    if (await pathExists(path.join(path.dirname(file), entry.path))) kept.push(entry);
  }
  const merged = [...kept, ...entries];
  await writeChecksums(file, merged);
  return parseChecksums(formatChecksums(merged));
}

/** Hash every listed file under `dir`; the report names each mismatching and each missing file. */
export async function verifyChecksums(dir: string, entries: readonly ChecksumEntry[]): Promise<ChecksumReport> {
  const report: ChecksumReport = { ok: true, mismatched: [], missing: [] };
  for (const entry of entries) {
    const file = path.join(dir, entry.path);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      report.missing.push(entry.path);
      continue;
    }
    const actual = await sha256File(file);
    if (actual !== entry.sha256) report.mismatched.push({ path: entry.path, expected: entry.sha256, actual });
  }
  report.ok = report.mismatched.length === 0 && report.missing.length === 0;
  return report;
}

/** Describe a failed report in one sentence naming every bad file. */
export function describeChecksumReport(report: ChecksumReport): string {
  const parts = [
    ...report.mismatched.map((m) => `${m.path} (sha256 ${m.actual.slice(0, 12)}…, expected ${m.expected.slice(0, 12)}…)`),
    ...report.missing.map((file) => `${file} (missing)`),
  ];
  return parts.join(', ');
}

/** verifyChecksums, throwing an IntegrityError that names every bad file. `what` says what was checked. */
export async function assertChecksums(dir: string, entries: readonly ChecksumEntry[], what: string): Promise<void> {
  const report = await verifyChecksums(dir, entries);
  if (report.ok) return;
  throw new IntegrityError(`${what} failed verification: ${describeChecksumReport(report)}.`, {
    hint: 'The files were changed or damaged after they were made. Get a fresh copy of the artifact.',
    data: report,
  });
}
