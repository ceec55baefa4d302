/**
 * distcc for real: three distccd daemons in network namespaces of their own (test/support/distcc-hosts.ts),
 * the fixture pipeline of the local upstream (chromium backend, the fixture's g++ toolchain through gn's
 * cc_wrapper) built through them, against a build of the same pin on this machine alone.
 *
 * - hosts 1 and 2 are genuine; host 3 runs a compiler that identifies as another version: the probe
 *   must name it and leave it out, and its daemon must see nothing but the probe;
 * - DISTCC_FALLBACK=0 (distributed.fallback false): a compile that could not go remote fails the
 *   build, so "all compiles remote" is checked by distcc itself, and counted from its log and the daemons';
 * - a daemon killed mid-build (fallback on) costs only its jobs: the build finishes, identical.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctor } from '../../src/api/pipeline.js';
import type { UserConfig } from '../../src/config/schema.js';
import type { PipelineEvent } from '../../src/engine/events.js';
import { countDistccLines, remoteTotal } from '../../src/distributed/log.js';
import { distccEnv } from '../../src/distributed/env.js';
import { parseHostSpec } from '../../src/distributed/hosts.js';
import { commonCacheArgs, distributedCacheArgs } from '../../src/standalone/cmake-recipes.js';
import { build as cmakeBuild, configure as cmakeConfigure } from '../../src/tools/cmake.js';
import { offlineConfig, resolved, runBuild, startWorld, workspace, type World } from '../../testkit/world.js';
import { distccSkipReason, otherCompilerDir, startDistccHosts, type DistccHosts } from '../support/distcc-hosts.js';

const SKIP = distccSkipReason();
if (SKIP) console.warn(`distcc tests skipped: ${SKIP}`);

let world: World;
let hosts: DistccHosts;
let ws: { dir: string; remove(): Promise<void> };
let localSha: string;
// Outside the 0700 temp dirs: distccd's user runs the wrapper.
const WRAPPER_DIR = '/tmp/bqdi-distcc-wrapper';

const configIn = (dir: string, distributed: UserConfig['distributed']) =>
  resolved(offlineConfig(world.server.baseUrl, dir, { smoke: { enabled: false }, ...(distributed ? { distributed } : {}) }), dir);

async function tarballSha(dir: string): Promise<string> {
  const dist = path.join(dir, 'dist');
  const tarball = (await readdir(dist)).find((f) => f.endsWith('.tar.gz'))!;
  return createHash('sha256')
    .update(await readFile(path.join(dist, tarball)))
    .digest('hex');
}

const logDirOf = (events: PipelineEvent[]) => {
  const start = events.find((e) => e.type === 'run-start');
  return start?.type === 'run-start' ? start.logDir : '';
};
const compileSteps = (log: string) => [...log.matchAll(/^\[\d+\/\d+\] (?:[\d.]+s )?(CXX|CC) /gm)].length;

beforeAll(async () => {
  if (SKIP) return;
  world = await startWorld();
  ws = await workspace('bq-distcc-');
  const other = otherCompilerDir(WRAPPER_DIR);
  hosts = await startDistccHosts({ prefix: 'bqdi', net: 91, count: 3, pathPrepend: { 3: other } });
  const local = await runBuild(await configIn(path.join(ws.dir, 'local'), undefined));
  if (local.error) throw local.error;
  localSha = await tarballSha(path.join(ws.dir, 'local'));
});
afterAll(async () => {
  hosts?.close();
  await rm(WRAPPER_DIR, { recursive: true, force: true });
  await ws?.remove();
  await world?.close();
});

describe.skipIf(!!SKIP)('distcc across network namespaces', () => {
  it('doctor probes every host: two identical, the one with another compiler named with both versions', async () => {
    const [a, b, c] = hosts.daemons;
    const dir = path.join(ws.dir, 'doctor');
    const report = await doctor({
      inline: offlineConfig(world.server.baseUrl, dir, {
        distributed: { engine: 'distcc', hosts: [a!.spec, b!.spec, c!.spec], onUnusableHost: 'stop' },
      }),
      cwd: dir,
      env: {},
    });
    expect(report.distributed?.hosts.map((h) => [h.spec, h.usable, h.private])).toEqual([
      [a!.spec, true, true],
      [b!.spec, true, true],
      [c!.spec, false, true],
    ]);
    expect(report.distributed?.hosts[2]?.reason).toMatch(
      /another compiler: it identifies as "GCC: \(Other 12\.3\.0-1\) 12\.3\.0", this machine's as "GCC: \(Debian/,
    );
    // onUnusableHost 'stop': a build would stop, so doctor says it is a problem.
    expect(report.problems.join('\n')).toContain(`distcc host ${c!.address}`);
  });

  it('builds the fixture through two hosts, every compile remote, and leaves the odd host out; the tarball equals the local build', async () => {
    const [a, b, c] = hosts.daemons;
    const dir = path.join(ws.dir, 'remote');
    const before = { a: a!.jobs(), b: b!.jobs(), c: c!.jobs() };
    const run = await runBuild(await configIn(dir, { engine: 'distcc', hosts: [a!.spec, b!.spec, c!.spec], fallback: false }));
    if (run.error) throw run.error;
    expect(run.notes.join('\n')).toMatch(
      new RegExp(`distcc: left out ${c!.address.replaceAll('.', '\\.')}: its g?\\S+ is another compiler`),
    );
    expect(run.notes.join('\n')).toMatch(/distcc: 2 of 3 host\(s\) usable/);

    const logDir = logDirOf(run.events);
    const counts = countDistccLines(await readFile(path.join(logDir, 'compile.distcc.log'), 'utf8'));
    const steps = compileSteps(await readFile(path.join(logDir, 'compile.log'), 'utf8'));
    expect(steps).toBeGreaterThan(8);
    // Fallback off: anything compiled here would have failed the build; the log agrees.
    expect(counts.local).toBe(0);
    expect(remoteTotal(counts)).toBe(steps);
    expect(Object.keys(counts.remote).sort()).toEqual([a!.spec, b!.spec].sort());
    // The daemons saw those jobs (the probe adds two each: gcc and g++); the odd host saw only the probe's
    // first compile (a host is out at its first mismatch).
    const arrived = { a: a!.jobs() - before.a, b: b!.jobs() - before.b, c: c!.jobs() - before.c };
    console.log(`distcc build: ${steps} compiles, remote ${JSON.stringify(counts.remote)}, daemons ${JSON.stringify(arrived)}`);
    expect(arrived.a + arrived.b).toBe(steps + 4);
    expect(arrived.a).toBeGreaterThan(2);
    expect(arrived.b).toBeGreaterThan(2);
    expect(arrived.c).toBe(1);
    expect(run.notes.join('\n')).toMatch(new RegExp(`compile: distcc: remote ${steps} \\(`));
    expect(await tarballSha(dir)).toBe(localSha);
  });

  it('a daemon killed mid-build costs only its jobs: the build finishes, identical', async () => {
    const [a, b] = hosts.daemons;
    const dir = path.join(ws.dir, 'killed');
    const start = a!.jobs();
    let killedAfter = -1;
    const building = runBuild(await configIn(dir, { engine: 'distcc', hosts: [a!.spec, b!.spec], fallback: true }));
    // The probe's two compiles, then the first compile of the build: kill host 1 there.
    for (let i = 0; i < 2400 && killedAfter < 0; i++) {
      if (a!.jobs() - start >= 3) {
        a!.kill();
        killedAfter = a!.jobs() - start - 2;
      }
      await sleep(25);
    }
    const run = await building;
    if (run.error) throw run.error;
    expect(killedAfter).toBeGreaterThan(0);
    const counts = countDistccLines(await readFile(path.join(logDirOf(run.events), 'compile.distcc.log'), 'utf8'));
    const steps = compileSteps(await readFile(path.join(logDirOf(run.events), 'compile.log'), 'utf8'));
    // Every compile finished somewhere; host 1 did only what it did before it died.
    expect(remoteTotal(counts) + counts.local).toBe(steps);
    expect(counts.remote[a!.spec] ?? 0).toBeLessThanOrEqual(killedAfter);
    expect(counts.remote[b!.spec] ?? 0).toBeGreaterThan(0);
    console.log(`killed host 1 after ${killedAfter} compile(s): ${JSON.stringify(counts)}`);
    expect(await tarballSha(dir)).toBe(localSha);
  });

  it("the dependencies' CMake wiring: ccache first, its misses through distcc in depend mode, archives and links in the local pool", async () => {
    const [a, b] = hosts.daemons;
    const dir = path.join(ws.dir, 'cmake');
    const source = path.join(dir, 'src');
    await mkdir(source, { recursive: true });
    await writeFile(
      path.join(source, 'CMakeLists.txt'),
      'cmake_minimum_required(VERSION 3.16)\nproject(p C CXX)\nadd_library(lib STATIC a.cc b.cc c.c)\nadd_executable(app main.cc)\ntarget_link_libraries(app lib)\n',
    );
    for (const [file, text] of [
      ['a.cc', 'int a() { return 1; }\n'],
      ['b.cc', '#include <string>\nstd::string b() { return "b"; }\n'],
      ['c.c', 'int c(void) { return 3; }\n'],
      ['main.cc', 'int a(); int main() { return a() - 1; }\n'],
    ])
      await writeFile(path.join(source, file!), text!);
    const toolchain = { cc: 'gcc-12', cxx: 'g++-12', compilerId: 'g++-12', flags: ['-O1', '-g0'], launcher: 'ccache' };
    const state = path.join(dir, 'distcc');
    await mkdir(state, { recursive: true });
    const log = path.join(dir, 'distcc.log');
    const env = {
      CCACHE_DIR: path.join(dir, 'ccache'),
      ...distccEnv({ hosts: [a!, b!].map((d) => parseHostSpec(d.spec)), dir: state, log, fallback: false, viaCcache: true, localJobs: 1 }),
    };
    const tree = path.join(dir, 'build');
    await cmakeConfigure(
      ['-S', source, '-B', tree, ...commonCacheArgs(toolchain, path.join(dir, 'prefix')), ...distributedCacheArgs(toolchain, 1)],
      { env },
    );
    expect(await readFile(path.join(tree, 'CMakeFiles', 'rules.ninja'), 'utf8')).toMatch(/^pool local\n {2}depth = 1$/m);
    // The archive and the link are in it.
    const ninja = await readFile(path.join(tree, 'build.ninja'), 'utf8');
    expect(ninja).toMatch(/^build liblib\.a: [^\n]*\n(?: {2}.*\n)*? {2}pool = local$/m);
    expect(ninja).toMatch(/^build app: [^\n]*\n(?: {2}.*\n)*? {2}pool = local$/m);
    await cmakeBuild(tree, { env, jobs: 4 });
    const counts = countDistccLines(await readFile(log, 'utf8'));
    // Four units, every one a ccache miss compiled on a daemon; the archive and the link stayed here.
    expect(remoteTotal(counts)).toBe(4);
    expect(counts.local).toBe(0);
    expect(env).toMatchObject({ CCACHE_PREFIX: 'distcc', CCACHE_DEPEND: '1' });
  });
});
