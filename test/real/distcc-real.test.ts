/**
 * Real quiche through distcc: a few dozen translation units of the finished real build (the exact
 * commands its ninja ran, from `ninja -t commands`), compiled once here and once through two distccd
 * daemons in network namespaces (ccache off, fallback off), compared byte for byte. BoringSSL units
 * too: its CMake adds -ggdb, and debug info made from preprocessed text differs from debug info made from
 * the source (columns, line-table rows where macros expand); the build's -g0 after it
 * (REPRODUCIBLE_DEBUG_FLAGS) is what makes them equal, and one unit compiled without it shows the
 * difference it removes.
 *
 * Needs root, distcc and a finished real build (npm run test:real makes one; this file only reads it):
 * skips, saying why, otherwise. Run it alone: npx vitest run --project real test/real/distcc-real.test.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDistccLines, remoteTotal } from '../../src/distributed/log.js';
import { REPRODUCIBLE_DEBUG_FLAGS } from '../../src/standalone/cmake-recipes.js';
import { compileCommands, finishedRealBuild, retarget, spread, type CompileCommand, type RealBuild } from '../../testkit/real-build.js';
import { distccSkipReason, startDistccHosts, type DistccHosts } from '../support/distcc-hosts.js';

const QUICHE_UNITS = 24;
const BORINGSSL_UNITS = 6;

const found = finishedRealBuild();
const SKIP = distccSkipReason() ?? (typeof found === 'string' ? found : undefined);
if (SKIP) console.warn(`real distcc test skipped: ${SKIP}`);

let hosts: DistccHosts;
let scratch: string;

function sh(command: string, cwd: string, env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

/** Runs `jobs` at most `width` at a time. */
async function pool<T>(items: readonly T[], width: number, run: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        await run(items[i]!, i);
      }
    }),
  );
}

beforeAll(async () => {
  if (SKIP) return;
  scratch = mkdtempSync(path.join(os.tmpdir(), 'bq-distcc-real-'));
  hosts = await startDistccHosts({ prefix: 'bqdr', net: 92, count: 2 });
});
afterAll(() => {
  hosts?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!!SKIP)('real quiche translation units through distcc', () => {
  it('compile to the same bytes remotely as here, every one on a daemon', async () => {
    const build = found as RealBuild;
    const quiche = compileCommands(build.outDir).filter((c) => /(^|\/)quiche\//.test(c.source) && !c.source.includes('/gen/'));
    const boringssl = build.trees.boringssl
      ? compileCommands(build.trees.boringssl, ['crypto', 'ssl']).filter((c) => c.source.endsWith('.cc'))
      : [];
    // A tree configured before the debug flags: compile as this version's build does.
    const extra = (c: CompileCommand) => REPRODUCIBLE_DEBUG_FLAGS.filter((f) => !c.command.includes(f));
    const units = [...spread(quiche, QUICHE_UNITS), ...spread(boringssl, BORINGSSL_UNITS)];
    expect(units.length).toBeGreaterThanOrEqual(QUICHE_UNITS);

    const log = path.join(scratch, 'distcc.log');
    const env = {
      DISTCC_HOSTS: hosts.daemons.map((d) => d.spec).join(' '),
      DISTCC_FALLBACK: '0',
      DISTCC_DIR: scratch,
      DISTCC_LOG: log,
      CCACHE_DISABLE: '1',
    };
    const failures: string[] = [];
    const before = hosts.daemons.map((d) => d.jobs());
    const started = Date.now();
    // Here one at a time, there two at a time (one slot per daemon): both sides at once.
    await Promise.all([
      pool(units, 1, async (unit, i) => {
        const result = await sh(retarget(unit, path.join(scratch, `local-${i}.o`), '', extra(unit)), unit.dir, { CCACHE_DISABLE: '1' });
        if (result.code !== 0) failures.push(`local ${unit.source}: ${result.output.slice(-500)}`);
      }),
      pool(units, 2, async (unit, i) => {
        const result = await sh(retarget(unit, path.join(scratch, `remote-${i}.o`), 'distcc', extra(unit)), unit.dir, env);
        if (result.code !== 0) failures.push(`distcc ${unit.source}: ${result.output.slice(-500)}`);
      }),
    ]);
    expect(failures).toEqual([]);
    const differ = units.filter(
      (_, i) => !readFileSync(path.join(scratch, `local-${i}.o`)).equals(readFileSync(path.join(scratch, `remote-${i}.o`))),
    );
    expect(differ.map((u) => u.source)).toEqual([]);

    const counts = countDistccLines(readFileSync(log, 'utf8'));
    expect(counts.local).toBe(0);
    expect(remoteTotal(counts)).toBe(units.length);
    const arrived = hosts.daemons.map((d, i) => d.jobs() - before[i]!);
    expect(arrived.reduce((a, b) => a + b, 0)).toBe(units.length);
    console.log(
      `${units.length} real units (${Math.min(quiche.length, QUICHE_UNITS)} quiche, ${units.length - Math.min(quiche.length, QUICHE_UNITS)} BoringSSL) identical; remote ${JSON.stringify(counts.remote)}; daemons ${JSON.stringify(arrived)}; ${Math.round((Date.now() - started) / 1000)} s`,
    );
  });

  it("with BoringSSL's own -ggdb (no -g0) a unit differs: the flag is what makes them equal", async () => {
    const build = found as RealBuild;
    if (!build.trees.boringssl) return;
    const [unit] = spread(
      compileCommands(build.trees.boringssl, ['crypto']).filter((c) => c.source.endsWith('.cc') && c.command.includes('-ggdb')),
      1,
    );
    if (!unit) return;
    // The command without the flag (as a build before it ran them).
    const bare = { ...unit, command: unit.command.replaceAll(/\s-g0(?=\s)/g, '') };
    const env = { DISTCC_HOSTS: hosts.daemons[0]!.spec, DISTCC_FALLBACK: '0', DISTCC_DIR: scratch, CCACHE_DISABLE: '1' };
    expect((await sh(retarget(bare, path.join(scratch, 'cols-local.o')), unit.dir, { CCACHE_DISABLE: '1' })).code).toBe(0);
    expect((await sh(retarget(bare, path.join(scratch, 'cols-remote.o'), 'distcc'), unit.dir, env)).code).toBe(0);
    expect(readFileSync(path.join(scratch, 'cols-local.o')).equals(readFileSync(path.join(scratch, 'cols-remote.o')))).toBe(false);
  });
});
