/**
 * Everything the quiche compile stage derives from file contents, in one pure step: the source-group
 * choice checked against BUILD.bazel, googleurl's sources from its BUILD files, the libraries of each
 * installed dependency, and from those the inputs of the ninja generator. The stage reads the files and
 * lists the prefixes; this decides.
 */
import { CMAKE_RECIPES, librariesOf, type CmakeDependency } from './cmake-recipes.js';
import { checkExternalRepos } from './dependencies.js';
import { GOOGLEURL_LIBRARIES, librarySources } from './googleurl.js';
import type { NinjaInputs } from './ninja-file.js';
import { checkProgramChoice, parseSourceList, programSources, PROGRAMS, allSources } from './source-list.js';

/** quic-trace's protos quiche includes (`quic_trace/quic_trace.pb.h`); its BUILD has only this proto_library. */
export const QUIC_TRACE_PROTOS = ['quic_trace/quic_trace.proto'] as const;

export interface InstalledDependency {
  prefix: string;
  /** Files under the prefix, relative to it (e.g. lib/libabsl_base.a). */
  files: readonly string[];
}

export interface PlanInput {
  dirs: { quiche: string; googleurl: string; quicTrace: string };
  /** quiche's MODULE.bazel, build/source_list.json and quiche/BUILD.bazel at the revision. */
  moduleBazel: string;
  sourceListJson: string;
  buildBazel: string;
  /** googleurl's BUILD files by path (url/BUILD, base/BUILD). */
  googleurlBuildFiles: Readonly<Record<string, string>>;
  installed: Readonly<Record<CmakeDependency, InstalledDependency>>;
  toolchain: { cc: string; cxx: string; launcher?: string; optimization?: string };
}

export function planQuicheBuild(input: PlanInput): NinjaInputs {
  const list = parseSourceList(input.sourceListJson);
  const externalRepos = PROGRAMS.flatMap((program) => checkProgramChoice(input.buildBazel, list, program).externalRepos);
  checkExternalRepos(input.moduleBazel, externalRepos);

  const googleurlSources = GOOGLEURL_LIBRARIES.flatMap(({ buildFile, target }) => {
    const text = input.googleurlBuildFiles[buildFile];
    if (text === undefined) throw new Error(`planQuicheBuild needs googleurl's ${buildFile}`);
    return librarySources(text, buildFile, target);
  });
  const libs = (name: CmakeDependency) =>
    librariesOf(name, input.installed[name].files).map((lib) => `${input.installed[name].prefix}/${lib}`);
  const includes = (name: CmakeDependency) => CMAKE_RECIPES[name].includeDirs.map((dir) => `${input.installed[name].prefix}/${dir}`);

  return {
    quicheDir: input.dirs.quiche,
    googleurlDir: input.dirs.googleurl,
    quicTraceDir: input.dirs.quicTrace,
    programs: PROGRAMS.map((program) => ({ output: program.output, sources: programSources(list, program).sources })),
    quicheProtos: allSources(list).protos,
    quicTraceProtos: QUIC_TRACE_PROTOS,
    googleurlSources,
    includeDirs: { boringssl: includes('boringssl'), others: [...includes('abseil-cpp'), ...includes('protobuf')] },
    // protobuf uses abseil, and abseil's libraries use each other in cycles (one group); BoringSSL's
    // libssl needs libcrypto, which comes last.
    libraries: { ordered: libs('protobuf'), group: libs('abseil-cpp'), after: libs('boringssl') },
    systemLibs: ['-lz', '-lpthread'],
    protoc: `${input.installed.protobuf.prefix}/${CMAKE_RECIPES.protobuf.programs[0]}`,
    cc: input.toolchain.cc,
    cxx: input.toolchain.cxx,
    ...(input.toolchain.launcher ? { launcher: input.toolchain.launcher } : {}),
    ...(input.toolchain.optimization ? { optimization: input.toolchain.optimization } : {}),
  };
}
