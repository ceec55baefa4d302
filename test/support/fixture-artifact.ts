import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MANIFEST_SCHEMA_VERSION } from '../../src/artifacts/manifest.js';
import { TOOL_VERSION } from '../../src/config/version.js';
import { isAlive } from '../../src/process/proc.js';
import { sha256 } from '../../src/util/fs.js';
import { cachedUpstream } from '../../testkit/build.js';
import { FIXTURE_SERIES, offlineConfig, resolved, runBuild, startWorld } from '../../testkit/world.js';

/**
 * A fixture artifact (the pipeline's real output on the local upstream: the fixture programs with
 * the migration patches, certs, manifest, SHA256SUMS), built once and kept
 * in a per-user cache keyed by everything it is made from, so every lab test file shares one build.
 */

const CACHE = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'build-quiche-test');

async function findTarball(dist: string): Promise<string | undefined> {
  const names = await readdir(dist).catch(() => [] as string[]);
  const tarball = names.find((n) => n.endsWith('-linux-x64.tar.gz'));
  return tarball ? path.join(dist, tarball) : undefined;
}

/** mkdir is atomic: the directory is the lock, its pid file says who holds it. */
async function withLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  await mkdir(path.dirname(dir), { recursive: true });
  for (;;) {
    try {
      await mkdir(dir);
      await writeFile(path.join(dir, 'pid'), String(process.pid));
      break;
    } catch {
      const holder = Number(await readFile(path.join(dir, 'pid'), 'utf8').catch(() => '0'));
      if (holder && !isAlive({ pid: holder })) await rm(dir, { recursive: true, force: true });
      else await sleep(500);
    }
  }
  try {
    return await work();
  } finally {
    await rm(path.join(dir, 'pid'), { force: true });
    await rmdir(dir).catch(() => undefined);
  }
}

/** What the artifact depends on: the upstream's sources, the patches applied, the manifest format and tool version. */
async function artifactKey(sourceHash: string): Promise<string> {
  const seriesDir = path.dirname(FIXTURE_SERIES('migration'));
  const patches = await Promise.all(
    (await readdir(seriesDir)).sort().map(async (f) => `${f}:${sha256(await readFile(path.join(seriesDir, f)))}`),
  );
  return sha256([sourceHash, ...patches, MANIFEST_SCHEMA_VERSION, TOOL_VERSION].join('\n')).slice(0, 16);
}

export async function fixtureArtifact(): Promise<string> {
  const upstream = await cachedUpstream();
  const home = path.join(CACHE, `lab-artifact-${await artifactKey(upstream.sourceHash)}`);
  const ready = await findTarball(path.join(home, 'dist'));
  if (ready) return ready;
  return withLock(`${home}.lock`, async () => {
    const again = await findTarball(path.join(home, 'dist'));
    if (again) return again;
    const work = `${home}.tmp-${process.pid}`;
    await rm(work, { recursive: true, force: true });
    const world = await startWorld();
    try {
      const config = await resolved(offlineConfig(world.server.baseUrl, work, { publish: [] }), work);
      const run = await runBuild(config);
      if (run.error) throw run.error;
    } finally {
      await world.close();
    }
    if (!(await findTarball(path.join(work, 'dist')))) throw new Error(`the pipeline left no artifact in ${work}/dist`);
    await rm(home, { recursive: true, force: true });
    await rename(work, home);
    await rm(path.join(home, 'cache'), { recursive: true, force: true }); // the checkout is not needed any more
    return (await findTarball(path.join(home, 'dist')))!;
  });
}

export const labUnavailable = (): string | undefined => {
  if (process.getuid?.() !== 0) return 'the migration lab needs root (network namespaces)';
  if (!existsSync('/usr/sbin/ip') && !existsSync('/sbin/ip') && !existsSync('/usr/bin/ip')) return 'iproute2 (ip) is not installed';
  if (!existsSync('/var/run/netns') && !existsSync('/run')) return 'no /run for named network namespaces';
  return undefined;
};
