import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { waitForLine } from '../../support/cli.js';

const SERVE = path.join(import.meta.dirname, '..', '..', '..', 'testkit', 'serve.ts');
const TSX = import.meta.resolve('tsx');
let dir: string | undefined;
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('npm run upstream:serve', () => {
  it('writes and prints a build-quiche config that points every source at the served upstream', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bq-serve-'));
    const child = execa(process.execPath, ['--import', TSX, SERVE, '--dir', dir], { all: true, reject: false });
    try {
      let printed = '';
      child.all.on('data', (chunk: Buffer) => (printed += chunk.toString()));
      await waitForLine(child, 'Ctrl-C to stop', 120_000);
      const base = /base URL: (\S+)/.exec(printed)?.[1];
      expect(printed).toContain(`cd ${dir} && build-quiche build`);
      const config = await loadConfig({ cwd: dir, env: {} });
      expect(config.chromium.srcUrl).toBe(`${base}/chromium/src.git`);
      expect(config.depotTools.url).toBe(`${base}/chromium/tools/depot_tools.git`);
      expect(config.cacheDir).toBe(path.join(dir, 'cache'));
      // The URL it names is served: a user can build from it as printed.
      expect(execFileSync('git', ['ls-remote', config.chromium.srcUrl, 'refs/tags/152.0.7977.83'], { encoding: 'utf8' })).toMatch(
        /^[0-9a-f]{40}\t/,
      );
    } finally {
      child.kill('SIGTERM');
      await child;
    }
  }, 180_000);
});
