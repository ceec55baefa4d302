import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderConfigDocs } from '../../../src/config/docs.js';
import { renderConfigJsonSchema } from '../../../src/config/json-schema.js';
import { BUNDLED_SERIES, loadConfig } from '../../../src/config/load.js';
import { DEFAULT_CHROMIUM_VERSION } from '../../../src/config/schema.js';
import { ConfigError } from '../../../src/errors.js';
import { runCli } from '../../../src/cli/main.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bq-config-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const write = (name: string, text: string) => writeFile(path.join(dir, name), text);

describe('loading', () => {
  it('uses the embedded defaults when there is no config file', async () => {
    const config = await loadConfig({ cwd: dir, env: {} });
    expect(config.configFile).toBeUndefined();
    expect(config.chromium.version).toBe(DEFAULT_CHROMIUM_VERSION);
    expect(config.patches.series).toBe(BUNDLED_SERIES);
    expect(config.cacheDir).toBe(path.join(dir, 'cache'));
    expect(config.publish).toEqual([{ type: 'dir', path: path.join(dir, 'dist', 'store') }]);
  });

  it('loads pipeline.config.ts written with defineConfig and resolves paths against its directory', async () => {
    await write(
      'pipeline.config.ts',
      `import { defineConfig } from ${JSON.stringify(path.resolve('src/config/define.ts'))};
       const version: string = '150.0.7871.114';
       export default defineConfig({ chromium: { version }, cacheDir: 'c', patches: { series: 'p/series' } });`,
    );
    const config = await loadConfig({ cwd: dir, env: {} });
    expect(config.chromium.version).toBe('150.0.7871.114');
    expect(config.cacheDir).toBe(path.join(dir, 'c'));
    expect(config.patches.series).toBe(path.join(dir, 'p', 'series'));
  });

  it("lets a config anywhere `import { defineConfig } from 'build-quiche'` without installing it there", async () => {
    await write('pipeline.config.ts', `import { defineConfig } from 'build-quiche';\nexport default defineConfig({ build: { jobs: 5 } });`);
    expect((await loadConfig({ cwd: dir, env: {} })).build.jobs).toBe(5);
  });

  it('lets BUILD_QUICHE_* env override the file, and flags override both', async () => {
    await write('pipeline.config.ts', `export default { build: { jobs: 1, builder: 'ninja' } }`);
    const config = await loadConfig({
      cwd: dir,
      env: { BUILD_QUICHE_BUILD_JOBS: '3', BUILD_QUICHE_GCLIENT_CUSTOM_VARS: '{"quiche_git":"http://127.0.0.1:1"}' },
      flags: { build: { builder: 'autoninja' } },
      set: ['build.args.is_debug=true', 'gclient.customVars.chromium_git=http://127.0.0.1:2'],
    });
    expect(config.build.jobs).toBe(3);
    expect(config.build.builder).toBe('autoninja');
    expect(config.build.args).toEqual({ is_debug: true });
    expect(config.gclient.customVars).toEqual({ quiche_git: 'http://127.0.0.1:1', chromium_git: 'http://127.0.0.1:2' });
  });
});

describe('validation', () => {
  it('names the field, what was expected and what was given', async () => {
    await write('pipeline.config.ts', `export default { build: { jobs: 'four', targets: [] }, chromium: { version: 'latest' } }`);
    const error = await loadConfig({ cwd: dir, env: {} }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/build\.jobs: .*expected number.*given "four"/);
    expect(error.message).toMatch(/build\.targets: /);
    expect(error.message).toMatch(/chromium\.version: a Chromium version tag like 152\.0\.7977\.83 .*given "latest"/);
    expect(error.exitCode).toBe(2);
  });

  it('rejects unknown fields (typos) by name', async () => {
    const error = await loadConfig({ cwd: dir, env: {}, inline: { build: { tagets: ['x'] } } }).catch((e) => e);
    expect(error.message).toMatch(/build: unknown field "tagets"/);
  });

  it('rejects unknown BUILD_QUICHE_ variables and badly typed ones', async () => {
    await expect(loadConfig({ cwd: dir, env: { BUILD_QUICHE_JOBZ: '2' } })).rejects.toThrow(
      /Unknown environment variable BUILD_QUICHE_JOBZ/,
    );
    await expect(loadConfig({ cwd: dir, env: { BUILD_QUICHE_SMOKE_ENABLED: 'maybe' } })).rejects.toThrow(
      /smoke\.enabled expects true or false, got "maybe"/,
    );
  });

  it('a config file that does not evaluate is a config error naming the file', async () => {
    await write('pipeline.config.ts', 'export default {');
    await expect(loadConfig({ cwd: dir, env: {} })).rejects.toThrow(new RegExp(`Could not load ${path.join(dir, 'pipeline.config.ts')}`));
  });

  it('a bad config stops the CLI with exit code 2 before anything is written', async () => {
    await write('pipeline.config.ts', `export default { cacheDir: 'cache', build: { builder: 'make' } }`);
    const out: string[] = [];
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const code = await runCli(['build', '--plain'], { stdout: (l) => out.push(l), stderr: (l) => out.push(l), isTTY: false, env: {} });
      expect(code).toBe(2);
    } finally {
      process.chdir(cwd);
    }
    expect(out.join('\n')).toMatch(/build\.builder: .*"make"/);
    expect(existsSync(path.join(dir, 'cache'))).toBe(false);
  });
});

describe('JSON Schema', () => {
  it('is generated from the same source and committed up to date (npm run schema)', () => {
    expect(readFileSync('schema/pipeline.config.schema.json', 'utf8')).toBe(renderConfigJsonSchema());
    expect(readFileSync('docs/configuration.md', 'utf8')).toBe(renderConfigDocs());
  });

  it('describes every section with defaults', () => {
    const schema = JSON.parse(renderConfigJsonSchema());
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['chromium', 'depotTools', 'gclient', 'build', 'smoke', 'publish']),
    );
    expect(schema.properties.chromium.properties.version.default).toBe(DEFAULT_CHROMIUM_VERSION);
  });
});
