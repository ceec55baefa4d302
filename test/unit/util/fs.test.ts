import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeIfChanged } from '../../../src/util/fs.js';
import { tempDir } from '../../support/artifacts.js';

describe('writeIfChanged', () => {
  it('leaves an identical file untouched, so ninja sees no change', async () => {
    const file = path.join(await tempDir(), 'build.ninja');
    await writeFile(file, 'same');
    const before = (await stat(file)).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    expect(await writeIfChanged(file, 'same')).toBe('unchanged');
    expect((await stat(file)).mtimeMs).toBe(before);
  });

  it('writes a missing or changed file and says which', async () => {
    const file = path.join(await tempDir(), 'out', 'args.gn');
    expect(await writeIfChanged(file, 'one')).toBe('created');
    expect(await writeIfChanged(file, 'two')).toBe('changed');
    expect(await readFile(file, 'utf8')).toBe('two');
  });
});
