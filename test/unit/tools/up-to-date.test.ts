import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { proveUpToDate, saveSnapshot, snapshotBuild, startBuild, type UpToDateSubject } from '../../../src/tools/up-to-date.js';

// A small ninja project shaped like gn's: a compile with deps = gcc whose header is known only from
// the deps log, a stamp, a link, gn's regeneration edge with its depfile, and a phony target label.
const BUILD_NINJA = `rule gn
  command = touch build.ninja.stamp
  generator = 1
build build.ninja.stamp: gn
  depfile = build.ninja.d
build build.ninja: phony build.ninja.stamp
subninja toolchain.ninja
build tools$:prog: phony ./prog
`;
const TOOLCHAIN = (flag: string) => `rule cc
  command = cat $in ../../src/inc.h > $out && echo ${flag} >> $out && printf '%s: %s ../../src/inc.h\\n' $out $in > $out.d
  depfile = $out.d
  deps = gcc
rule link
  command = cat $in > $out
rule stamp
  command = touch $out
build obj/a.o: cc ../../src/a.c || obj/gen.stamp
build obj/gen.stamp: stamp ../../src/BUILD.gn
build ./prog: link obj/a.o
`;

let root = '';
let out = '';
let snapshotFile = '';
const subject = (): UpToDateSubject => ({ outDir: out, key: 'k', targets: ['tools:prog'], binaries: [] });
const ninja = (...args: string[]) => execFileSync('ninja', ['-C', out, ...args], { encoding: 'utf8' });
const ninjaHasWork = () => !/no work to do/.test(ninja('-n', 'tools:prog'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Builds, then records the snapshot as the compile stage does after a build. */
async function buildAndRecord(): Promise<void> {
  const started = await startBuild(snapshotFile);
  ninja('tools:prog');
  const snapshot = await snapshotBuild(subject(), started);
  if (typeof snapshot === 'string') throw new Error(snapshot);
  await saveSnapshot(snapshotFile, snapshot);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'bq-up-to-date-'));
  out = join(root, 'out', 'Release');
  snapshotFile = join(root, 'snapshot.json');
  await mkdir(out, { recursive: true });
  await mkdir(join(root, 'src'));
  await writeFile(join(root, 'src', 'a.c'), 'int a;\n');
  await writeFile(join(root, 'src', 'inc.h'), '#define A 1\n');
  await writeFile(join(root, 'src', 'BUILD.gn'), '# gn\n');
  await writeFile(join(out, 'build.ninja'), BUILD_NINJA);
  await writeFile(join(out, 'toolchain.ninja'), TOOLCHAIN('-O2'));
  await writeFile(join(out, 'build.ninja.d'), 'build.ninja.stamp: ../../src/BUILD.gn ./args.gn\n');
  await writeFile(join(out, 'args.gn'), 'is_debug = false\n');
  ninja('build.ninja.stamp');
  // Sources older than the build that follows (the snapshot refuses files changed while it ran).
  await sleep(30);
});
afterEach(() => rm(root, { recursive: true, force: true }));

describe('the up-to-date snapshot', () => {
  it('proves a finished build up to date, as ninja -n agrees', async () => {
    await buildAndRecord();
    expect(ninjaHasWork()).toBe(false);
    expect(await proveUpToDate(snapshotFile, subject())).toBe(true);
    const record = JSON.parse(await readFile(snapshotFile, 'utf8')) as { dirs: Array<[string, string[]]> };
    const files = record.dirs.flatMap(([dir, names]) => names.map((n) => join(dir, n)));
    // The header is known only from the deps log; the manifests, gn's depfile inputs and the logs are in.
    for (const file of ['src/inc.h', 'src/a.c', 'src/BUILD.gn', 'out/Release/args.gn', 'out/Release/obj/a.o', 'out/Release/prog']) {
      expect(files).toContain(join(root, file));
    }
    expect(files).toContain(join(out, 'toolchain.ninja'));
    expect(files).toContain(join(out, '.ninja_deps'));
  });

  it('a touched header (known only from the deps log) is not proven; ninja has work', async () => {
    await buildAndRecord();
    const later = new Date(Date.now() + 5000);
    await utimes(join(root, 'src', 'inc.h'), later, later);
    expect(await proveUpToDate(snapshotFile, subject())).toBe('../../src/inc.h changed');
    expect(ninjaHasWork()).toBe(true);
  });

  it('a deleted object is not proven; ninja has work', async () => {
    await buildAndRecord();
    await unlink(join(out, 'obj', 'a.o'));
    expect(await proveUpToDate(snapshotFile, subject())).toBe('obj/a.o changed');
    expect(ninjaHasWork()).toBe(true);
  });

  it('a changed flag is not proven even with the manifest mtime put back (ctime); ninja has work', async () => {
    await buildAndRecord();
    const before = await stat(join(out, 'toolchain.ninja'));
    await writeFile(join(out, 'toolchain.ninja'), TOOLCHAIN('-O1'));
    await utimes(join(out, 'toolchain.ninja'), before.atime, before.mtime);
    expect(await proveUpToDate(snapshotFile, subject())).toBe('toolchain.ninja changed');
    expect(ninjaHasWork()).toBe(true);
  });

  it('a changed gn input (args.gn via build.ninja.d) is not proven', async () => {
    await buildAndRecord();
    await writeFile(join(out, 'args.gn'), 'is_debug = true\n');
    expect(await proveUpToDate(snapshotFile, subject())).toBe('args.gn changed');
  });

  it('proves nothing for another build (builder, out dir or targets) or other binaries', async () => {
    await buildAndRecord();
    expect(await proveUpToDate(snapshotFile, { ...subject(), key: 'other' })).toMatch(/another build/);
    expect(await proveUpToDate(snapshotFile, { ...subject(), binaries: [{ path: join(out, 'prog'), sha256: 'x' }] })).toMatch(/binaries/);
    expect(await proveUpToDate(join(root, 'none.json'), subject())).toMatch(/no snapshot/);
  });

  it('takes no snapshot when a source changed while the build ran', async () => {
    const started = await startBuild(snapshotFile);
    ninja('tools:prog');
    await sleep(10);
    await writeFile(join(root, 'src', 'a.c'), 'int a = 2;\n');
    expect(await snapshotBuild(subject(), started)).toBe('../../src/a.c changed while the build ran');
  });

  it('takes no snapshot without a deps log, or with a compile missing from it', async () => {
    await buildAndRecord();
    await rm(join(out, '.ninja_deps'));
    expect(await snapshotBuild(subject())).toMatch(/no ninja deps log/);
    await writeFile(join(out, '.ninja_deps'), Buffer.concat([Buffer.from('# ninjadeps\n'), Buffer.from([4, 0, 0, 0])]));
    expect(await snapshotBuild(subject())).toBe('no deps record for obj/a.o');
  });

  it('takes no snapshot when an output is missing, or for an unknown target', async () => {
    await buildAndRecord();
    await unlink(join(out, 'prog'));
    expect(await snapshotBuild(subject())).toBe('prog is missing');
    expect(await snapshotBuild({ ...subject(), targets: ['tools:nope'] })).toMatch(/tools:nope is not a target/);
  });
});
