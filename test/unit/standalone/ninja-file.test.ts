import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateNinjaFile, translationUnitCount, type NinjaInputs } from '../../../src/standalone/ninja-file.js';
import { allSources, parseSourceList, programSources, PROGRAMS } from '../../../src/standalone/source-list.js';
import { QUICHE_152, removeViews, showFile, SKIP_REASON } from '../../../testkit/shared-upstream.js';

afterAll(removeViews);

const base: NinjaInputs = {
  quicheDir: '/s/quiche',
  googleurlDir: '/s/googleurl',
  quicTraceDir: '/s/quic-trace',
  programs: [
    { output: 'epoll_quic_server', sources: ['quiche/b.cc', 'quiche/server_bin.cc'] },
    { output: 'epoll_quic_client', sources: ['quiche/b.cc', 'quiche/a.cc', 'quiche/client_bin.cc'] },
  ],
  quicheProtos: ['quiche/quic/core/proto/x.proto'],
  quicTraceProtos: ['quic_trace/quic_trace.proto'],
  googleurlSources: ['url/gurl.cc'],
  includeDirs: { boringssl: ['/p/boringssl/include'], others: ['/p/abseil/include', '/p/protobuf/include'] },
  libraries: {
    ordered: ['/p/protobuf/lib/libprotobuf.a'],
    group: ['/p/abseil/lib/libabsl_base.a'],
    after: ['/p/boringssl/lib/libssl.a', '/p/boringssl/lib/libcrypto.a'],
  },
  systemLibs: ['-lz', '-lpthread'],
  protoc: '/p/protobuf/bin/protoc',
  cc: 'gcc-12',
  cxx: 'g++-12',
  launcher: 'ccache',
};

describe('generateNinjaFile', () => {
  it('is deterministic: input order does not change a byte', () => {
    const shuffled = { ...base, programs: [...base.programs].reverse().map((p) => ({ ...p, sources: [...p.sources].reverse() })) };
    expect(generateNinjaFile(shuffled)).toBe(generateNinjaFile(base));
  });

  it('puts BoringSSL’s include directory before every other include', () => {
    const includes = /^includes = (.*)$/m.exec(generateNinjaFile(base))?.[1]?.split(' ');
    expect(includes?.[0]).toBe('-I/p/boringssl/include');
    expect(includes).toContain('-I/s/quiche/quiche/common/platform/default');
  });

  it('compiles at -O1 by default, with quiche’s C++20 no-RTTI flags, through the launcher', () => {
    const text = generateNinjaFile(base);
    expect(text).toMatch(/^quiche_flags = -O1 -std=c\+\+20 -fno-rtti /m);
    expect(text).toMatch(/^cxx = ccache g\+\+-12$/m);
    expect(generateNinjaFile({ ...base, optimization: '-O2' })).toMatch(/^quiche_flags = -O2 /m);
  });

  it('calls the compiler directly when there is no launcher', () => {
    expect(generateNinjaFile({ ...base, launcher: undefined })).toMatch(/^cxx = g\+\+-12$/m);
  });

  it('distributing: distcc as the launcher without ccache, links and protoc in a local pool', () => {
    const text = generateNinjaFile({ ...base, launcher: 'distcc', localPool: 2 });
    expect(text).toMatch(/^cxx = distcc g\+\+-12$/m);
    expect(text).toMatch(/^pool local\n {2}depth = 2$/m);
    expect(text).toMatch(/^rule link\n {2}command = g\+\+-12 -o \$out \$in \$libs\n {2}description = LINK \$out\n {2}pool = local$/m);
    expect(text).toMatch(/^rule protoc\n.*\n.*\n {2}pool = local$/m);
    expect(text).not.toMatch(/rule cxx\n(.*\n){0,4} {2}pool/);
    expect(generateNinjaFile(base)).not.toMatch(/pool/);
  });

  it('the pool is one ninja reads: link and protoc in it, compiles not', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bq-ninja-pool-'));
    try {
      writeFileSync(path.join(dir, 'build.ninja'), generateNinjaFile({ ...base, launcher: 'distcc', localPool: 2 }));
      const rules = execFileSync('ninja', ['-C', dir, '-t', 'rules'], { encoding: 'utf8' });
      expect(rules.split('\n').filter(Boolean).sort()).toEqual(['cxx', 'link', 'phony', 'protoc']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compiles a source shared by both programs once', () => {
    expect(generateNinjaFile(base).match(/^build obj\/quiche\/quiche\/b\.o:/gm)).toHaveLength(1);
  });

  it('generates protoc outputs and makes every quiche compile wait for the generated headers', () => {
    const text = generateNinjaFile(base);
    expect(text).toContain(
      'build gen/quiche/quic/core/proto/x.pb.cc gen/quiche/quic/core/proto/x.pb.h: protoc /s/quiche/quiche/quic/core/proto/x.proto | /p/protobuf/bin/protoc',
    );
    expect(text).toContain(
      'build gen/quic_trace/quic_trace.pb.cc gen/quic_trace/quic_trace.pb.h: protoc /s/quic-trace/quic_trace/quic_trace.proto | /p/protobuf/bin/protoc',
    );
    expect(text).toContain(
      'build obj/quiche/quiche/a.o: cxx /s/quiche/quiche/a.cc || gen/quiche/quic/core/proto/x.pb.h gen/quic_trace/quic_trace.pb.h',
    );
  });

  it('links each program under Chromium’s name with protos, googleurl, abseil grouped and BoringSSL last', () => {
    const text = generateNinjaFile(base);
    const client = /^build bin\/epoll_quic_client: link (.*)$/m.exec(text)?.[1] ?? '';
    expect(client).toContain('obj/quiche/quiche/client_bin.o');
    expect(client).not.toContain('server_bin');
    expect(client).toContain('obj/googleurl/url/gurl.o');
    expect(client).toContain('obj/gen/quic_trace/quic_trace.pb.o');
    expect(text).toContain(
      'libs = /p/protobuf/lib/libprotobuf.a -Wl,--start-group /p/abseil/lib/libabsl_base.a -Wl,--end-group /p/boringssl/lib/libssl.a /p/boringssl/lib/libcrypto.a -lz -lpthread',
    );
    expect(text).toMatch(/^build all: phony bin\/epoll_quic_client bin\/epoll_quic_server$/m);
  });

  it('escapes spaces and colons in paths for ninja', () => {
    expect(generateNinjaFile({ ...base, quicheDir: '/s/my quiche' })).toContain('cxx /s/my$ quiche/quiche/a.cc');
  });

  it('counts translation units: quiche once each, googleurl and protoc outputs', () => {
    expect(translationUnitCount(base)).toBe(4 + 1 + 2);
  });
});

describe.skipIf(SKIP_REASON)('generateNinjaFile from quiche’s real source list', () => {
  let inputs: NinjaInputs;
  beforeAll(async () => {
    const list = parseSourceList(await showFile('quiche.git', QUICHE_152, 'build/source_list.json'));
    inputs = {
      ...base,
      programs: PROGRAMS.map((p) => ({ output: p.output, sources: programSources(list, p).sources })),
      quicheProtos: allSources(list).protos,
    };
  });

  it('has one compile edge per quiche translation unit and links both programs', () => {
    const text = generateNinjaFile(inputs);
    const units = new Set(inputs.programs.flatMap((p) => p.sources));
    expect(text.match(/^build obj\/quiche\/\S+: cxx /gm)).toHaveLength(units.size);
    expect(text).toMatch(/^build bin\/epoll_quic_client: link .*obj\/quiche\/quiche\/quic\/tools\/quic_toy_client\.o/m);
    expect(text).toMatch(/^build bin\/epoll_quic_server: link .*obj\/quiche\/quiche\/quic\/tools\/quic_server_factory\.o/m);
  });
});
