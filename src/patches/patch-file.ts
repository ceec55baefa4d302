import { QUICHE_PATH_IN_SRC } from '../chromium/layout.js';
import type { PatchRepo } from './repos.js';
import { ConfigError } from '../errors.js';
import { sha256 } from '../util/fs.js';

/**
 * One patch file: `git format-patch` output (mbox headers, RFC 2047 subjects, git's C-quoted paths,
 * hunks) or a bare `git diff`, parsed into the subject, the file changes and their hunks.
 */

export interface Hunk {
  /** The `@@ -a,b +c,d @@ section` line as it appears in the patch. */
  header: string;
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** The lines the hunk expects in the file (context and removals), for mismatch explanations. */
  preimage: string[];
}

export type FileChangeKind = 'modify' | 'add' | 'delete' | 'rename' | 'copy';

export interface FileChange {
  kind: FileChangeKind;
  /** The path after the patch (for a delete: the deleted path). Relative to the repo root. */
  path: string;
  /** The path before the patch when it differs (rename, copy). */
  oldPath?: string;
  /** File mode the patch sets (new file, or a mode change), e.g. 0o755. */
  mode?: number;
  binary: boolean;
  hunks: Hunk[];
}

export interface Patch {
  /** File name as listed in the series (relative to the series directory). */
  name: string;
  /** Absolute path of the patch file. */
  file: string;
  repo: PatchRepo;
  subject: string;
  description: string;
  author: string | undefined;
  /** sha256 of the file's bytes. */
  sha256: string;
  files: FileChange[];
  /** Structural problems the parser noticed (hunk line counts that do not add up, ...). */
  problems: string[];
}

/** Every path a patch reads or writes in its repo: new paths and, for renames and copies, old ones. */
export function touchedPaths(patch: Patch): string[] {
  const paths = patch.files.flatMap((change) => (change.oldPath ? [change.oldPath, change.path] : [change.path]));
  return [...new Set(paths)];
}

/** Parse one patch file (git format-patch, or a bare `git diff` with `diff --git` headers). */
export function parsePatch(content: Buffer, where: { name: string; file: string; repo: PatchRepo }): Patch {
  const text = content.toString('utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const firstDiff = lines.findIndex((line) => line.startsWith('diff --git '));
  if (firstDiff < 0) {
    throw new ConfigError(`${where.file} is not a patch: it has no "diff --git" section.`, {
      hint: 'Patches are git format-patch files; make them with `build-quiche patches export` or `git format-patch`.',
    });
  }
  const { subject, description, author } = parseMessage(lines.slice(0, firstDiff), where.name);
  const problems: string[] = [];
  const files = parseDiffs(lines.slice(firstDiff), firstDiff, problems);
  for (const change of files) {
    for (const file of change.oldPath ? [change.oldPath, change.path] : [change.path]) {
      const unsafe = unsafePathReason(file, where.repo);
      if (unsafe) {
        throw new ConfigError(`${where.file} touches "${file}", ${unsafe}.`, {
          hint:
            where.repo === 'src' && file.startsWith(`${QUICHE_PATH_IN_SRC}/`)
              ? `quiche is its own repo: make the paths relative to quiche's root and list the patch with repo=quiche.`
              : 'Patch paths are relative to the repo root (quiche: quiche/quic/...; src: net/...).',
        });
      }
    }
  }
  return { ...where, subject, description, author, sha256: sha256(content), files, problems };
}

function unsafePathReason(file: string, repo: PatchRepo): string | undefined {
  const parts = file.split('/');
  if (file.startsWith('/') || parts.includes('..') || parts.includes('')) return 'which is not a plain path inside the repo';
  if (parts.includes('.git')) return 'which is inside .git';
  if (repo === 'src' && (file === QUICHE_PATH_IN_SRC || file.startsWith(`${QUICHE_PATH_IN_SRC}/`))) {
    return 'which belongs to the quiche repo, not src';
  }
  return undefined;
}

/** Subject (without the [PATCH ...] prefix), description and author from the mail header and body. */
function parseMessage(lines: string[], name: string): { subject: string; description: string; author: string | undefined } {
  const headers = new Map<string, string>();
  let index = 0;
  if (lines[0]?.startsWith('From ')) index = 1;
  let last: string | undefined;
  for (; index < lines.length; index++) {
    const line = lines[index]!;
    if (line === '') break;
    if (/^\s/.test(line) && last) {
      headers.set(last, `${headers.get(last)} ${line.trim()}`);
      continue;
    }
    const match = /^([\w-]+):\s?(.*)$/.exec(line);
    if (!match) break;
    last = match[1]!.toLowerCase();
    headers.set(last, match[2]!);
  }
  const rawSubject = headers.get('subject');
  if (rawSubject === undefined) {
    // A bare diff: everything before the first diff is the description.
    const description = lines.join('\n').trim();
    return { subject: name.replace(/\.(patch|diff)$/, '').replace(/^\d+-/, ''), description, author: undefined };
  }
  const subject = decodeMimeWords(rawSubject)
    .replace(/^\[[^\]]*PATCH[^\]]*\]\s*/i, '')
    .trim();
  const body = lines.slice(index + 1);
  // format-patch ends the message with '---' before the (optional) diffstat.
  const separator = body.findIndex((line) => line === '---');
  const description = (separator >= 0 ? body.slice(0, separator) : body).join('\n').trim();
  const from = headers.get('from');
  return { subject, description, author: from === undefined ? undefined : decodeMimeWords(from) };
}

/** RFC 2047 encoded words, as format-patch writes non-ASCII subjects (=?UTF-8?q?...?=), folded or not. */
function decodeMimeWords(value: string): string {
  const word = /=\?([^?]+)\?([qQbB])\?([^?]*)\?=/g;
  // Whitespace between two encoded words is folding, not text; a character may span two words.
  return value.replace(/(?:=\?[^?]+\?[qQbB]\?[^?]*\?=\s*)+/g, (run) => {
    const trailing = /\s*$/.exec(run)![0];
    const bytes: Buffer[] = [];
    for (const [, , encoding, data] of run.matchAll(word)) {
      if (encoding!.toLowerCase() === 'b') bytes.push(Buffer.from(data!, 'base64'));
      else
        bytes.push(
          Buffer.from(
            data!.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
            'latin1',
          ),
        );
    }
    return Buffer.concat(bytes).toString('utf8') + trailing;
  });
}

/** A git path as written in headers: plain, or C-quoted ("a/caf\303\251.cc"). */
function unquote(raw: string): string {
  const value = raw.replace(/\t.*$/, '');
  if (!value.startsWith('"')) return value;
  const bytes: number[] = [];
  const escapes: Record<string, number> = { n: 10, t: 9, '"': 34, '\\': 92, a: 7, b: 8, f: 12, r: 13, v: 11 };
  for (let i = 1; i < value.length - 1; i++) {
    const char = value[i]!;
    if (char !== '\\') {
      bytes.push(...Buffer.from(char, 'utf8'));
      continue;
    }
    const next = value[++i]!;
    if (/[0-7]/.test(next)) {
      bytes.push(parseInt(value.slice(i, i + 3), 8));
      i += 2;
    } else {
      bytes.push(escapes[next] ?? next.charCodeAt(0));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

const stripPrefix = (file: string) => file.replace(/^[ab]\//, '');

/** The two paths of `diff --git a/X b/Y` when there is no ---/+++ or rename line to read them from. */
function pathsFromDiffLine(rest: string): [string, string] | undefined {
  if (rest.startsWith('"')) {
    const match = /^("(?:[^"\\]|\\.)*")\s+(.*)$/.exec(rest);
    return match ? [stripPrefix(unquote(match[1]!)), stripPrefix(unquote(match[2]!))] : undefined;
  }
  // Unquoted and symmetric ("a/P b/P"): split in the middle.
  const half = (rest.length - 1) / 2;
  if (Number.isInteger(half) && rest[half] === ' ') {
    const [a, b] = [rest.slice(0, half), rest.slice(half + 1)];
    if (stripPrefix(a) === stripPrefix(b)) return [stripPrefix(a), stripPrefix(b)];
  }
  const match = /^(\S+)\s+(\S+)$/.exec(rest);
  return match ? [stripPrefix(match[1]!), stripPrefix(match[2]!)] : undefined;
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

function parseDiffs(lines: string[], offset: number, problems: string[]): FileChange[] {
  const changes: FileChange[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (!line.startsWith('diff --git ')) {
      i++;
      continue;
    }
    const fromDiffLine = pathsFromDiffLine(line.slice('diff --git '.length));
    let oldPath = fromDiffLine?.[0];
    let newPath = fromDiffLine?.[1];
    let kind: FileChangeKind = 'modify';
    let mode: number | undefined;
    let binary = false;
    const hunks: Hunk[] = [];
    i++;
    for (; i < lines.length && !lines[i]!.startsWith('diff --git '); i++) {
      const header = lines[i]!;
      let match: RegExpExecArray | null;
      if ((match = /^new file mode (\d+)/.exec(header))) {
        kind = 'add';
        mode = parseInt(match[1]!, 8) & 0o777;
      } else if (header.startsWith('deleted file mode ')) {
        kind = 'delete';
      } else if ((match = /^new mode (\d+)/.exec(header))) {
        mode = parseInt(match[1]!, 8) & 0o777;
      } else if ((match = /^(rename|copy) from (.*)$/.exec(header))) {
        kind = match[1] as 'rename' | 'copy';
        oldPath = unquote(match[2]!);
      } else if ((match = /^(?:rename|copy) to (.*)$/.exec(header))) {
        newPath = unquote(match[1]!);
      } else if ((match = /^--- (.*)$/.exec(header))) {
        if (match[1] !== '/dev/null') oldPath = stripPrefix(unquote(match[1]!));
      } else if ((match = /^\+\+\+ (.*)$/.exec(header))) {
        if (match[1] !== '/dev/null') newPath = stripPrefix(unquote(match[1]!));
      } else if (header.startsWith('GIT binary patch') || header.startsWith('Binary files ')) {
        binary = true;
      } else if ((match = HUNK_HEADER.exec(header))) {
        const hunk: Hunk = {
          header: header.trimEnd(),
          oldStart: Number(match[1]),
          oldLines: match[2] === undefined ? 1 : Number(match[2]),
          newStart: Number(match[3]),
          newLines: match[4] === undefined ? 1 : Number(match[4]),
          preimage: [],
        };
        i = readHunkBody(lines, i + 1, hunk, offset, problems) - 1;
        hunks.push(hunk);
      }
    }
    const file = kind === 'delete' ? oldPath : newPath;
    if (!file) {
      problems.push(`line ${offset + 1}: a diff without file names`);
      continue;
    }
    const change: FileChange = { kind, path: file, binary, hunks };
    if ((kind === 'rename' || kind === 'copy') && oldPath && oldPath !== file) change.oldPath = oldPath;
    if (mode !== undefined) change.mode = mode;
    changes.push(change);
  }
  return changes;
}

/** Consume a hunk's lines by its counts; returns the index after it. Miscounts are recorded as problems. */
function readHunkBody(lines: string[], start: number, hunk: Hunk, offset: number, problems: string[]): number {
  let oldLeft = hunk.oldLines;
  let newLeft = hunk.newLines;
  let i = start;
  while (i < lines.length && (oldLeft > 0 || newLeft > 0)) {
    const line = lines[i]!;
    const marker = line[0];
    if (marker === ' ' || line === '') {
      hunk.preimage.push(line.slice(1));
      oldLeft--;
      newLeft--;
    } else if (marker === '-') {
      hunk.preimage.push(line.slice(1));
      oldLeft--;
    } else if (marker === '+') {
      newLeft--;
    } else if (marker !== '\\') {
      break;
    }
    i++;
  }
  if (lines[i]?.startsWith('\\')) i++;
  if (oldLeft !== 0 || newLeft !== 0) {
    problems.push(
      `line ${offset + start}: hunk ${hunk.header} has ${hunk.oldLines - oldLeft} old and ${hunk.newLines - newLeft} new lines, its header says ${hunk.oldLines} and ${hunk.newLines}`,
    );
  }
  return i;
}
