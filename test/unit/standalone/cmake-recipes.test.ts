import { describe, expect, it } from 'vitest';
import { CompileError } from '../../../src/errors.js';
import {
  CMAKE_RECIPES,
  configureArgs,
  distributedCacheArgs,
  installPrefixName,
  librariesOf,
  type Toolchain,
} from '../../../src/standalone/cmake-recipes.js';
import { parseProgressLine } from '../../../src/tools/cmake.js';

const toolchain: Toolchain = {
  cc: 'gcc-12',
  cxx: 'g++-12',
  compilerId: 'g++-12 (Debian 12.2.0-14+deb12u1) 12.2.0',
  flags: ['-O1'],
  launcher: 'ccache',
};
const commit = '8fd77b6bedc4111625f9c51acf19f519fc4cf1d4';

describe('installPrefixName', () => {
  it('starts with the name and the commit, then a key', () => {
    expect(installPrefixName('boringssl', commit, toolchain)).toMatch(/^boringssl-8fd77b6bedc4-[0-9a-f]{8}$/);
  });

  it('changes with the compiler or the flags', () => {
    const name = installPrefixName('boringssl', commit, toolchain);
    expect(installPrefixName('boringssl', commit, { ...toolchain, compilerId: 'g++ 13' })).not.toBe(name);
    expect(installPrefixName('boringssl', commit, { ...toolchain, flags: ['-O2'] })).not.toBe(name);
  });

  it('does not change with the launcher, which does not change the output', () => {
    expect(installPrefixName('boringssl', commit, { ...toolchain, launcher: undefined })).toBe(
      installPrefixName('boringssl', commit, toolchain),
    );
  });

  it('changes for protobuf when the abseil it builds against changes', () => {
    expect(installPrefixName('protobuf', commit, toolchain, { 'abseil-cpp': '/p/a1' })).not.toBe(
      installPrefixName('protobuf', commit, toolchain, { 'abseil-cpp': '/p/a2' }),
    );
  });
});

describe('configureArgs', () => {
  it('builds BoringSSL without tests, with the launcher, into the prefix', () => {
    const args = configureArgs('boringssl', '/s/boringssl', '/b/boringssl', '/p/boringssl', toolchain);
    expect(args).toEqual(
      expect.arrayContaining([
        '-S',
        '/s/boringssl',
        '-B',
        '/b/boringssl',
        '-DBUILD_TESTING=OFF',
        '-DCMAKE_INSTALL_PREFIX=/p/boringssl',
        '-DCMAKE_CXX_COMPILER_LAUNCHER=ccache',
        '-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG',
      ]),
    );
  });

  it('builds protobuf against the installed abseil, with upb left on', () => {
    const args = configureArgs('protobuf', '/s/p', '/b/p', '/p/p', toolchain, { 'abseil-cpp': '/p/absl' });
    expect(args).toEqual(
      expect.arrayContaining(['-Dprotobuf_ABSL_PROVIDER=package', '-Dprotobuf_BUILD_TESTS=OFF', '-DCMAKE_PREFIX_PATH=/p/absl']),
    );
    expect(args.join(' ')).not.toContain('protobuf_BUILD_LIBUPB=OFF');
  });

  it('refuses to configure protobuf before abseil is installed', () => {
    expect(() => configureArgs('protobuf', '/s/p', '/b/p', '/p/p', toolchain)).toThrow(/before abseil-cpp is installed/);
  });
});

describe('librariesOf', () => {
  it('expands abseil’s library pattern over the installed files, sorted', () => {
    expect(librariesOf('abseil-cpp', ['lib/libabsl_strings.a', 'include/absl/base/config.h', 'lib/libabsl_base.a'])).toEqual([
      'lib/libabsl_base.a',
      'lib/libabsl_strings.a',
    ]);
  });

  it('yields protobuf with the utf8 libraries its static link needs', () => {
    expect(librariesOf('protobuf', ['lib/libutf8_range.a', 'lib/libprotobuf.a', 'lib/libutf8_validity.a', 'lib/libupb.a'])).toEqual([
      'lib/libprotobuf.a',
      'lib/libutf8_validity.a',
      'lib/libutf8_range.a',
    ]);
  });

  it('fails when an expected library is missing from the prefix', () => {
    expect(() => librariesOf('boringssl', ['lib/libcrypto.a'])).toThrow(CompileError);
  });
});

describe('parseProgressLine', () => {
  it('reads ninja’s [N/M] prefix', () => {
    expect(parseProgressLine('[12/479] Building CXX object CMakeFiles/crypto.dir/crypto/aes/aes.cc.o')).toEqual({
      done: 12,
      total: 479,
      description: 'Building CXX object CMakeFiles/crypto.dir/crypto/aes/aes.cc.o',
    });
  });

  it('ignores other lines', () => {
    expect(parseProgressLine('FAILED: CMakeFiles/x.o')).toBeUndefined();
  });
});

describe('recipes', () => {
  it('build only what quiche links: BoringSSL without pki, protobuf without lite and upb generators', () => {
    expect(CMAKE_RECIPES.boringssl.buildTargets).toEqual(['crypto', 'ssl', 'bssl']);
    expect(CMAKE_RECIPES.protobuf.buildTargets).toContain('protoc');
    expect(CMAKE_RECIPES.protobuf.installComponents).toContain('Unspecified');
    expect(CMAKE_RECIPES['abseil-cpp'].buildTargets).toBeUndefined();
  });
});

describe('a distributed build in the CMake dependencies', () => {
  it('adds a local pool for links and archives, and clears what a build without it must not keep', () => {
    expect(distributedCacheArgs({ launcher: 'ccache' }, 2)).toEqual(['-DCMAKE_JOB_POOLS=local=2', '-DCMAKE_JOB_POOL_LINK=local']);
    expect(distributedCacheArgs({ launcher: undefined }, undefined)).toEqual([
      '-DCMAKE_C_COMPILER_LAUNCHER=',
      '-DCMAKE_CXX_COMPILER_LAUNCHER=',
      '-DCMAKE_JOB_POOLS=',
      '-DCMAKE_JOB_POOL_LINK=',
    ]);
  });
});
