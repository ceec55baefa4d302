/**
 * The bundled CLI (scripts/bundle-cli.ts; what bin/build-quiche.js runs after `npm run build`)
 * behaves as the CLI run from its modules: same exit codes, same output, for a plan against the local
 * upstream (config file loaded through jiti), bad input, and a missing artifact.
 */
import { build } from 'esbuild';
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleOptions } from '../../scripts/bundle-cli.js';
import { spawnCli, writeConfigFile } from '../support/cli.js';
import { offlineConfig, startWorld, type World } from '../support/world.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
// Two levels below the package root, like lib/cli/entry.bundle.js: PACKAGE_ROOT is found from there.
const BUNDLE = path.join(ROOT, '.tmp', 'cli', `entry.bundle.test-${process.pid}.js`);

let world: World;
let dir: string;
beforeAll(async () => {
  await build(bundleOptions(path.join(ROOT, 'src', 'cli', 'entry.ts'), BUNDLE));
  world = await startWorld();
  dir = await mkdtemp(path.join(os.tmpdir(), 'bq-bundle-'));
  await writeConfigFile(dir, offlineConfig(world.server.baseUrl, dir));
});
afterAll(async () => {
  await world?.close();
  await rm(BUNDLE, { force: true });
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Times and temp paths vary between two runs; everything else must match. */
const normalize = (text: string) => text.replace(/\d\d:\d\d:\d\d/g, 'HH:MM:SS').replace(/\d+(\.\d+)?m?s\b/g, 'N');

async function both(args: string[]) {
  const bundled = await execa(process.execPath, [BUNDLE, ...args], { cwd: dir, env: { CI: '1' }, all: true, reject: false });
  const modules = await spawnCli(args, { cwd: dir });
  return {
    bundled: { code: bundled.exitCode, out: normalize(bundled.all) },
    modules: { code: modules.exitCode, out: normalize(modules.all) },
  };
}

describe('the bundled CLI', () => {
  it.each([
    ['--version', ['--version']],
    ['plan against the local upstream', ['plan', '--plain']],
    ['bad input', ['build', '--plain', '--set', 'build.jobs=many']],
    ['a missing artifact', ['install', '/nonexistent/quiche.tar.gz', '--to', '/nonexistent-to']],
  ])('%s: the same exit code and output as the CLI run from its modules', async (_name, args) => {
    const { bundled, modules } = await both(args);
    expect(bundled.code, bundled.out).toBe(modules.code);
    expect(bundled.out).toBe(modules.out);
  });

  it('the exit codes are the documented ones and the plan lists the stages: not a crash of the bundle', async () => {
    expect((await both(['--version'])).bundled.code).toBe(0);
    const plan = (await both(['plan', '--plain'])).bundled;
    expect(plan.code, plan.out).toBe(0);
    expect(plan.out).toMatch(/compile/);
    expect((await both(['build', '--plain', '--set', 'build.jobs=many'])).bundled).toMatchObject({ code: 2 });
  });
});
