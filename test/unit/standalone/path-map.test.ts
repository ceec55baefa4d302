/**
 * The path maps keep the build's directories out of the objects: the same sources compiled in two
 * roots, with absolute paths (CMake's way) or relative ones (ccache's base_dir rewrite), with debug info
 * and assembly, give byte-identical objects. Real g++/gcc.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prefixMapFlags } from '../../../src/standalone/path-map.js';
import { removeTempDirs, tempDir } from '../../../testkit/helpers.js';

afterAll(removeTempDirs);

const SOURCE = '#include <cstdio>\n#include "local.h"\nvoid where() { std::printf("%s %s %d\\n", __FILE__, HEADER_FILE, 1); }\n';
const HEADER = '#define HEADER_FILE __FILE__\n';
const ASM = '.text\n.globl answer\nanswer:\n  movl $42, %eax\n  ret\n';

/** A root laid out like the standalone cache: src/<name>, build/<name> (the compile's directory). */
async function root(label: string): Promise<{ root: string; cwd: string }> {
  const root = await tempDir(label);
  await mkdir(path.join(root, 'src', 'dep-0123456789ab'), { recursive: true });
  await mkdir(path.join(root, 'build', 'dep-0123456789ab-cafe0123', 'gen'), { recursive: true });
  await writeFile(path.join(root, 'src', 'dep-0123456789ab', 'lib.cc'), SOURCE);
  await writeFile(path.join(root, 'src', 'dep-0123456789ab', 'asm.S'), ASM);
  await writeFile(path.join(root, 'build', 'dep-0123456789ab-cafe0123', 'gen', 'local.h'), HEADER);
  return { root, cwd: path.join(root, 'build', 'dep-0123456789ab-cafe0123') };
}

function compile(compiler: string, { root, cwd }: { root: string; cwd: string }, source: string, out: string, relative = false): Buffer {
  const input = relative ? path.relative(cwd, path.join(root, source)) : path.join(root, source);
  const include = relative ? 'gen' : path.join(cwd, 'gen');
  execFileSync(compiler, ['-O1', '-g', '-Wa,-g', ...prefixMapFlags(root, cwd), `-I${include}`, '-c', input, '-o', out], { cwd });
  return readFileSync(path.join(cwd, out));
}

describe('prefixMapFlags', () => {
  it('maps the root to ../../ and the compile directory to . (most specific last: GCC tries the last map first)', () => {
    expect(prefixMapFlags('/c/quiche', '/c/quiche/out/k')).toEqual([
      '-ffile-prefix-map=/c/quiche/=../../',
      '-ffile-prefix-map=/c/quiche/out/k=.',
      '-ffile-prefix-map=/c/quiche/out/k/=',
    ]);
  });

  it('gives byte-identical C++ objects with debug info in two roots, with absolute or relative paths', async () => {
    const a = await root('bq-map-a');
    const b = await root('bq-map-b-longer-name');
    const objects = [
      compile('g++', a, 'src/dep-0123456789ab/lib.cc', 'abs.o'),
      compile('g++', b, 'src/dep-0123456789ab/lib.cc', 'abs.o'),
      compile('g++', b, 'src/dep-0123456789ab/lib.cc', 'rel.o', true),
    ];
    expect(objects[1]!.equals(objects[0]!)).toBe(true);
    expect(objects[2]!.equals(objects[0]!)).toBe(true);
    const text = objects[0]!.toString('latin1');
    expect(text).toContain('../../src/dep-0123456789ab/lib.cc');
    expect(text).not.toContain(a.root);
  });

  it("gives byte-identical assembly objects (the assembler's own debug info) in two roots", async () => {
    const a = await root('bq-map-asm-a');
    const b = await root('bq-map-asm-bb');
    const first = compile('gcc', a, 'src/dep-0123456789ab/asm.S', 'asm.o');
    expect(compile('gcc', b, 'src/dep-0123456789ab/asm.S', 'asm.o').equals(first)).toBe(true);
    expect(first.toString('latin1')).not.toContain(a.root);
  });
});
