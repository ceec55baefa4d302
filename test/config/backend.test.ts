import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { plan } from '../../src/api/pipeline.js';
import { runCli } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { stagesFor } from '../../src/stages/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bq-backend-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe('backend selection', () => {
  it('builds inside a Chromium tree by default, with its stages between the common ones', async () => {
    const config = await loadConfig({ cwd: dir, env: {} });
    expect(config.backend).toBe('chromium');
    expect(stagesFor(config).map((stage) => stage.id)).toEqual([
      'preflight', 'resolve', 'patch-check', 'reuse', 'depot-tools', 'checkout', 'patch', 'configure', 'compile', 'smoke', 'package', 'publish',
    ]);
  });

  it('a backend this version does not have is a config error naming it, before anything runs', async () => {
    const config = await loadConfig({ cwd: dir, env: {}, flags: { backend: 'quiche' } });
    const error = await plan({ config }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe('backend quiche is not available in this version.');
    expect((error as ConfigError).exitCode).toBe(2);
  });

  it('--backend quiche exits 2 and creates no cache', async () => {
    const out: string[] = [];
    const code = await runCli(['plan', '--plain', '--backend', 'quiche', '--cache-dir', path.join(dir, 'cache')], { stdout: (l) => out.push(l), stderr: (l) => out.push(l), isTTY: false, env: {} });
    expect(code).toBe(2);
    expect(out.join('\n')).toMatch(/backend quiche is not available in this version/);
    expect(existsSync(path.join(dir, 'cache'))).toBe(false);
  });
});
