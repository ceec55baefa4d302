import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { checkExternalRepos } from '../../../src/standalone/dependencies.js';
import { GOOGLEURL_LIBRARIES, librarySources } from '../../../src/standalone/googleurl.js';
import {
  allSources,
  bazelClosure,
  checkProgramChoice,
  parseSourceList,
  programSources,
  PROGRAMS,
  type SourceList,
} from '../../../src/standalone/source-list.js';
import { GOOGLEURL_PIN, QUICHE_152, removeViews, showFile, SKIP_REASON } from '../../../testkit/shared-upstream.js';

afterAll(removeViews);

const client = PROGRAMS.find((p) => p.bazelTarget === 'quic_client')!;
const server = PROGRAMS.find((p) => p.bazelTarget === 'quic_server')!;

describe('parseSourceList', () => {
  it('rejects a group that is not a list of file names', () => {
    expect(() => parseSourceList('{"quiche_core_srcs": [1]}')).toThrow(/group "quiche_core_srcs" is not a list of file names/);
  });

  it('rejects text that is not JSON', () => {
    expect(() => parseSourceList('{')).toThrow(ConfigError);
  });
});

describe('programSources on a small list', () => {
  const list: SourceList = {
    quiche_core_srcs: ['a.cc', 'a.h', 'sock_win.inc'],
    default_platform_impl_srcs: ['p.cc'],
    quiche_tool_support_srcs: ['t.cc'],
    default_platform_impl_tool_support_srcs: [],
    io_tool_support_srcs: ['io.cc'],
    cli_tools_srcs: [...client.files, ...server.files],
    protobuf: ['x.proto'],
  };

  it('compiles only translation units, not headers or #included .inc files', () => {
    expect(programSources(list, client).sources).toEqual([
      'a.cc',
      'io.cc',
      'p.cc',
      'quiche/quic/tools/quic_client_bin.cc',
      'quiche/quic/tools/quic_toy_client.cc',
      't.cc',
    ]);
  });

  it('fails naming the group when source_list.json no longer has it', () => {
    const { io_tool_support_srcs: _, ...without } = list;
    expect(() => programSources(without, client)).toThrow(/has no group "io_tool_support_srcs"/);
  });

  it('fails when a program file moved out of cli_tools_srcs', () => {
    expect(() => programSources({ ...list, cli_tools_srcs: [] }, server)).toThrow(/does not list quiche\/quic\/tools\/quic_server_bin\.cc/);
  });
});

describe('bazelClosure', () => {
  const build = `
load("//build:source_list.bzl", "g1_srcs")
cc_library(name = "lib", srcs = g1_srcs + ["x.cc", "x.h"], deps = [":protos_cc", "@boringssl//:ssl"])
proto_library(name = "protos", srcs = ["p.proto"])
cc_proto_library(name = "protos_cc", deps = [":protos"])
cc_binary(name = "bin", srcs = ["bin.cc"], deps = [":lib", "@com_google_absl//absl/strings"])
cc_binary(name = "other", srcs = ["other.cc"], deps = [":missing"])
`;

  it('follows local deps transitively and collects groups, files, protos and external repositories', () => {
    expect(bazelClosure(build, 'bin')).toEqual({
      groups: ['g1_srcs'],
      files: ['quiche/bin.cc', 'quiche/x.cc'],
      protos: ['quiche/p.proto'],
      externalRepos: ['boringssl', 'com_google_absl'],
    });
  });

  it('fails on a dependency on a target that does not exist', () => {
    expect(() => bazelClosure(build, 'other')).toThrow(/has no target "missing"/);
  });
});

describe.skipIf(SKIP_REASON)('the documented choice against quiche at the 152 pin', () => {
  let list: SourceList;
  let buildBazel = '';
  beforeAll(async () => {
    list = parseSourceList(await showFile('quiche.git', QUICHE_152, 'build/source_list.json'));
    buildBazel = await showFile('quiche.git', QUICHE_152, 'quiche/BUILD.bazel');
  });

  it('matches what BUILD.bazel links into quic_client and quic_server', () => {
    for (const program of PROGRAMS) expect(() => checkProgramChoice(buildBazel, list, program)).not.toThrow();
  });

  it('needs only the external repositories the dependency table provides (or knows to be unused)', () => {
    const repos = new Set(PROGRAMS.flatMap((p) => checkProgramChoice(buildBazel, list, p).externalRepos));
    expect([...repos].sort()).toEqual([
      'boringssl',
      'com_google_absl',
      'com_google_googletest',
      'com_google_googleurl',
      'com_google_quic_trace',
      'zlib',
    ]);
  });

  it('references only repositories the dependency table provides or knows to be unused', async () => {
    const moduleBazel = await showFile('quiche.git', QUICHE_152, 'MODULE.bazel');
    const repos = PROGRAMS.flatMap((p) => checkProgramChoice(buildBazel, list, p).externalRepos);
    expect(() => checkExternalRepos(moduleBazel, repos)).not.toThrow();
    expect(() => checkExternalRepos(moduleBazel, [...repos, 'com_github_nghttp2'])).toThrow(/does not provide: com_github_nghttp2/);
  });

  it('fails loudly, naming the difference, when BUILD.bazel links a group the choice lacks', () => {
    const moved = buildBazel.replace('srcs = io_tool_support_srcs,', 'srcs = io_tool_support_srcs + balsa_srcs,');
    expect(moved).not.toBe(buildBazel);
    expect(() => checkProgramChoice(moved, list, client)).toThrow(/source groups BUILD\.bazel uses but build-quiche does not: balsa_srcs/);
  });

  it('compiles about 360 translation units for both programs, each once', () => {
    const { sources, protos } = allSources(list);
    expect(sources.length).toBeGreaterThan(300);
    expect(sources.length).toBeLessThan(420);
    expect(new Set(sources).size).toBe(sources.length);
    expect(protos).toEqual([
      'quiche/quic/core/proto/cached_network_parameters.proto',
      'quiche/quic/core/proto/crypto_server_config.proto',
      'quiche/quic/core/proto/source_address_token.proto',
    ]);
  });

  it('reads googleurl’s url and base sources from its BUILD files, without the ICU variant', async () => {
    const sources = [];
    for (const { buildFile, target } of GOOGLEURL_LIBRARIES) {
      sources.push(...librarySources(await showFile('googleurl.git', GOOGLEURL_PIN, buildFile), buildFile, target));
    }
    expect(sources).toContain('url/gurl.cc');
    expect(sources).toContain('url/third_party/mozilla/url_parse.cc');
    expect(sources).toContain('url/url_idna_ascii_only.cc');
    expect(sources).not.toContain('url/url_idna_icu.cc');
    expect(sources).toContain('base/strings/string_util.cc');
    expect(sources).not.toContain('base/strings/string_util_win.cc');
  });
});
