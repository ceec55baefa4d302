/**
 * The compile stage on a disk that fills up: exit 8 and a message that names the filesystem and its
 * free space (not "Compile failed at obj/…" with exit 9), and once space is freed the next run goes on
 * from where the compile stopped. The cache is on a real tmpfs (root only: skipped otherwise).
 */
import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesystemOf } from '../../src/process/disk-full.js';
import { removeTempDirs, tempDir } from '../../testkit/helpers.js';
import { offlineConfig, startWorld, writeConfigFile, type World } from '../../testkit/world.js';
import { spawnCli } from '../support/cli.js';

const ROOT = process.getuid?.() === 0;

let world: World;
let dir: string;
let mnt: string;

beforeAll(async () => {
  if (!ROOT) return;
  world = await startWorld();
  dir = await tempDir('bq-disk-full-compile');
  mnt = path.join(dir, 'fs');
  await mkdir(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512m', 'tmpfs', mnt]);
}, 240_000);
afterAll(async () => {
  if (mnt) execFileSync('umount', ['-l', mnt]);
  await world?.close();
  await removeTempDirs();
});

describe.skipIf(!ROOT)('a compile on a full disk', () => {
  it('exits 8 naming the filesystem, and after space is freed the next run finishes the compile', async () => {
    await writeConfigFile(dir, offlineConfig(world.server.baseUrl, mnt, { preflight: { minFreeDiskGb: 0 } }));
    const configured = await spawnCli(['build', '--plain', '--until', 'configure'], { cwd: dir });
    expect(configured.exitCode, configured.all).toBe(0);

    // Leave room for a few objects, not for the whole build.
    const filler = path.join(mnt, 'filler');
    const freeKb = Math.floor(filesystemOf(mnt)!.freeBytes / 1024);
    execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1k', `count=${freeKb - 600}`], { stdio: 'ignore' });
    const full = await spawnCli(['build', '--plain', '-j', '1'], { cwd: dir });
    expect(full.exitCode, full.all).toBe(8);
    expect(full.all).toContain('The disk is full');
    expect(full.all).toContain(`${mnt} (tmpfs tmpfs)`);
    expect(full.all).not.toMatch(/Compile failed at/);
    // The steps the full run finished (distinct [N/M] lines: the failure's tail repeats them, and the failing step is printed too).
    const progress = [...full.all.matchAll(/\[(\d+)\/(\d+)\]/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
    const total = progress[0]![1];
    const finished = new Set(progress.map(([n]) => n)).size - 1;

    execFileSync('rm', [filler]);
    const after = await spawnCli(['build', '--plain'], { cwd: dir });
    expect(after.exitCode, after.all).toBe(0);
    // Whatever the full run finished is not built again.
    const steps = Number(/compile: done in [^(]*\(\d+ binaries, (\d+) steps\)/.exec(after.all)?.[1]);
    expect(finished).toBeGreaterThan(0);
    expect(steps).toBeGreaterThan(0);
    expect(steps).toBeLessThanOrEqual(total - finished);
  }, 300_000);
});
