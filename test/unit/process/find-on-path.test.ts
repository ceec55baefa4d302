import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findOnPath } from '../../../src/process/find-on-path.js';
import { removeTempDirs, tempDir } from '../../../testkit/helpers.js';

afterAll(removeTempDirs);

describe('findOnPath', () => {
  it('finds the first executable file of that name on PATH, skipping directories and non-executables', async () => {
    const root = await tempDir('bq-path');
    const [a, b, c] = ['a', 'b', 'c'].map((d) => path.join(root, d));
    for (const dir of [a, b, c]) await mkdir(dir!);
    await mkdir(path.join(a!, 'tool')); // a directory of that name
    await writeFile(path.join(b!, 'tool'), 'not executable');
    await writeFile(path.join(c!, 'tool'), '#!/bin/sh\n');
    await chmod(path.join(c!, 'tool'), 0o755);
    const searchPath = [a, b, c].join(path.delimiter);
    expect(await findOnPath('tool', searchPath)).toBe(path.join(c!, 'tool'));
    expect(await findOnPath('missing', searchPath)).toBeUndefined();
    expect(await findOnPath('sh')).toMatch(/\/sh$/);
  });
});
