/**
 * How each CMake-built dependency is configured, where it is installed, and what it yields to the
 * quiche link. The install prefix is keyed by everything that changes the produced libraries, so two
 * builds share a prefix exactly when they would produce the same files.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { CompileError } from '../errors.js';

export type CmakeDependency = 'boringssl' | 'abseil-cpp' | 'protobuf';

export interface Toolchain {
  cc: string;
  cxx: string;
  /** Compiler identity, e.g. the first line of `g++-12 --version`. Part of the prefix key. */
  compilerId: string;
  /** Optimization and other flags applied to every dependency, e.g. ['-O1']. */
  flags: readonly string[];
  /** `ccache` when present: speeds rebuilds, does not change outputs (not part of the key). */
  launcher?: string;
}

export interface CmakeRecipe {
  name: CmakeDependency;
  /** Dependencies whose install prefixes this one's configure needs. */
  needs: readonly CmakeDependency[];
  /** Recipe-specific cache arguments (beyond the common ones below). */
  cacheArgs: (prefixes: Readonly<Partial<Record<CmakeDependency, string>>>) => string[];
  /** Include directories relative to the install prefix. */
  includeDirs: readonly string[];
  /**
   * Static libraries relative to the prefix, in link order (a library before the ones it uses). A `*`
   * matches any run of characters in a file name; matches are linked as one group (abseil's ~80 libraries
   * reference each other in cycles).
   */
  libraries: readonly string[];
  /** Programs the install provides, relative to the prefix. */
  programs: readonly string[];
  /** Targets to build instead of `all` (a full build compiles tools and libraries quiche never links). */
  buildTargets?: readonly string[];
  /** Install these components one by one instead of everything (needed when only some targets are built). */
  installComponents?: readonly string[];
}

/**
 * No debug info, in any object: quiche, abseil and protobuf compile without -g (Release), and only
 * BoringSSL's CMake adds -ggdb; `-g0` after it (the toolchain's flags come after a project's own) takes it
 * out. Debug info generated from a source file differs from debug info generated from its preprocessed
 * text, which is what a distributed compiler compiles (distcc, icecream and ccache with CCACHE_PREFIX
 * preprocess here and compile the result): the column numbers (`g++ -E` collapses whitespace) and, where
 * a macro expands into a statement, the line table's rows (measured on BoringSSL's err.cc: `errno` in
 * ERR_clear_system_error; and bcm.cc). With -g0 a local compile, a ccache miss and a distcc compile of
 * one unit give the same object (measured: identical; with -ggdb, or -ggdb -gno-column-info, not). The
 * Chromium backend's default (symbol_level = 0) has none either. Part of the toolchain's flags, so of the
 * identity and the prefix key.
 */
export const REPRODUCIBLE_DEBUG_FLAGS: readonly string[] = ['-g0'];

/** The C++ standard quiche is compiled with; abseil's ABI (its std:: aliases) must agree with it. */
export const CXX_STANDARD = '20';

export const CMAKE_RECIPES: Readonly<Record<CmakeDependency, CmakeRecipe>> = {
  boringssl: {
    name: 'boringssl',
    needs: [],
    // BUILD_TESTING=OFF: the tests need test data this build does not use (and the local upstream omits).
    // -Wno-maybe-uninitialized: BoringSSL builds with -Werror, and g++ 12 at -O1 reports a false positive
    // in bn/exponentiation.cc.inc (measured here); the code is fine at every optimization level.
    cacheArgs: () => ['-DBUILD_TESTING=OFF', '-DCMAKE_C_FLAGS=-Wno-maybe-uninitialized', '-DCMAKE_CXX_FLAGS=-Wno-maybe-uninitialized'],
    includeDirs: ['include'],
    libraries: ['lib/libssl.a', 'lib/libcrypto.a'],
    programs: [],
    // Not pki and decrepit (about 60 more units). bssl only because BoringSSL's install() names it and
    // has no components to install without it.
    buildTargets: ['crypto', 'ssl', 'bssl'],
  },
  'abseil-cpp': {
    name: 'abseil-cpp',
    needs: [],
    // ABSL_PROPAGATE_CXX_STD: installed headers record C++20, so consumers compile against the same ABI.
    cacheArgs: () => ['-DABSL_PROPAGATE_CXX_STD=ON', '-DABSL_BUILD_TESTING=OFF', '-DBUILD_TESTING=OFF', '-DABSL_ENABLE_INSTALL=ON'],
    includeDirs: ['include'],
    libraries: ['lib/libabsl_*.a'],
    programs: [],
  },
  protobuf: {
    name: 'protobuf',
    needs: ['abseil-cpp'],
    // Against the abseil built above (Debian's is too old). protobuf_BUILD_LIBUPB stays on: protoc's own
    // build needs upb's generated descriptor headers.
    cacheArgs: (prefixes) => [
      '-Dprotobuf_ABSL_PROVIDER=package',
      '-Dprotobuf_BUILD_TESTS=OFF',
      '-Dprotobuf_INSTALL=ON',
      `-DCMAKE_PREFIX_PATH=${requirePrefix(prefixes, 'abseil-cpp', 'protobuf')}`,
    ],
    includeDirs: ['include'],
    // libprotobuf.a alone does not link: it uses utf8_range's validation from the same build.
    libraries: ['lib/libprotobuf.a', 'lib/libutf8_validity.a', 'lib/libutf8_range.a'],
    programs: ['bin/protoc'],
    // Not libprotobuf-lite and the upb generators a full build adds; install by component accordingly
    // (utf8_range installs without a component name: CMake calls that one Unspecified).
    buildTargets: ['protoc', 'libprotobuf', 'utf8_validity', 'utf8_range'],
    installComponents: ['protoc', 'libprotobuf', 'protobuf-headers', 'Unspecified'],
  },
};

function requirePrefix(prefixes: Readonly<Partial<Record<CmakeDependency, string>>>, dep: CmakeDependency, forName: string): string {
  const prefix = prefixes[dep];
  if (prefix === undefined) throw new Error(`${forName} is configured before ${dep} is installed: build order bug`);
  return prefix;
}

/**
 * Cache arguments every dependency gets: Ninja, static release libraries, C++20, the toolchain, and
 * `pathFlags` (path-map.ts: the build's directories mapped out of the objects; C, C++ and BoringSSL's
 * assembly alike).
 */
export function commonCacheArgs(toolchain: Toolchain, installPrefix: string, pathFlags: readonly string[] = []): string[] {
  const flags = [...toolchain.flags, '-DNDEBUG', ...pathFlags].join(' ');
  return [
    '-G',
    'Ninja',
    '-DCMAKE_BUILD_TYPE=Release',
    `-DCMAKE_C_FLAGS_RELEASE=${flags}`,
    `-DCMAKE_CXX_FLAGS_RELEASE=${flags}`,
    `-DCMAKE_ASM_FLAGS_RELEASE=${[...toolchain.flags, ...pathFlags].join(' ')}`,
    `-DCMAKE_C_COMPILER=${toolchain.cc}`,
    `-DCMAKE_CXX_COMPILER=${toolchain.cxx}`,
    `-DCMAKE_CXX_STANDARD=${CXX_STANDARD}`,
    // Debian's GNUInstallDirs would pick lib/x86_64-linux-gnu for some prefixes; the recipes say lib/.
    '-DCMAKE_INSTALL_LIBDIR=lib',
    '-DBUILD_SHARED_LIBS=OFF',
    `-DCMAKE_INSTALL_PREFIX=${installPrefix}`,
    ...(toolchain.launcher
      ? [`-DCMAKE_C_COMPILER_LAUNCHER=${toolchain.launcher}`, `-DCMAKE_CXX_COMPILER_LAUNCHER=${toolchain.launcher}`]
      : []),
  ];
}

/**
 * What a distributed build adds to (or, switched off, clears from) a dependency's CMake cache: the
 * launcher (distcc when ccache is off; CMake keeps a cache entry until it is overwritten, so a build tree
 * resumed without distcc must lose it), and a `local` job pool for links and archives, whose depth is the
 * local -j (CMAKE_JOB_POOLS / CMAKE_JOB_POOL_LINK; -j itself is sized for the remote hosts).
 */
export function distributedCacheArgs(toolchain: Pick<Toolchain, 'launcher'>, localPool: number | undefined): string[] {
  return [
    ...(toolchain.launcher ? [] : ['-DCMAKE_C_COMPILER_LAUNCHER=', '-DCMAKE_CXX_COMPILER_LAUNCHER=']),
    localPool ? `-DCMAKE_JOB_POOLS=local=${localPool}` : '-DCMAKE_JOB_POOLS=',
    localPool ? '-DCMAKE_JOB_POOL_LINK=local' : '-DCMAKE_JOB_POOL_LINK=',
  ];
}

/**
 * The install directory name: `<name>-<commit12>-<key8>`, the key hashing the compiler, flags and
 * recipe (and the prefix names of what it was built against), so a change in any of them gets a fresh
 * prefix. Never an absolute path: the name is the same in every cache dir, so the headers' paths that
 * objects keep (mapped, see path-map.ts) are too. `paths` marks prefixes built with the path maps, so
 * an older cache's prefixes, which hold the cache dir in their objects, are not reused.
 */
export function installPrefixName(
  name: CmakeDependency,
  commit: string,
  toolchain: Toolchain,
  dependencyPrefixes: Readonly<Partial<Record<CmakeDependency, string>>> = {},
): string {
  const recipe = CMAKE_RECIPES[name];
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        name,
        commit,
        compiler: toolchain.compilerId,
        cc: toolchain.cc,
        cxx: toolchain.cxx,
        flags: toolchain.flags,
        std: CXX_STANDARD,
        paths: 'mapped-relative',
        args: recipe.cacheArgs(Object.fromEntries(Object.entries(dependencyPrefixes).map(([dep, prefix]) => [dep, path.basename(prefix)]))),
      }),
    )
    .digest('hex');
  return `${name}-${commit.slice(0, 12)}-${key.slice(0, 8)}`;
}

/** Configure arguments for one dependency: source and build directories, common and recipe arguments. */
export function configureArgs(
  name: CmakeDependency,
  sourceDir: string,
  buildDir: string,
  installPrefix: string,
  toolchain: Toolchain,
  dependencyPrefixes: Readonly<Partial<Record<CmakeDependency, string>>> = {},
  pathFlags: readonly string[] = [],
): string[] {
  return [
    '-S',
    sourceDir,
    '-B',
    buildDir,
    ...commonCacheArgs(toolchain, installPrefix, pathFlags),
    ...CMAKE_RECIPES[name].cacheArgs(dependencyPrefixes),
  ];
}

const globToRegExp = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*')}$`,
  );

/**
 * The libraries a recipe yields, as paths relative to the prefix, given the files the prefix holds
 * (the caller lists them; this stays free of I/O). A pattern that matches nothing is an error: a
 * dependency that installed differently than expected must not produce a link that fails later.
 */
export function librariesOf(name: CmakeDependency, installedFiles: readonly string[]): string[] {
  const sorted = [...installedFiles].sort();
  return CMAKE_RECIPES[name].libraries.flatMap((pattern) => {
    const matches = pattern.includes('*') ? sorted.filter((f) => globToRegExp(pattern).test(f)) : sorted.filter((f) => f === pattern);
    if (matches.length === 0) {
      throw new CompileError(`${name}'s install prefix has no ${pattern}.`, {
        hint: `The ${name} install is incomplete or laid out differently; remove its prefix so the next run rebuilds it.`,
      });
    }
    return matches;
  });
}
