// The offline try-out (npm run demo:offline): builds the local upstream used by the tests, serves it
// on loopback, and runs the real pipeline against it: gclient sync, patches, gn, ninja, smoke test
// with live migration across 127.0.0.x, package, publish, then installs the artifact.
//   --keep        reuse the previous demo's cache (the second run shows every stage up to date)
//   --dir DIR     where to put cache/, dist/ and the installed artifact (default: a temp dir)
//   any other args are passed to `build-quiche build` (e.g. --verbose, --json, --builder ninja)
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../src/cli/main.js';
import { processIo } from '../src/cli/output.js';
import { offlineConfig, startWorld, writeConfigFile } from '../testkit/world.js';

const args = process.argv.slice(2);
const take = (flag: string) => {
  const at = args.indexOf(flag);
  if (at < 0) return undefined;
  const [, value] = args.splice(at, 2);
  return value;
};
const keep = args.includes('--keep') ? (args.splice(args.indexOf('--keep'), 1), true) : false;
const dir = path.resolve(take('--dir') ?? path.join(os.tmpdir(), 'build-quiche-demo'));

const started = Date.now();
const controller = new AbortController();
process.once('SIGINT', () => controller.abort());

if (!keep && existsSync(dir)) await rm(dir, { recursive: true, force: true });
console.log(`build-quiche offline demo in ${dir}`);
console.log('building the local upstream (cached after the first time) and serving it on loopback ...');
// The upstream's URLs are inputs of every stage: with --keep, serve on the same port as last time.
const portFile = path.join(dir, '.upstream-port');
const lastPort = keep ? Number(await readFile(portFile, 'utf8').catch(() => '')) || undefined : undefined;
const world = await startWorld(lastPort);
await mkdir(dir, { recursive: true });
await writeFile(portFile, String(world.server.port));
let code: number;
try {
  console.log(`local upstream at ${world.server.baseUrl}: chromium/src (tags 152.0.7977.83, 150.0.7871.114), quiche, depot_tools`);
  const configFile = await writeConfigFile(dir, offlineConfig(world.server.baseUrl, dir));
  console.log(`config: ${configFile}\n`);
  code = await runCli(['build', '--config', configFile, ...args], processIo(), controller.signal);
  if (code === 0) {
    console.log('');
    code = await runCli(['install', path.join(dir, 'dist'), '--to', path.join(dir, 'installed')], processIo(), controller.signal);
  }
} finally {
  await world.close();
}
console.log(`\n${code === 0 ? 'demo finished' : `demo failed (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
process.exitCode = code;
