import { existsSync } from 'node:fs';
import { readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineEvent } from '../../src/engine/events.js';
import { offlineConfig, resolved, runBuild, startWorld, workspace, type World } from '../../testkit/world.js';

/**
 * The no-op rerun proves "nothing to build" from a snapshot of the files ninja looks at
 * (tools/up-to-date.ts) instead of the builder's dry run (autoninja -> siso -> ninja -n). These runs,
 * in order on one cache of the fixture world, show it still catches what the dry run caught: a
 * touched source, a deleted object and a changed flag each make the compile stage run and rebuild
 * exactly what depends on it; a cache without a snapshot asks the builder once.
 */
const OUT = 'cache/chromium/src/out/Release';
const QUICHE = 'cache/chromium/src/net/third_party/quiche/src';
let world: World;
let ws: { dir: string; remove(): Promise<void> };

const config = () => resolved(offlineConfig(world.server.baseUrl, ws.dir, { smoke: { enabled: false }, publish: [] }), ws.dir);
const logDirOf = (events: PipelineEvent[]) => {
  const start = events.find((e) => e.type === 'run-start');
  return start?.type === 'run-start' ? start.logDir : '';
};
/**
 * What the compile stage's log says this run: its verify's dry run and, if it ran, the build. Two runs
 * in one second of one process share a run id and so a log dir (their logs append): only what this
 * run added counts.
 */
let last: { dir: string; text: string } | undefined;
async function compileLog(events: PipelineEvent[]): Promise<string | undefined> {
  const dir = logDirOf(events);
  const text = await readFile(path.join(dir, 'compile.log'), 'utf8').catch(() => '');
  const before = last?.dir === dir ? last.text : '';
  last = { dir, text };
  return text.slice(before.length) || undefined;
}
/** The compiles the builder ran (each once: the test world's siso prints a step as it starts and ends). */
const compiles = (log: string | undefined) => [
  ...new Set([...(log ?? '').matchAll(/^\[\d+\/\d+\] (?:[\d.]+s )?(CC|CXX) (\S+)/gm)].map((m) => `${m[1]} ${m[2]}`)),
];
const file = (rel: string) => path.join(ws.dir, rel);

async function build() {
  const run = await runBuild(await config());
  expect(run.error).toBeUndefined();
  return { ...run, log: await compileLog(run.events) };
}

/** A run that did nothing and never started the builder: the snapshot proved the out dir up to date. */
async function expectProvenNoop() {
  const run = await build();
  expect(run.ran).toEqual([]);
  expect(run.skipped).toContain('compile');
  expect(run.log).toBeUndefined();
}

beforeAll(async () => {
  world = await startWorld();
  ws = await workspace('bq-noop-');
  const first = await build();
  expect(first.ran).toContain('compile');
  expect(first.log).toMatch(/snapshot of the finished build: \d+ files/);
});
afterAll(async () => {
  await ws?.remove();
  await world?.close();
});

describe('the no-op proof', () => {
  it('a rerun skips the compile stage without running the builder', async () => {
    await expectProvenNoop();
  });

  it('a touched source (a header, known from the deps log) recompiles what includes it', async () => {
    const header = file(`${QUICHE}/quiche/quic/core/quic_utils.h`);
    const now = new Date();
    await utimes(header, now, now);
    const run = await build();
    expect(run.ran).toContain('compile');
    expect(compiles(run.log)).toEqual(['CXX obj/net/third_party/quiche/src/quiche/quic/tools/libquiche.quic_simple_server_session.o']);
    await expectProvenNoop();
  });

  it('a deleted object is rebuilt, and only it and what links it', async () => {
    const object = 'obj/net/third_party/quiche/src/quiche/quic/tools/quic_toy_client.quic_toy_client.o';
    await unlink(file(`${OUT}/${object}`));
    const run = await build();
    expect(run.ran).toContain('compile');
    expect(compiles(run.log)).toEqual([`CXX ${object}`]);
    expect(existsSync(file(`${OUT}/${object}`))).toBe(true);
    await expectProvenNoop();
  });

  it('a changed flag in the ninja files (what gn writes for a new flag) recompiles, even with the mtime put back', async () => {
    const ninjaFile = file(`${OUT}/obj/net/third_party/quiche/quiche.ninja`);
    const before = await stat(ninjaFile);
    const text = await readFile(ninjaFile, 'utf8');
    expect(text).toContain('-O2');
    await writeFile(ninjaFile, text.replace('-O2', '-O1'));
    await utimes(ninjaFile, before.atime, before.mtime);
    const run = await build();
    expect(run.ran).toContain('compile');
    expect(compiles(run.log).length).toBeGreaterThan(0);
    await expectProvenNoop();
    // And back: the flag's old value builds again (ninja sees the command change back).
    await writeFile(ninjaFile, text);
    expect((await build()).ran).toContain('compile');
    await expectProvenNoop();
  });

  it('a cache without a snapshot (made by an earlier version) asks the builder once, then keeps one', async () => {
    await rm(file('cache/compile-snapshot.json'));
    const run = await build();
    expect(run.ran).toEqual([]);
    expect(run.log).toMatch(/ -n /);
    expect(existsSync(file('cache/compile-snapshot.json'))).toBe(true);
    await expectProvenNoop();
  });
});
