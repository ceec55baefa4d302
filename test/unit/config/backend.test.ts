import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { plan } from '../../../src/api/pipeline.js';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigError } from '../../../src/errors.js';
import { stagesFor } from '../../../src/stages/index.js';
import { backendFor } from '../../../src/stages/backends/index.js';
import { standaloneBackend } from '../../../src/stages/backends/standalone/index.js';

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
      'preflight',
      'resolve',
      'patch-check',
      'reuse',
      'depot-tools',
      'checkout',
      'patch',
      'configure',
      'compile',
      'smoke',
      'package',
      'publish',
    ]);
  });

  it('--backend quiche selects the standalone backend: its dependency stage before reuse, its build stages after patch', async () => {
    const config = await loadConfig({ cwd: dir, env: {}, flags: { backend: 'quiche' } });
    expect(config.backend).toBe('quiche');
    expect(backendFor(config)).toBe(standaloneBackend);
    expect(stagesFor(config).map((stage) => stage.id)).toEqual([
      'preflight',
      'resolve',
      'patch-check',
      'dependency-pins',
      'reuse',
      'checkout',
      'patch',
      'dependency-builds',
      'configure',
      'compile',
      'smoke',
      'package',
      'publish',
    ]);
  });

  it('quiche settings default to the public quiche repository, -O1, gcc-12 and ccache when present', async () => {
    const config = await loadConfig({ cwd: dir, env: {}, flags: { backend: 'quiche' } });
    expect(config.quiche).toEqual({
      url: 'https://quiche.googlesource.com/quiche',
      dependencies: {},
      mirrors: {},
      optimization: '-O1',
      cc: 'gcc-12',
      cxx: 'g++-12',
      ccache: 'auto',
    });
  });

  it('an abbreviated quiche.revision is a config error naming the field (exit 2)', async () => {
    const error = await loadConfig({ cwd: dir, env: {}, inline: { backend: 'quiche', quiche: { revision: '1ba0d99a' } } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/quiche\.revision/);
    expect((error as ConfigError).message).toMatch(/40-hex/);
    expect((error as ConfigError).exitCode).toBe(2);
  });

  it('an unknown key in a dependency override is a config error naming it', async () => {
    const error = await loadConfig({
      cwd: dir,
      env: {},
      inline: { backend: 'quiche', quiche: { dependencies: { googleurl: { commit: 'x' } } } },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/quiche\.dependencies\.googleurl/);
  });

  it('a backend id nothing is registered under is a config error before anything runs, naming the ones there are', async () => {
    const config = await loadConfig({ cwd: dir, env: {}, flags: { backend: 'nope' } });
    const error = await plan({ config }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe('backend nope is not available in this version.');
    expect((error as ConfigError).hint).toMatch(/one of: chromium, quiche/);
    await expect(loadConfig({ cwd: dir, env: {}, inline: { backend: 'Not An Id' } })).rejects.toThrow(/backend/);
  });
});
