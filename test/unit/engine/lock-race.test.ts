import { execa } from 'execa';
import { hostname } from 'node:os';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { removeDir, tempDir } from '../../support/engine.js';

const TSX = import.meta.resolve('tsx');
const CONTEND = path.join(import.meta.dirname, 'fixtures', 'contend.ts');

it('never lets two runs hold the lock, even when several race to take over a dead holder', async () => {
  const dir = await tempDir();
  try {
    const file = path.join(dir, 'run.lock');
    for (let round = 0; round < 3; round++) {
      await writeFile(file, JSON.stringify({ pid: 999999, hostname: hostname(), startedAt: 'x', command: 'dead', children: [] }));
      const runs = await Promise.all(
        Array.from({ length: 10 }, () => execa(process.execPath, ['--import', TSX, CONTEND, file], { reject: false })),
      );
      expect(runs.map((r) => r.stdout.trim())).toEqual(Array(10).fill('OK'));
    }
  } finally {
    await removeDir(dir);
  }
});
