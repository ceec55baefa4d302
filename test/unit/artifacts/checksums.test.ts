import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertChecksums, formatChecksums, parseChecksums, verifyChecksums } from '../../../src/artifacts/checksums.js';
import { IntegrityError } from '../../../src/errors.js';
import { sha256 } from '../../../src/util/fs.js';
import { tempDir } from '../../support/artifacts.js';

describe('SHA256SUMS', () => {
  it('formats coreutils lines sorted by path in byte order', () => {
    const text = formatChecksums([
      { path: 'b.txt', sha256: sha256('b') },
      { path: 'A.txt', sha256: sha256('A') },
      { path: 'a.txt', sha256: sha256('a') },
    ]);
    expect(text).toBe(`${sha256('A')}  A.txt\n${sha256('a')}  a.txt\n${sha256('b')}  b.txt\n`);
  });

  it('parses what sha256sum writes, in text and binary mode', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'one'), 'one');
    await writeFile(path.join(dir, 'two'), 'two');
    const text =
      execFileSync('sha256sum', ['one'], { cwd: dir }).toString() + execFileSync('sha256sum', ['-b', 'two'], { cwd: dir }).toString();
    expect(parseChecksums(text)).toEqual([
      { path: 'one', sha256: sha256('one') },
      { path: 'two', sha256: sha256('two') },
    ]);
  });

  it('rejects a malformed line, naming the line', () => {
    expect(() => parseChecksums(`${sha256('x')}  ok\nnot a checksum line\n`, 'dist/SHA256SUMS')).toThrow(/dist\/SHA256SUMS, line 2/);
  });

  it('verification names every mismatching and every missing file', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'good'), 'good');
    await writeFile(path.join(dir, 'bad'), 'tampered');
    const entries = [
      { path: 'good', sha256: sha256('good') },
      { path: 'bad', sha256: sha256('bad') },
      { path: 'gone', sha256: sha256('gone') },
    ];
    const report = await verifyChecksums(dir, entries);
    expect(report).toMatchObject({
      ok: false,
      missing: ['gone'],
      mismatched: [{ path: 'bad', expected: sha256('bad'), actual: sha256('tampered') }],
    });
    const error = await assertChecksums(dir, entries, 'the dist dir').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as Error).message).toMatch(/bad .*gone \(missing\)/);
  });
});
