import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { quicheSource, resolveDependencies, rewriteUrl } from '../../../src/standalone/dependencies.js';
import { QUICHE_143, QUICHE_152, removeViews, showFile, SKIP_REASON } from '../../../testkit/shared-upstream.js';

afterAll(removeViews);

const MINIMAL = `
bazel_dep(name = "boringssl", version = "0.20260508.0")
bazel_dep(name = "abseil-cpp", version = "20260107.0.bcr.1")
bazel_dep(name = "protobuf", version = "31.1")
bazel_dep(name = "zlib", version = "1.3.1.bcr.5")
http_archive = use_repo_rule("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive")
http_archive(name = "com_google_quic_trace", urls = ["https://github.com/google/quic-trace/archive/${'a'.repeat(40)}.tar.gz"])
http_archive(name = "com_google_googleurl", urls = ["https://github.com/google/gurl/archive/${'b'.repeat(40)}.tar.gz"])
`;

const byName = (deps: ReturnType<typeof resolveDependencies>) => Object.fromEntries(deps.map((d) => [d.name, d]));

describe('rewriteUrl', () => {
  it('applies the longest matching prefix, like git insteadOf', () => {
    const mirrors = { 'https://github.com/': 'http://m/gh/', 'https://github.com/google/': 'http://m/google/' };
    expect(rewriteUrl('https://github.com/google/boringssl', mirrors)).toBe('http://m/google/boringssl');
    expect(rewriteUrl('https://github.com/abseil/abseil-cpp', mirrors)).toBe('http://m/gh/abseil/abseil-cpp');
  });

  it('leaves a URL no prefix matches unchanged', () => {
    expect(rewriteUrl('https://quiche.googlesource.com/quiche', { 'https://github.com/': 'x' })).toBe(
      'https://quiche.googlesource.com/quiche',
    );
  });
});

describe('quicheSource', () => {
  it('fetches quiche through the same mirrors as the dependencies', () => {
    expect(quicheSource(QUICHE_152, { mirrors: { 'https://quiche.googlesource.com/': 'http://127.0.0.1:8080/' } })).toEqual({
      url: 'http://127.0.0.1:8080/quiche',
      ref: QUICHE_152,
      expectedCommit: QUICHE_152,
    });
  });

  it('rejects a revision that is not a full commit id, naming quiche.revision', () => {
    expect(() => quicheSource('1ba0d99a')).toThrow(/quiche\.revision must be a full 40-hex commit id/);
  });
});

describe('resolveDependencies', () => {
  it('maps registry versions to upstream tags, dropping the .bcr.N packaging suffix', () => {
    const deps = byName(resolveDependencies(MINIMAL));
    expect(deps.boringssl).toMatchObject({
      url: 'https://github.com/google/boringssl',
      ref: '0.20260508.0',
      buildKind: 'cmake',
      origin: 'module-bazel',
    });
    expect(deps['abseil-cpp']).toMatchObject({ url: 'https://github.com/abseil/abseil-cpp', ref: '20260107.0' });
    expect(deps.protobuf).toMatchObject({ url: 'https://github.com/protocolbuffers/protobuf', ref: 'v31.1' });
    expect(deps.boringssl?.expectedCommit).toBeUndefined();
  });

  it('maps a GitHub archive of a commit to the repository and that commit, expected at HEAD', () => {
    const deps = byName(resolveDependencies(MINIMAL));
    expect(deps.googleurl).toMatchObject({
      url: 'https://github.com/google/gurl',
      ref: 'b'.repeat(40),
      expectedCommit: 'b'.repeat(40),
      buildKind: 'ninja-sources',
    });
    expect(deps['quic-trace']).toMatchObject({ url: 'https://github.com/google/quic-trace', expectedCommit: 'a'.repeat(40) });
  });

  it('uses the system zlib instead of cloning it', () => {
    expect(byName(resolveDependencies(MINIMAL)).zlib).toMatchObject({ buildKind: 'system', url: '' });
  });

  it('lists dependencies in build order: abseil before protobuf, which links against it', () => {
    const names = resolveDependencies(MINIMAL).map((d) => d.name);
    expect(names.indexOf('abseil-cpp')).toBeLessThan(names.indexOf('protobuf'));
  });

  it('takes an override URL and ref, rewritten by the mirrors as well', () => {
    const deps = byName(
      resolveDependencies(MINIMAL, {
        overrides: { googleurl: { url: 'https://quiche.googlesource.com/googleurl', ref: 'c'.repeat(40) } },
        mirrors: { 'https://quiche.googlesource.com/': 'http://127.0.0.1:9/' },
      }),
    );
    expect(deps.googleurl).toMatchObject({
      url: 'http://127.0.0.1:9/googleurl',
      ref: 'c'.repeat(40),
      expectedCommit: 'c'.repeat(40),
      origin: 'override',
    });
  });

  it('keeps the declared URL when an override sets only the ref', () => {
    const deps = byName(resolveDependencies(MINIMAL, { overrides: { protobuf: { ref: 'v31.0' } } }));
    expect(deps.protobuf).toMatchObject({ url: 'https://github.com/protocolbuffers/protobuf', ref: 'v31.0', origin: 'override' });
  });

  it('rewrites every default URL through the mirrors', () => {
    const deps = resolveDependencies(MINIMAL, { mirrors: { 'https://github.com/': 'http://127.0.0.1:8080/' } });
    for (const dep of deps.filter((d) => d.buildKind !== 'system')) expect(dep.url).toMatch(/^http:\/\/127\.0\.0\.1:8080\//);
  });

  it('rejects an unknown dependency, naming it and the config key that accepts it', () => {
    const text = `${MINIMAL}\nbazel_dep(name = "libfoo", version = "1.0")\n`;
    expect(() => resolveDependencies(text)).toThrow(ConfigError);
    expect(() => resolveDependencies(text)).toThrow(/does not know: libfoo/);
    try {
      resolveDependencies(text);
    } catch (error) {
      expect((error as ConfigError).hint).toContain('quiche.dependencies.libfoo = { ignore: true }');
    }
  });

  it('accepts an unknown dependency the config marks as not needed', () => {
    const text = `${MINIMAL}\nbazel_dep(name = "libfoo", version = "1.0")\n`;
    expect(resolveDependencies(text, { overrides: { libfoo: { ignore: true } } }).map((d) => d.name)).not.toContain('libfoo');
  });

  it('rejects a needed dependency that MODULE.bazel does not declare, naming the override', () => {
    const text = MINIMAL.replace(/^http_archive\(name = "com_google_googleurl".*$/m, '');
    expect(() => resolveDependencies(text)).toThrow(/googleurl.*no http_archive "com_google_googleurl"/);
    try {
      resolveDependencies(text);
    } catch (error) {
      expect((error as ConfigError).hint).toBe(
        "Set quiche.dependencies.googleurl = { url: '<git url>', ref: '<tag or 40-hex commit>' } in the config.",
      );
    }
  });

  it('rejects a registry version form it cannot map to a fetchable ref', () => {
    const text = MINIMAL.replace('0.20260508.0', '0.0.0-20240530-2db0eb3');
    expect(() => resolveDependencies(text)).toThrow(/boringssl.*"0\.0\.0-20240530-2db0eb3" is not a form the table knows/);
  });
});

describe.skipIf(SKIP_REASON)("quiche's real MODULE.bazel", () => {
  let at152 = '';
  let at143 = '';
  beforeAll(async () => {
    at152 = await showFile('quiche.git', QUICHE_152, 'MODULE.bazel');
    at143 = await showFile('quiche.git', QUICHE_143, 'MODULE.bazel');
  });

  it('resolves at the 152 pin to the refs held by ../shared/upstream', () => {
    const deps = byName(resolveDependencies(at152));
    expect(deps.boringssl?.ref).toBe('0.20260508.0');
    expect(deps['abseil-cpp']?.ref).toBe('20260107.0');
    expect(deps.protobuf?.ref).toBe('v31.1');
    expect(deps['quic-trace']).toMatchObject({
      url: 'https://github.com/google/quic-trace',
      expectedCommit: 'c33abf42245ee56745addc9f1e06f914c48c9ca4',
    });
    expect(deps.googleurl).toMatchObject({
      url: 'https://github.com/google/gurl',
      expectedCommit: '94ff147fe0b96b4cca5d6d316b9af6210c0b8051',
    });
  });

  it('cannot map the 143 pin’s googleurl (a storage.googleapis.com tarball) and says which override to set', () => {
    expect(() => resolveDependencies(at143)).toThrow(/googleurl.*storage\.googleapis\.com.*not a GitHub archive of a commit/);
    const withOverride = resolveDependencies(at143, {
      overrides: { googleurl: { url: 'https://quiche.googlesource.com/googleurl', ref: 'd'.repeat(40) } },
    });
    expect(byName(withOverride)['abseil-cpp']?.ref).toBe('20250814.0');
  });
});
