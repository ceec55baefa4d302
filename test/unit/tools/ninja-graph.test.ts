import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalPath, edgeBinding, readDepfile, readDepsLog, readNinjaGraph } from '../../../src/tools/ninja-graph.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bq-ninja-graph-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('readNinjaGraph', () => {
  it('reads what gn writes: escapes, continuations, implicit and order-only inputs, subninja scopes', async () => {
    await writeFile(
      join(dir, 'build.ninja'),
      [
        'ninja_required_version = 1.7.2',
        'rule gn',
        '  command = gn --regeneration gen .',
        'build build.ninja.stamp: gn',
        '  generator = 1',
        '  depfile = build.ninja.d',
        'build build.ninja: phony build.ninja.stamp',
        'subninja toolchain.ninja',
        'build net$:quic_client: phony ./quic_client',
        'build all: phony $',
        '    ./quic_client $',
        '    obj/a$ b.o',
        'default all',
        '',
      ].join('\n'),
    );
    await writeFile(
      join(dir, 'toolchain.ninja'),
      [
        'rule cc',
        '  command = gcc -MMD -MF ${out}.d ${cflags} -c ${in} -o ${out}',
        '  depfile = ${out}.d',
        '  deps = gcc',
        'rule link',
        '  command = g++ -o $out $in',
        'subninja obj/a.ninja',
        'build ./quic_client: link obj/a$ b.o obj/../obj/c.o | lib.a || gen.stamp',
        '',
      ].join('\n'),
    );
    await mkdir(join(dir, 'obj'));
    await writeFile(
      join(dir, 'obj', 'a.ninja'),
      ['cflags = -O2', 'build obj/a$ b.o: cc ../../src/a.c', '  source_file_part = a.c', 'build obj/c.o: cc ../../src/c.c', ''].join('\n'),
    );
    const graph = await readNinjaGraph(dir);
    expect(graph.manifests).toEqual(['build.ninja', 'toolchain.ninja', 'obj/a.ninja']);
    const byOutput = (out: string) => graph.edges[graph.producer.get(out)!]!;
    expect(byOutput('net:quic_client').inputs).toEqual(['quic_client']);
    expect(byOutput('all').inputs).toEqual(['quic_client', 'obj/a b.o']);
    const link = byOutput('quic_client');
    expect(link.inputs).toEqual(['obj/a b.o', 'obj/c.o', 'lib.a', 'gen.stamp']);
    expect(link.explicitInputs).toBe(2);
    const cc = byOutput('obj/a b.o');
    expect(cc.inputs).toEqual(['../../src/a.c']);
    expect(edgeBinding(cc, 'deps')).toBe('gcc');
    expect(edgeBinding(cc, 'depfile')).toBe('obj/a b.o.d');
    expect(edgeBinding(cc, 'command')).toBe('gcc -MMD -MF obj/a b.o.d -O2 -c ../../src/a.c -o obj/a b.o');
    expect(edgeBinding(byOutput('build.ninja.stamp'), 'depfile')).toBe('build.ninja.d');
    expect(edgeBinding(link, 'deps')).toBe('');
  });

  it('keeps paths as ninja canonicalizes them', () => {
    expect(canonicalPath('./quic_client')).toBe('quic_client');
    expect(canonicalPath('../../net/x.cc')).toBe('../../net/x.cc');
    expect(canonicalPath('obj/../obj/c.o')).toBe('obj/c.o');
    expect(canonicalPath('a//b')).toBe('a/b');
    expect(canonicalPath('../../a/./b')).toBe('../../a/b');
  });

  it('names what it cannot read instead of guessing', async () => {
    await writeFile(join(dir, 'build.ninja'), 'build x: nosuchrule y\n');
    await expect(readNinjaGraph(dir)).rejects.toThrow(/unknown rule nosuchrule/);
    await writeFile(join(dir, 'build.ninja'), 'subninja missing.ninja\n');
    await expect(readNinjaGraph(dir)).rejects.toThrow(/cannot read missing.ninja/);
  });
});

/** A deps log as ninja 1.10+ writes it (version 4). */
function depsLog(records: Array<{ path: string } | { out: number; mtime: number; inputs: number[] }>, tornTail = false): Buffer {
  const parts = [Buffer.from('# ninjadeps\n', 'latin1'), int32(4)];
  let id = 0;
  for (const record of records) {
    if ('path' in record) {
      const name = Buffer.from(record.path);
      const padded = Buffer.concat([name, Buffer.alloc((4 - (name.length % 4)) % 4)]);
      parts.push(uint32(padded.length + 4), padded, uint32(~id++ >>> 0));
    } else {
      parts.push(uint32((0x80000000 | (12 + record.inputs.length * 4)) >>> 0), int32(record.out), uint32(record.mtime), uint32(0));
      for (const input of record.inputs) parts.push(int32(input));
    }
  }
  if (tornTail) parts.push(uint32(64), Buffer.from('cut'));
  return Buffer.concat(parts);
}
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
};
const uint32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

describe('readDepsLog', () => {
  it('maps each output to the inputs of its latest record, and ignores a torn last record', async () => {
    const file = join(dir, '.ninja_deps');
    await writeFile(
      file,
      depsLog(
        [
          { path: 'obj/a.o' },
          { path: '../../src/a.c' },
          { path: '../../src/a.h' },
          { out: 0, mtime: 1, inputs: [1] },
          { path: '../../src/b.h' },
          { out: 0, mtime: 2, inputs: [1, 2, 3] },
        ],
        true,
      ),
    );
    expect(await readDepsLog(file)).toEqual(new Map([['obj/a.o', ['../../src/a.c', '../../src/a.h', '../../src/b.h']]]));
  });

  it('refuses another format', async () => {
    const file = join(dir, '.ninja_deps');
    await writeFile(file, Buffer.concat([Buffer.from('# ninjadeps\n'), int32(3)]));
    await expect(readDepsLog(file)).rejects.toThrow(/version 3/);
  });
});

describe('readDepfile', () => {
  it('reads gn-style depfiles with continuations and escaped spaces', async () => {
    const file = join(dir, 'build.ninja.d');
    await writeFile(file, 'build.ninja.stamp: ../../.gn ../../BUILD.gn \\\n  ./args.gn ../../a\\ b.gni\n');
    expect(await readDepfile(file)).toEqual(['../../.gn', '../../BUILD.gn', 'args.gn', '../../a b.gni']);
  });
});
