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
import { offlineConfig, startWorld, type World } from '../../testkit/world.js';

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
  // The expected exit code (and what the output shows) guard against both CLIs failing alike.
  it.each([
    ['--version', ['--version'], 0, /\d+\.\d+\.\d+/],
    ['plan against the local upstream', ['plan', '--plain'], 0, /compile/],
    ['bad input', ['build', '--plain', '--set', 'build.jobs=many'], 2, /build\.jobs/],
    ['a missing artifact', ['install', '/nonexistent/quiche.tar.gz', '--to', '/nonexistent-to'], 6, /does not exist/],
  ] as const)('%s: the same exit code and output as the CLI run from its modules', async (_name, args, code, shows) => {
    const { bundled, modules } = await both([...args]);
    expect(bundled.code, bundled.out).toBe(modules.code);
    expect(bundled.out).toBe(modules.out);
    expect(bundled.code, bundled.out).toBe(code);
    expect(bundled.out).toMatch(shows);
  });
});
