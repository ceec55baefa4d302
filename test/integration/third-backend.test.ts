import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { installArtifact } from '../../src/artifacts/install.js';
import { buildLabel, manifestBackend } from '../../src/artifacts/manifest.js';
import type { ArtifactResult } from '../../src/artifacts/package.js';
import { build, clean, plan } from '../../src/api/pipeline.js';
import { loadConfig } from '../../src/config/load.js';
import { registerBackend } from '../../src/stages/backends/index.js';
import { tempDir } from '../support/artifacts.js';
import { PREBUILT_QUICHE, prebuiltBackend } from '../support/prebuilt-backend.js';

/**
 * docs/architecture.md's recipe for a new backend, followed by a test: a backend that copies prebuilt
 * programs plugs in through registerBackend() alone, and the common stages plan, package, publish and
 * reuse its builds without knowing which backend ran.
 */
let fixtures: string;
let store: string;
beforeAll(async () => {
  fixtures = await tempDir();
  for (const name of ['epoll_quic_client', 'epoll_quic_server']) await writeFile(path.join(fixtures, name), `#!/bin/sh\necho ${name}\n`);
  store = path.join(await tempDir(), 'store');
  registerBackend(prebuiltBackend(fixtures));
});

async function configIn(dir: string) {
  const series = path.join(dir, 'series');
  await writeFile(series, '');
  return loadConfig({
    inline: {
      backend: 'prebuilt',
      cacheDir: path.join(dir, 'cache'),
      distDir: path.join(dir, 'dist'),
      patches: { series },
      smoke: { enabled: false }, // the stand-in programs serve nothing
      publish: [{ type: 'dir', path: store }],
      preflight: { minFreeDiskGb: 0.1, minMemoryGb: 0.5 },
    },
    cwd: dir,
    env: {},
  });
}

describe('a third backend, registered from outside the common code', () => {
  it('builds, packages, publishes, and a second machine reuses its artifact', async () => {
    const first = await tempDir();
    const config = await configIn(first);
    expect((await plan({ config })).map((e) => e.stage)).toEqual([
      'preflight',
      'resolve',
      'patch-check',
      'prebuilt-pins',
      'reuse',
      'checkout',
      'patch',
      'compile',
      'smoke',
      'package',
      'publish',
    ]);

    const built = await build({ config });
    expect(built.ran).toEqual(['resolve', 'patch-check', 'prebuilt-pins', 'reuse', 'checkout', 'patch', 'compile', 'package', 'publish']);
    const artifact = built.outputs.package as ArtifactResult;
    expect(artifact.name).toBe(`quiche-quiche-${PREBUILT_QUICHE.slice(0, 12)}-unpatched-prebuilt-linux-x64`);
    expect(buildLabel(artifact.manifest)).toBe(`quiche-${PREBUILT_QUICHE.slice(0, 12)}`);
    expect(manifestBackend(artifact.manifest)).toBe('prebuilt');
    expect(artifact.manifest).toMatchObject({ schema: 2, inputs: { src: null, quiche: PREBUILT_QUICHE } });
    expect(Object.keys((artifact.manifest as unknown as { prebuilt: { files: object } }).prebuilt.files)).toEqual([
      'epoll_quic_client',
      'epoll_quic_server',
    ]);
    const installed = await installArtifact(path.join(first, 'dist'), { to: path.join(first, 'installed') });
    expect(Object.keys(installed.binaries).sort()).toEqual(['epoll_quic_client', 'epoll_quic_server']);

    const again = await build({ config });
    expect(again.ran).toEqual([]);

    // Another cache and dist dir with the same store: the artifact is found by fingerprint, nothing is copied.
    const second = await tempDir();
    const reused = await build({ config: await configIn(second) });
    expect(reused.ran).toEqual(['resolve', 'patch-check', 'prebuilt-pins', 'reuse', 'publish']);
    expect(reused.outputs.reuse).toMatchObject({ hit: true, fingerprint: artifact.manifest.fingerprint });
    expect(reused.outputs.compile).toBeUndefined();

    expect((await clean({ config, checkout: true })).removed).toEqual([path.join(first, 'cache', 'prebuilt')]);
  });
});
