/**
 * Which of quiche's own sources make quic_client and quic_server.
 *
 * quiche publishes its file lists in build/source_list.json, grouped as Bazel and Chromium's gn consume
 * them (`quiche_core_srcs`, `io_tool_support_srcs`, ...). We pick whole groups, never single files from
 * them, so a revision that adds or moves files inside a group needs no change here. The choice mirrors
 * the cc_binary targets in quiche/BUILD.bazel; checkProgramChoice() compares the two so that a revision
 * whose BUILD.bazel links other groups fails loudly instead of producing a binary with missing symbols.
 */
import { ConfigError } from '../errors.js';
import { parseStarlark, StarlarkSyntaxError, type CallExpr, type Expr } from './starlark.js';

export type SourceList = Readonly<Record<string, readonly string[]>>;

export interface ProgramChoice {
  /** The cc_binary in quiche/BUILD.bazel. */
  bazelTarget: string;
  /** The file name in the artifact: Chromium's name for the same program. */
  output: string;
  /** Whole groups of build/source_list.json whose sources are compiled in. */
  groups: readonly string[];
  /** Files BUILD.bazel names directly (the toy client/server libraries and main); all in `cli_tools_srcs`. */
  files: readonly string[];
  /** Groups of .proto files compiled with protoc. */
  protoGroups: readonly string[];
}

// The libraries both programs share: quiche_core (+ its default platform), quiche_tool_support (+ its
// default platform part) and io_tool_support, exactly the cc_library targets BUILD.bazel links into both.
const SHARED_GROUPS = [
  'quiche_core_srcs',
  'default_platform_impl_srcs',
  'quiche_tool_support_srcs',
  'default_platform_impl_tool_support_srcs',
  'io_tool_support_srcs',
] as const;

export const PROGRAMS: readonly ProgramChoice[] = [
  {
    bazelTarget: 'quic_client',
    output: 'epoll_quic_client',
    groups: SHARED_GROUPS,
    files: ['quiche/quic/tools/quic_client_bin.cc', 'quiche/quic/tools/quic_toy_client.cc'],
    protoGroups: ['protobuf'],
  },
  {
    bazelTarget: 'quic_server',
    output: 'epoll_quic_server',
    groups: SHARED_GROUPS,
    files: ['quiche/quic/tools/quic_server_bin.cc', 'quiche/quic/tools/quic_server_factory.cc', 'quiche/quic/tools/quic_toy_server.cc'],
    protoGroups: ['protobuf'],
  },
];

/** Groups BUILD.bazel files are listed in; `files` of a program must come from these. */
const FILE_GROUPS = ['cli_tools_srcs'];

export function parseSourceList(text: string, file = 'build/source_list.json'): SourceList {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`quiche's ${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError(`quiche's ${file} is not an object of file lists.`);
  }
  for (const [group, files] of Object.entries(data)) {
    if (!Array.isArray(files) || files.some((f) => typeof f !== 'string')) {
      throw new ConfigError(`quiche's ${file}: group "${group}" is not a list of file names.`);
    }
  }
  return data as SourceList;
}

export interface ProgramSources {
  /** C++ translation units, relative to the quiche checkout, sorted. */
  sources: string[];
  /** .proto files relative to the quiche checkout, sorted. */
  protos: string[];
}

// Groups also list headers and platform-specific .inc files (socket_win.inc) that are #included, not compiled.
const isTranslationUnit = (file: string) => file.endsWith('.cc') || file.endsWith('.c');

function group(list: SourceList, name: string, revisionHint: string): readonly string[] {
  const files = list[name];
  if (files === undefined) {
    throw new ConfigError(`quiche's build/source_list.json has no group "${name}".`, {
      hint: `This quiche revision reorganized its source lists; ${revisionHint}`,
    });
  }
  return files;
}

const REVISION_HINT = 'pick a quiche.revision build-quiche supports, or update PROGRAMS in src/standalone/source-list.ts.';

export function programSources(list: SourceList, program: ProgramChoice): ProgramSources {
  const sources = new Set<string>();
  for (const name of program.groups) for (const file of group(list, name, REVISION_HINT)) if (isTranslationUnit(file)) sources.add(file);
  const listed = new Set(FILE_GROUPS.flatMap((name) => group(list, name, REVISION_HINT)));
  for (const file of program.files) {
    if (!listed.has(file)) {
      throw new ConfigError(`quiche's build/source_list.json does not list ${file} (needed by ${program.bazelTarget}).`, {
        hint: REVISION_HINT,
      });
    }
    sources.add(file);
  }
  const protos = program.protoGroups.flatMap((name) => group(list, name, REVISION_HINT));
  return { sources: [...sources].sort(), protos: [...new Set(protos)].sort() };
}

/** The union over several programs: each translation unit is compiled once and linked into each. */
export function allSources(list: SourceList, programs: readonly ProgramChoice[] = PROGRAMS): ProgramSources {
  const parts = programs.map((p) => programSources(list, p));
  return {
    sources: [...new Set(parts.flatMap((p) => p.sources))].sort(),
    protos: [...new Set(parts.flatMap((p) => p.protos))].sort(),
  };
}

export interface BazelClosure {
  /** source_list groups named in `srcs` of the target and its local deps. */
  groups: string[];
  /** Files named literally in those `srcs`, relative to the quiche checkout. */
  files: string[];
  /** .proto files of the proto_library targets reached. */
  protos: string[];
  /** External repositories referenced (`@boringssl//:ssl` -> boringssl). */
  externalRepos: string[];
}

/**
 * What quiche/BUILD.bazel compiles into `target`: the srcs of the cc_binary and of every local target it
 * depends on, transitively. Identifiers in srcs are the groups loaded from build/source_list.bzl.
 */
export function bazelClosure(buildBazelText: string, target: string, file = 'quiche/BUILD.bazel'): BazelClosure {
  let statements;
  try {
    statements = parseStarlark(buildBazelText, file);
  } catch (error) {
    if (error instanceof StarlarkSyntaxError)
      throw new ConfigError(`Cannot read quiche's ${file}: ${error.message}`, { hint: REVISION_HINT, cause: error });
    throw error;
  }
  const targets = new Map<string, CallExpr>();
  for (const s of statements) {
    const name = s.kind === 'call' ? s.call.kwargs.get('name') : undefined;
    if (s.kind === 'call' && name?.kind === 'string') targets.set(name.value, s.call);
  }
  const groups = new Set<string>();
  const files = new Set<string>();
  const protos = new Set<string>();
  const external = new Set<string>();
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const call = targets.get(name);
    if (!call) throw new ConfigError(`quiche's ${file} has no target "${name}".`, { hint: REVISION_HINT });
    const srcs = call.kwargs.get('srcs');
    for (const item of srcs ? flatten(srcs, file) : []) {
      if (item.kind === 'group') groups.add(item.name);
      else if (call.callee === 'proto_library') protos.add(`quiche/${item.path}`);
      else if (isTranslationUnit(item.path)) files.add(`quiche/${item.path}`);
    }
    const deps = call.kwargs.get('deps');
    for (const item of deps ? flatten(deps, file) : []) {
      if (item.kind !== 'file') continue;
      if (item.path.startsWith(':')) visit(item.path.slice(1));
      else if (item.path.startsWith('@')) external.add(item.path.slice(1).split('//')[0]!);
    }
  };
  visit(target);
  const sorted = (s: Set<string>) => [...s].sort();
  return { groups: sorted(groups), files: sorted(files), protos: sorted(protos), externalRepos: sorted(external) };
}

type Item = { kind: 'group'; name: string } | { kind: 'file'; path: string };

function flatten(expr: Expr, file: string): Item[] {
  switch (expr.kind) {
    case 'string':
      return [{ kind: 'file', path: expr.value }];
    case 'ident':
      return [{ kind: 'group', name: expr.name }];
    case 'list':
      return expr.items.flatMap((item) => flatten(item, file));
    case 'add':
      return [...flatten(expr.left, file), ...flatten(expr.right, file)];
    default:
      throw new ConfigError(`quiche's ${file}:${expr.at.line}: a srcs or deps value of kind ${expr.kind} is not understood.`, {
        hint: REVISION_HINT,
      });
  }
}

/**
 * Checks a program's documented choice against BUILD.bazel: the same groups, the same directly named
 * files and the same protos. Returns the closure (its external repositories feed the dependency check).
 */
export function checkProgramChoice(buildBazelText: string, list: SourceList, program: ProgramChoice): BazelClosure {
  const closure = bazelClosure(buildBazelText, program.bazelTarget);
  const protoFiles = program.protoGroups.flatMap((name) => group(list, name, REVISION_HINT));
  const problems = [
    ...difference('source groups', program.groups, closure.groups),
    ...difference('files', program.files, closure.files),
    ...difference('protos', protoFiles, closure.protos),
  ];
  if (problems.length > 0) {
    throw new ConfigError(
      `quiche/BUILD.bazel builds ${program.bazelTarget} from other sources than build-quiche's choice: ${problems.join('; ')}.`,
      {
        hint: REVISION_HINT,
        data: { program: program.bazelTarget, problems },
      },
    );
  }
  return closure;
}

function difference(what: string, chosen: readonly string[], bazel: readonly string[]): string[] {
  const missing = bazel.filter((x) => !chosen.includes(x));
  const extra = chosen.filter((x) => !bazel.includes(x));
  return [
    ...(missing.length ? [`${what} BUILD.bazel uses but build-quiche does not: ${missing.join(', ')}`] : []),
    ...(extra.length ? [`${what} build-quiche uses but BUILD.bazel does not: ${extra.join(', ')}`] : []),
  ];
}
