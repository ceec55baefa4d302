import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { parseModuleBazel } from '../../../src/standalone/module-bazel.js';
import { parseStarlark, StarlarkSyntaxError } from '../../../src/standalone/starlark.js';
import { QUICHE_143, QUICHE_150, QUICHE_152, removeViews, showFile, SKIP_REASON } from '../../../testkit/shared-upstream.js';

afterAll(removeViews);

describe('Starlark subset parser', () => {
  it('reads keyword arguments, lists, comments, trailing commas and string concatenation', () => {
    const [statement] = parseStarlark('f(\n  a = "x" "y",  # comment\n  b = [1, "two",],\n  c = g(h = {"k": "v"}) + z,\n)\n');
    expect(statement?.kind).toBe('call');
    if (statement?.kind !== 'call') return;
    expect(statement.call.kwargs.get('a')).toMatchObject({ kind: 'string', value: 'xy' });
    expect(statement.call.kwargs.get('b')).toMatchObject({
      kind: 'list',
      items: [
        { kind: 'int', value: 1 },
        { kind: 'string', value: 'two' },
      ],
    });
    expect(statement.call.kwargs.get('c')).toMatchObject({
      kind: 'add',
      left: { kind: 'call', callee: 'g' },
      right: { kind: 'ident', name: 'z' },
    });
  });

  it('names the line and column of a syntax error', () => {
    expect(() => parseStarlark('bazel_dep(name = "a",\n  version = )\n', 'MODULE.bazel')).toThrow(
      /^MODULE\.bazel:2:13: expected a value but found "\)"/,
    );
  });

  it('rejects statements outside the subset instead of skipping them', () => {
    expect(() => parseStarlark('def f():\n  pass\n')).toThrow(StarlarkSyntaxError);
  });

  it('rejects an unterminated string', () => {
    expect(() => parseStarlark('x = "abc\n')).toThrow(/newline in a string/);
  });
});

describe('parseModuleBazel', () => {
  it('reads bazel_dep, http_archive bound through use_repo_rule, and git_override', () => {
    const parsed = parseModuleBazel(`
module(name = "m")
bazel_dep(name = "abseil-cpp", version = "20260107.0", repo_name = "com_google_absl")
bazel_dep(name = "googletest", version = "1.17.0", dev_dependency = True)
fetch = use_repo_rule("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive")
fetch(name = "x", urls = ["https://example.org/x.tar.gz"], strip_prefix = "x-1", sha256 = "ab")
git_override(module_name = "boringssl", remote = "https://example.org/b.git", commit = "${'c'.repeat(40)}")
`);
    expect(parsed.moduleName).toBe('m');
    expect(parsed.bazelDeps).toEqual([
      { name: 'abseil-cpp', version: '20260107.0', repoName: 'com_google_absl', devDependency: false },
      { name: 'googletest', version: '1.17.0', devDependency: true },
    ]);
    expect(parsed.httpArchives).toEqual([{ name: 'x', urls: ['https://example.org/x.tar.gz'], stripPrefix: 'x-1', sha256: 'ab' }]);
    expect(parsed.gitRepositories).toEqual([{ name: 'boringssl', remote: 'https://example.org/b.git', commit: 'c'.repeat(40) }]);
  });

  it('turns a syntax error into a ConfigError that says what to set instead', () => {
    expect(() => parseModuleBazel('bazel_dep(name = "a" version = "1")')).toThrow(ConfigError);
    expect(() => parseModuleBazel('bazel_dep(name = "a" version = "1")')).toThrow(/MODULE\.bazel:1:22/);
  });

  it('requires a version on bazel_dep', () => {
    expect(() => parseModuleBazel('bazel_dep(name = "a")')).toThrow(/bazel_dep\(\.\.\.\) has no version/);
  });

  it.skipIf(SKIP_REASON)("reads quiche's real MODULE.bazel at the 152 pin", async () => {
    const parsed = parseModuleBazel(await showFile('quiche.git', QUICHE_152, 'MODULE.bazel'));
    expect(parsed.moduleName).toBe('quiche');
    expect(parsed.bazelDeps.find((d) => d.name === 'boringssl')?.version).toBe('0.20260508.0');
    expect(parsed.bazelDeps.find((d) => d.name === 'abseil-cpp')).toMatchObject({ version: '20260107.0', repoName: 'com_google_absl' });
    expect(parsed.bazelDeps.find((d) => d.name === 'protobuf')?.version).toBe('31.1');
    expect(parsed.httpArchives.map((a) => a.name)).toEqual([
      'com_google_quic_trace',
      'com_google_googleurl',
      'com_google_anonymous_tokens',
    ]);
    expect(parsed.httpArchives[0]?.stripPrefix).toBe('quic-trace-c33abf42245ee56745addc9f1e06f914c48c9ca4');
  });

  it.skipIf(SKIP_REASON)('reads the MODULE.bazel of the 150 and 143 pins too', async () => {
    for (const pin of [QUICHE_150, QUICHE_143]) {
      const parsed = parseModuleBazel(await showFile('quiche.git', pin, 'MODULE.bazel'));
      expect(parsed.bazelDeps.map((d) => d.name)).toEqual(expect.arrayContaining(['boringssl', 'abseil-cpp', 'protobuf']));
    }
  });
});
