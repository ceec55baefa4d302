import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { planQuicheBuild, type PlanInput } from '../../../src/standalone/build-plan.js';
import { generateNinjaFile } from '../../../src/standalone/ninja-file.js';
import { GOOGLEURL_PIN, QUICHE_152, removeViews, showFile, SKIP_REASON } from '../../../testkit/shared-upstream.js';

afterAll(removeViews);

describe.skipIf(SKIP_REASON)('planQuicheBuild at the 152 pin', () => {
  let input: PlanInput;
  beforeAll(async () => {
    input = {
      dirs: { quiche: '/s/quiche', googleurl: '/s/googleurl', quicTrace: '/s/quic-trace' },
      moduleBazel: await showFile('quiche.git', QUICHE_152, 'MODULE.bazel'),
      sourceListJson: await showFile('quiche.git', QUICHE_152, 'build/source_list.json'),
      buildBazel: await showFile('quiche.git', QUICHE_152, 'quiche/BUILD.bazel'),
      googleurlBuildFiles: {
        'url/BUILD': await showFile('googleurl.git', GOOGLEURL_PIN, 'url/BUILD'),
        'base/BUILD': await showFile('googleurl.git', GOOGLEURL_PIN, 'base/BUILD'),
      },
      installed: {
        boringssl: { prefix: '/p/b', files: ['include/openssl/ssl.h', 'lib/libcrypto.a', 'lib/libssl.a', 'bin/bssl'] },
        'abseil-cpp': { prefix: '/p/a', files: ['lib/libabsl_strings.a', 'lib/libabsl_base.a'] },
        protobuf: { prefix: '/p/p', files: ['bin/protoc', 'lib/libprotobuf.a', 'lib/libutf8_range.a', 'lib/libutf8_validity.a'] },
      },
      toolchain: { cc: 'gcc-12', cxx: 'g++-12', launcher: 'ccache' },
    };
  });

  it('yields ninja inputs for both programs with the installed libraries in link order', () => {
    const plan = planQuicheBuild(input);
    expect(plan.programs.map((p) => p.output)).toEqual(['epoll_quic_client', 'epoll_quic_server']);
    expect(plan.libraries).toEqual({
      ordered: ['/p/p/lib/libprotobuf.a', '/p/p/lib/libutf8_validity.a', '/p/p/lib/libutf8_range.a'],
      group: ['/p/a/lib/libabsl_base.a', '/p/a/lib/libabsl_strings.a'],
      after: ['/p/b/lib/libssl.a', '/p/b/lib/libcrypto.a'],
    });
    expect(plan.protoc).toBe('/p/p/bin/protoc');
    expect(plan.includeDirs.boringssl).toEqual(['/p/b/include']);
    expect(generateNinjaFile(plan)).toContain('build bin/epoll_quic_server: link ');
  });

  it('fails before generating anything when BUILD.bazel disagrees with the source-group choice', () => {
    const moved = {
      ...input,
      buildBazel: input.buildBazel.replace('srcs = io_tool_support_srcs,', 'srcs = io_tool_support_srcs + moqt_srcs,'),
    };
    expect(() => planQuicheBuild(moved)).toThrow(ConfigError);
  });
});
