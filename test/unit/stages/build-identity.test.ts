import { describe, expect, it } from 'vitest';
import { parseManifest, MANIFEST_SCHEMA_VERSION, PLATFORM } from '../../../src/artifacts/manifest.js';
import { loadConfig } from '../../../src/config/load.js';
import type { UserConfig } from '../../../src/config/schema.js';
import { artifactNameOf, buildFingerprint, buildIdentity, manifestFieldsOf } from '../../../src/stages/build-identity.js';
import { createAppContext } from '../../../src/stages/context.js';
import type { DependencyPinsOutput } from '../../../src/stages/backends/standalone/dependency-pins.js';

const QUICHE = '1ba0d99a5c2fec4f4dbb7f98f251b05dcf4e2968';
const STANDALONE_FINGERPRINT = 'f693f1da9fe7d924d37a8b8c1f42d2613e00aec0c670507241b1a82ff24da326';
const RESOLVE = {
  version: 'quiche-1ba0d99a5c2f',
  ref: QUICHE,
  srcUrl: '',
  srcCommit: '',
  quicheRevision: QUICHE,
  quicheUrl: 'http://m/quiche',
  deps: [],
  via: 'git',
};
const PATCH_CHECK = {
  patchset: '8b63d5e7a424',
  patches: [{ file: '0001-a.patch', repo: 'quiche', sha256: 'a'.repeat(64), subject: 'a' }],
  files: { quiche: [], src: [] },
};
const DEPS: DependencyPinsOutput = {
  quiche: { url: 'http://m/quiche', commit: QUICHE },
  dependencies: [
    {
      name: 'boringssl',
      buildKind: 'cmake',
      url: 'http://m/boringssl',
      canonicalUrl: 'https://github.com/google/boringssl',
      ref: '0.20260508.0',
      commit: '8fd77b6bedc4111625f9c51acf19f519fc4cf1d4',
      origin: 'module-bazel',
    },
  ],
  system: ['zlib'],
  toolchain: { cc: 'gcc-12', cxx: 'g++-12', compilerId: 'g++-12 (Debian 12.2.0-14+deb12u1) 12.2.0', flags: ['-O1'], launcher: 'ccache' },
};

/** The same pin resolved for the chromium backend: a Chromium version with its src commit and tools. */
const CHROMIUM_RESOLVE = {
  ...RESOLVE,
  version: '152.0.7977.83',
  srcCommit: 'c'.repeat(40),
  depotToolsRevision: 'd'.repeat(40),
  gnVersion: 'git_revision:abc',
};

async function identityWith(config: UserConfig, deps: DependencyPinsOutput = DEPS) {
  const app = createAppContext(await loadConfig({ inline: config, cwd: '/tmp', env: {} }));
  const resolve = config.backend === 'chromium' ? CHROMIUM_RESOLVE : RESOLVE;
  const outputs: Record<string, unknown> = { resolve, 'patch-check': PATCH_CHECK, 'dependency-pins': deps };
  const read = <T>(id: string) => outputs[id] as T;
  return { app, identity: buildIdentity({ app, upstream: read, upstreamIfDone: read }) };
}

describe('the build identity', () => {
  // Artifacts in stores are keyed by these hashes, so a refactoring must not move them. The chromium
  // one was computed before the backend seam (commit c74d3e1). The standalone one moved once, on
  // purpose: its identity names canonical URLs instead of mirrors, and the path maps that make its bytes
  // the same in every cache dir (docs/distributed.md, "Existing stores").
  it('hashes to the fingerprints existing artifacts carry, for both backends', async () => {
    expect(buildFingerprint((await identityWith({ backend: 'quiche' })).identity)).toBe(STANDALONE_FINGERPRINT);
    const chromium = await identityWith({ backend: 'chromium', gclient: { customDeps: { 'src/x': null } } });
    expect(chromium.identity).not.toHaveProperty('backend');
    expect(buildFingerprint(chromium.identity)).toBe('12140cf1d089cb5fd16935e23595abe65c14cdfe4089087f79519120c79fea06');
  });
});

describe('the chromium build identity and remote execution', () => {
  // Where the compiles ran does not change the bytes: siso's remote execution (remoteExecution, the
  // use_remoteexec/use_siso/use_reclient args it layers over args.gn) must not move the fingerprint, or
  // an artifact built remotely would never be reused by a local build, and the other way round.
  it('is the same with and without remote execution, and so is the manifest', async () => {
    const local = await identityWith({ backend: 'chromium' });
    const remote = await identityWith({
      backend: 'chromium',
      remoteExecution: {
        address: 'remote.buildbuddy.io:443',
        instance: 'default',
        backendConfig: '/etc/siso/backend.star',
        credentialHelper: '/usr/local/bin/bb-key',
        remoteJobs: 200,
        localJobs: 2,
        cacheOnly: true,
        keepExecStream: true,
      },
    });
    expect(buildFingerprint(remote.identity)).toBe(buildFingerprint(local.identity));
    expect(remote.identity.gnArgs).toEqual(local.identity.gnArgs);
    expect(remote.identity.gnArgs).toMatchObject({ use_remoteexec: false });
    expect(remote.identity.gnArgs).not.toHaveProperty('use_reclient');
    expect(manifestFieldsOf(remote.identity, remote.app.config)).toEqual(manifestFieldsOf(local.identity, local.app.config));
  });
});

describe('the standalone build identity', () => {
  it('names the backend, quiche, every dependency pin and the compiler, and nothing of gn', async () => {
    const { identity } = await identityWith({ backend: 'quiche' });
    expect(identity).toMatchObject({
      backend: 'quiche',
      version: 'quiche-1ba0d99a5c2f',
      src: null,
      quiche: QUICHE,
      targets: ['//quiche:quic_client', '//quiche:quic_server'],
      dependencies: [
        {
          name: 'boringssl',
          url: 'https://github.com/google/boringssl',
          ref: '0.20260508.0',
          commit: '8fd77b6bedc4111625f9c51acf19f519fc4cf1d4',
        },
      ],
      toolchain: {
        compiler: 'g++-12 (Debian 12.2.0-14+deb12u1) 12.2.0',
        cc: 'gcc-12',
        cxx: 'g++-12',
        flags: ['-O1'],
        paths: 'mapped-relative',
      },
    });
    expect(identity).not.toHaveProperty('gnArgs');
  });

  it('a dependency at another commit is another build; ccache or not is the same build', async () => {
    const base = buildFingerprint((await identityWith({ backend: 'quiche' })).identity);
    const moved = { ...DEPS, dependencies: [{ ...DEPS.dependencies[0]!, commit: 'f'.repeat(40) }] };
    expect(buildFingerprint((await identityWith({ backend: 'quiche' }, moved)).identity)).not.toBe(base);
    const { launcher: _launcher, ...withoutCcache } = DEPS.toolchain;
    expect(buildFingerprint((await identityWith({ backend: 'quiche' }, { ...DEPS, toolchain: withoutCcache })).identity)).toBe(base);
  });

  it('is the same whichever mirror the sources came through; another canonical source is another build', async () => {
    const base = buildFingerprint((await identityWith({ backend: 'quiche' })).identity);
    const mirrored = (url: string, quicheUrl: string): DependencyPinsOutput => ({
      ...DEPS,
      quiche: { url: quicheUrl, commit: QUICHE },
      dependencies: [{ ...DEPS.dependencies[0]!, url }],
    });
    for (const [url, quicheUrl] of [
      ['file:///srv/mirror-a/boringssl.git', 'file:///srv/mirror-a/quiche.git'],
      ['http://127.0.0.1:9/github.com/google/boringssl.git', 'http://127.0.0.1:9/quiche.googlesource.com/quiche.git'],
      ['https://github.com/google/boringssl', 'https://quiche.googlesource.com/quiche'],
    ]) {
      expect(buildFingerprint((await identityWith({ backend: 'quiche' }, mirrored(url!, quicheUrl!))).identity)).toBe(base);
    }
    const replaced = { ...DEPS, dependencies: [{ ...DEPS.dependencies[0]!, canonicalUrl: 'https://example.org/fork/boringssl' }] };
    expect(buildFingerprint((await identityWith({ backend: 'quiche' }, replaced)).identity)).not.toBe(base);
  });

  it('the manifest records the backend and every dependency URL, ref and commit, and validates', async () => {
    const { app, identity } = await identityWith({ backend: 'quiche' });
    const name = artifactNameOf(identity, app.config);
    expect(name).toBe('quiche-quiche-1ba0d99a5c2f-8b63d5e7a424-standalone-linux-x64');
    const manifest = parseManifest({
      schema: MANIFEST_SCHEMA_VERSION,
      name,
      platform: PLATFORM,
      files: [],
      ...manifestFieldsOf(identity, app.config),
      smoke: null,
      fingerprint: buildFingerprint(identity),
      tool: { name: 'build-quiche', version: '0.1.0' },
    });
    expect(manifest).toMatchObject({ schema: 2, version: 'quiche-1ba0d99a5c2f', backend: 'quiche', inputs: { src: null, quiche: QUICHE } });
    expect(manifest).not.toHaveProperty('gnArgs');
    expect(Object.keys(manifest)).not.toContain('chromium');
    expect(manifest.schema === 2 && manifest.standalone).toEqual({
      dependencies: [
        {
          name: 'boringssl',
          url: 'https://github.com/google/boringssl',
          ref: '0.20260508.0',
          commit: '8fd77b6bedc4111625f9c51acf19f519fc4cf1d4',
        },
      ],
      toolchain: {
        compiler: 'g++-12 (Debian 12.2.0-14+deb12u1) 12.2.0',
        cc: 'gcc-12',
        cxx: 'g++-12',
        flags: ['-O1'],
        paths: 'mapped-relative',
      },
    });
    // Nothing of where it was fetched from: no mirror URL in the published manifest.
    expect(JSON.stringify(manifest)).not.toContain('http://m/');
  });
});

describe('a distributed compiler is not part of the identity', () => {
  const DISTRIBUTED: UserConfig['distributed'] = {
    engine: 'distcc',
    hosts: ['10.0.0.5/8,lzo', 'builder@10.0.0.6/8,lzo'],
    onUnusableHost: 'stop',
    fallback: false,
    jobs: 40,
    localJobs: 1,
    compilers: ['g++-12'],
  };

  it('gives the standalone build the fingerprint of a local one', async () => {
    const local = await identityWith({ backend: 'quiche' });
    const distributed = await identityWith({ backend: 'quiche', distributed: DISTRIBUTED });
    expect(distributed.identity).toEqual(local.identity);
    expect(buildFingerprint(distributed.identity)).toBe(STANDALONE_FINGERPRINT);
  });

  it('gives the Chromium build the fingerprint of a local one: cc_wrapper goes to args.gn, not into gnArgs', async () => {
    const local = await identityWith({ backend: 'chromium' });
    const distributed = await identityWith({ backend: 'chromium', distributed: DISTRIBUTED });
    expect(distributed.identity).toEqual(local.identity);
    expect(distributed.identity).not.toHaveProperty('gnArgs.cc_wrapper');
  });
});
