/**
 * The real upstream sources (../shared/upstream: read-only bare repos of quiche, BoringSSL, abseil,
 * protobuf, googleurl, quic-trace) laid out as the hosts they come from, so the local test upstream can
 * serve them and one `quiche.mirrors` setting points every URL at it:
 *
 *   <views>/quiche.googlesource.com/quiche.git     <- quiche.git
 *   <views>/github.com/google/boringssl.git        <- boringssl.git   ...
 *
 * Each view is a tiny git dir (HEAD, packed-refs, config, an empty refs/, shallow, and
 * objects/info/alternates naming the real objects): the shared repos have no refs/ directory, so git
 * does not recognize them as repositories, and nothing may be written into them.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { UPSTREAM_DIR } from './shared-upstream.js';

export { UPSTREAM_DIR };

/** The persistent cache of the real tier: views, the build's cache and dist, ccache. Outside the clone. */
export const REAL_CACHE = process.env.BQ_REAL_CACHE ?? path.join(os.homedir(), '.cache', 'build-quiche-real');

/** Served path (under the server's root) -> shared repo. */
export const VIEW_LAYOUT: Readonly<Record<string, string>> = {
  'quiche.googlesource.com/quiche.git': 'quiche.git',
  'quiche.googlesource.com/googleurl.git': 'googleurl.git',
  'github.com/google/boringssl.git': 'boringssl.git',
  'github.com/abseil/abseil-cpp.git': 'abseil-cpp.git',
  'github.com/protocolbuffers/protobuf.git': 'protobuf.git',
  'github.com/google/quic-trace.git': 'quic-trace.git',
};

/** Where googleurl really lives; quiche's MODULE.bazel names a GitHub archive of a commit not provided here. */
export const GOOGLEURL_URL = 'https://quiche.googlesource.com/googleurl';

/** Every upstream host, rewritten to the local server (like git's url.<base>.insteadOf). */
export function mirrorsFor(baseUrl: string): Record<string, string> {
  return {
    'https://quiche.googlesource.com/': `${baseUrl}/quiche.googlesource.com/`,
    'https://github.com/': `${baseUrl}/github.com/`,
  };
}

async function makeView(source: string, target: string): Promise<void> {
  const alternates = `${path.join(source, 'objects')}\n`;
  const current = await readFile(path.join(target, 'objects/info/alternates'), 'utf8').catch(() => undefined);
  if (current === alternates && existsSync(path.join(target, 'packed-refs'))) return;
  // Made whole in a temp dir and renamed: a killed run leaves no half view.
  const tmp = `${target}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(path.join(tmp, 'refs/heads'), { recursive: true });
  await mkdir(path.join(tmp, 'refs/tags'), { recursive: true });
  await mkdir(path.join(tmp, 'objects/info'), { recursive: true });
  for (const file of ['HEAD', 'packed-refs', 'config', 'shallow']) {
    if (existsSync(path.join(source, file))) await copyFile(path.join(source, file), path.join(tmp, file));
  }
  await writeFile(path.join(tmp, 'objects/info/alternates'), alternates);
  await rm(target, { recursive: true, force: true });
  await mkdir(path.dirname(target), { recursive: true });
  await rename(tmp, target);
}

/** Creates (or refreshes) the views of every shared repo under `viewsDir`; returns viewsDir. */
export async function ensureViews(viewsDir: string, upstreamDir = UPSTREAM_DIR): Promise<string> {
  if (!upstreamDir) throw new Error('no ../shared/upstream: the real tier needs the shared upstream sources');
  for (const [served, repo] of Object.entries(VIEW_LAYOUT)) await makeView(path.join(upstreamDir, repo), path.join(viewsDir, served));
  return viewsDir;
}

/** The full commit of the ref under `refs/pins/` (or any ref) whose name starts with `prefix`. */
export async function refCommit(gitDir: string, refPrefix: string): Promise<string> {
  const text = await readFile(path.join(gitDir, 'packed-refs'), 'utf8');
  const hits = text
    .split('\n')
    .filter((line) => /^[0-9a-f]{40} /.test(line))
    .map((line) => line.split(' ') as [string, string])
    .filter(([, ref]) => ref.startsWith(refPrefix));
  if (hits.length !== 1) throw new Error(`${gitDir}: expected one ref starting with ${refPrefix}, found ${hits.length}`);
  return hits[0]![0];
}

/** quiche's pin for Chromium 152.0.7977.83 (upstream README: refs/pins/1ba0d99a…). */
export const quiche152 = (viewsDir: string) => refCommit(path.join(viewsDir, 'quiche.googlesource.com/quiche.git'), 'refs/pins/1ba0d99a');

/** The one googleurl commit provided (refs/pins/<commit>). */
export const googleurlPin = (viewsDir: string) => refCommit(path.join(viewsDir, 'quiche.googlesource.com/googleurl.git'), 'refs/pins/');
