/**
 * A full disk during a build is a disk-full error (exit 8) naming the filesystem, whichever tool hit it:
 * the compiler, the assembler, the linker, ninja or CMake. Real tools writing into a real tmpfs that is
 * full (root only: mounting needs it; skipped with the reason otherwise).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompileError, DiskSpaceError, isBuildQuicheError, toBuildQuicheError } from '../../../src/errors.js';
import { diskFullFailure, filesystemOf, namingFilesystem } from '../../../src/process/disk-full.js';
import { exec } from '../../../src/process/exec.js';
import { build as ninjaBuild, throwIfFailed } from '../../../src/tools/builder.js';
import { build as cmakeBuild, configure as cmakeConfigure } from '../../../src/tools/cmake.js';
import { removeTempDirs, tempDir } from '../../../testkit/helpers.js';

const ROOT = process.getuid?.() === 0;
const SOURCE = `#include <map>
#include <string>
#include <vector>
std::map<std::string, std::vector<int>> table;
int add(int x) { table[std::string(x, 'a')].push_back(x); return static_cast<int>(table.size()); }
int main() { for (int i = 0; i < 1000; i++) add(i); return 0; }
`;

let work: string;
let full: string;

/** Fill the tmpfs at `full` until only `leaveKb` kB are free. */
function fill(leaveKb: number): void {
  execFileSync('rm', ['-f', path.join(full, 'filler')]);
  const freeKb = Math.floor(filesystemOf(full)!.freeBytes / 1024);
  execFileSync('dd', ['if=/dev/zero', `of=${path.join(full, 'filler')}`, 'bs=1k', `count=${Math.max(0, freeKb - leaveKb)}`], {
    stdio: 'ignore',
  });
}

beforeAll(async () => {
  work = await tempDir('bq-disk-full');
  await writeFile(path.join(work, 'big.cc'), SOURCE);
  if (!ROOT) return;
  full = path.join(work, 'full');
  await mkdir(full);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', full]);
});
afterAll(async () => {
  if (full) execFileSync('umount', ['-l', full]);
  await removeTempDirs();
});

describe('filesystemOf', () => {
  it('names the mount that holds a directory, with its free and total space', () => {
    const fs = filesystemOf(os.tmpdir())!;
    expect(fs.mount.startsWith('/')).toBe(true);
    expect(fs.totalBytes).toBeGreaterThan(0);
    expect(fs.freeBytes).toBeLessThanOrEqual(fs.totalBytes);
  });

  it('answers for a path that does not exist yet, from its nearest parent', () => {
    expect(filesystemOf(path.join(os.tmpdir(), 'not', 'there', 'yet'))?.mount).toBe(filesystemOf(os.tmpdir())?.mount);
  });
});

describe('namingFilesystem', () => {
  // What a stream's failed write throws: an ENOSPC with no path (the fault suite met one from a stage's log).
  const enospc = (extra: object = {}) => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', ...extra });

  it.skipIf(!ROOT)('names the filesystem and its free space for a bare ENOSPC from our own write', () => {
    fill(0);
    const named = namingFilesystem(toBuildQuicheError(enospc()), full);
    expect(named).toBeInstanceOf(DiskSpaceError);
    expect(named.exitCode).toBe(8);
    expect(named.message).toMatch(
      new RegExp(`^The disk is full: ENOSPC.*\\(${full} is on ${full} \\(tmpfs tmpfs\\): \\d+ kB free of 4\\.0 MB\\)$`),
    );
    expect(named.hint).toContain(`Free space on ${full}`);
  });

  it('takes the filesystem of the path the error names, when it names one', () => {
    const named = namingFilesystem(toBuildQuicheError(enospc({ path: path.join(os.tmpdir(), 'x', 'state.json') })), '/');
    expect((named.data as { writesTo: string }).writesTo).toBe(path.join(os.tmpdir(), 'x'));
  });

  it('leaves other errors, and a disk error that names its filesystem, as they are', () => {
    const other = toBuildQuicheError(new Error('boom'));
    expect(namingFilesystem(other, os.tmpdir())).toBe(other);
    const named = namingFilesystem(toBuildQuicheError(enospc()), os.tmpdir());
    expect(namingFilesystem(named, '/')).toBe(named);
  });
});

describe('diskFullFailure', () => {
  it('takes "No space left on device" at its word, whatever the free space', () => {
    const error = diskFullFailure(['/usr/bin/ld: final link failed: No space left on device'], os.tmpdir(), 'the link');
    expect(error).toBeInstanceOf(DiskSpaceError);
    expect(error!.exitCode).toBe(8);
    expect(error!.message).toContain(filesystemOf(os.tmpdir())!.mount);
  });

  it('does not call a bare write error a full disk when the filesystem has room', (ctx) => {
    // On a machine whose temp dir is nearly full itself the case cannot be shown: say so, do not pass.
    if (filesystemOf(os.tmpdir())!.freeBytes < 1024 ** 3) ctx.skip();
    expect(diskFullFailure(["x.s: Fatal error: can't write 31 bytes to section .text of x.o"], os.tmpdir(), 'the compile')).toBeUndefined();
    expect(diskFullFailure(['error: expected ; before }'], os.tmpdir(), 'the compile')).toBeUndefined();
    expect(diskFullFailure(["ar: unable to copy file 'libx.a'; reason: Success"], os.tmpdir(), 'the compile')).toBeUndefined();
  });
});

describe.skipIf(!ROOT)('on a full tmpfs', () => {
  it("calls the assembler's write error without a reason a full disk when the filesystem is full", () => {
    fill(4);
    const error = diskFullFailure(["/tmp/cc1.s: Fatal error: can't write 31 bytes to section .text of x.o"], full, 'the compile');
    expect(error).toBeInstanceOf(DiskSpaceError);
    expect(error!.message).toContain(`${full} (tmpfs tmpfs)`);
    expect(error!.message).toMatch(/\d+ kB free of 4\.0 MB/);
  });

  it('calls ar\'s short write ("reason: Success") a full disk when the filesystem is full', () => {
    fill(4);
    const line = "ar: unable to copy file 'obj/net/third_party/quiche/libquiche.a'; reason: Success";
    expect(diskFullFailure([line], full, 'the compile')).toBeInstanceOf(DiskSpaceError);
  });

  it('g++ writing its object into it: exec throws DiskSpaceError (exit 8) naming the mount', async () => {
    fill(8);
    const error = await exec('g++', ['-O1', '-c', path.join(work, 'big.cc'), '-o', path.join(full, 'big.o')], { writesTo: full }).catch(
      (e: unknown) => e,
    );
    expect(isBuildQuicheError(error) && error.exitCode, String(error)).toBe(8);
    expect((error as Error).message).toContain(full);
    expect((error as DiskSpaceError).hint).toContain(`Free space on ${full}`);
  });

  it('a ninja build whose out dir fills up: throwIfFailed throws DiskSpaceError, not a CompileError', async () => {
    fill(0);
    const out = path.join(full, 'out');
    execFileSync('rm', ['-f', path.join(full, 'filler')]);
    await mkdir(out, { recursive: true });
    await writeFile(
      path.join(out, 'build.ninja'),
      `rule cxx\n  command = g++ -O1 -c $in -o $out\nbuild big.o: cxx ${path.join(work, 'big.cc')}\nrule link\n  command = g++ $in -o $out\nbuild big: link big.o\ndefault big\n`,
    );
    fill(6);
    const built = await ninjaBuild({ exec, command: 'ninja', outDir: out, targets: ['big'], jobs: 1, env: {}, onProgress: () => {} });
    expect(built.result.exitCode).not.toBe(0);
    let thrown: unknown;
    try {
      throwIfFailed(built, 'ninja');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DiskSpaceError);
    expect(thrown).not.toBeInstanceOf(CompileError);
    expect((thrown as Error).message).toContain(full);
  });

  it('a CMake build whose build dir fills up: exit 8 naming the mount', async () => {
    fill(0);
    execFileSync('rm', ['-rf', path.join(full, 'filler'), path.join(full, 'out')]);
    const source = path.join(work, 'cmake-project');
    await mkdir(source, { recursive: true });
    await writeFile(
      path.join(source, 'CMakeLists.txt'),
      'cmake_minimum_required(VERSION 3.16)\nproject(big CXX)\nadd_executable(big big.cc)\n',
    );
    await writeFile(path.join(source, 'big.cc'), SOURCE);
    const buildDir = path.join(full, 'cmake-build');
    await cmakeConfigure(['-S', source, '-B', buildDir, '-G', 'Ninja']);
    fill(6);
    const error = await cmakeBuild(buildDir).catch((e: unknown) => e);
    expect(isBuildQuicheError(error) && error.exitCode, String(error)).toBe(8);
    expect((error as Error).message).toContain(full);
  });
});
