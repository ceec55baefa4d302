/**
 * From quiche's MODULE.bazel to the git repositories the standalone backend clones.
 *
 * Bazel names a dependency by registry module and version (`bazel_dep(name = "abseil-cpp", version =
 * "20260107.0")`) or by archive URL (`http_archive(urls = [".../gurl/archive/<commit>.tar.gz"])`). We
 * clone git repositories instead of downloading archives, because the checkout machinery (shallow, pinned,
 * verified, resumable, shared) is git's; so each dependency needs a repository URL and a ref. This table
 * is the documented mapping. Every MODULE.bazel entry is either in it or deliberately listed as not needed
 * by quic_client / quic_server; anything else is an error, so a quiche revision that adds a dependency is
 * noticed instead of producing binaries that fail to link.
 */
import { ConfigError } from '../errors.js';
import { parseModuleBazel, type ModuleBazel } from './module-bazel.js';

/** How a dependency becomes part of the binaries. */
export type BuildKind =
  /** Its own CMake build, installed into a prefix (see cmake-recipes.ts). */
  | 'cmake'
  /** Its sources are compiled by the generated build.ninja, next to quiche's. */
  | 'ninja-sources'
  /** Not cloned: the system library is used (Debian's zlib1g-dev; its API has been stable for decades). */
  | 'system';

export type DependencyName = 'boringssl' | 'abseil-cpp' | 'protobuf' | 'googleurl' | 'quic-trace' | 'zlib';

export interface Dependency {
  name: DependencyName;
  buildKind: BuildKind;
  /** Git URL after overrides and mirrors (where it is fetched from); '' for system dependencies. */
  url: string;
  /**
   * Where it comes from, whoever mirrors it: the URL MODULE.bazel implies, or the override's (a replaced
   * source, which also changes the commit). What the identity and the manifest record, never a mirror.
   */
  canonicalUrl: string;
  /** Tag or commit to fetch; '' for system dependencies. */
  ref: string;
  /** The commit HEAD must be at after checkout, when the ref is a commit id. */
  expectedCommit?: string;
  /** Where the URL and ref came from, for the manifest and for error messages. */
  origin: 'module-bazel' | 'override';
  /** What MODULE.bazel declared, e.g. `bazel_dep abseil-cpp 20260107.0`. */
  declared?: string;
}

export interface DependencyOverride {
  url?: string;
  ref?: string;
  /** Accept an unknown MODULE.bazel entry as not needed by quic_client / quic_server. */
  ignore?: boolean;
}

export interface ResolveOptions {
  /** `quiche.dependencies` from the config, keyed by the names below or by unknown MODULE.bazel names. */
  overrides?: Readonly<Record<string, DependencyOverride>>;
  /** URL prefix rewrites, like git's `url.<base>.insteadOf`: { 'https://github.com/': 'http://127.0.0.1:8080/' }. */
  mirrors?: Readonly<Record<string, string>>;
}

interface Source {
  /** The MODULE.bazel entry this dependency comes from. */
  bazelDep?: string;
  httpArchive?: string;
}

interface TableEntry {
  name: DependencyName;
  source: Source;
  buildKind: BuildKind;
  /** Turns the declared version or archive into a git URL and ref; undefined when the form is unknown. */
  map?: (module: ModuleBazel) => { url: string; ref: string; expectedCommit?: string; declared: string } | undefined;
}

// Bazel Central Registry versions add `.bcr.N` for registry-only packaging fixes on the same upstream tag.
const withoutBcrSuffix = (version: string) => version.replace(/\.bcr\.\d+$/, '');

const fromBazelDep = (module: string, url: string, tag: (version: string) => string | undefined) => (parsed: ModuleBazel) => {
  const dep = parsed.bazelDeps.find((d) => d.name === module);
  const ref = dep && tag(withoutBcrSuffix(dep.version));
  return dep && ref ? { url, ref, declared: `bazel_dep ${dep.name} ${dep.version}` } : undefined;
};

// `https://github.com/<owner>/<repo>/archive/<40-hex commit>.tar.gz` -> the repository and that commit.
const GITHUB_ARCHIVE = /^https:\/\/github\.com\/([^/]+)\/([^/]+)\/archive\/([0-9a-f]{40})\.(?:tar\.gz|zip)$/;

const fromHttpArchive = (repoName: string) => (parsed: ModuleBazel) => {
  const archive = parsed.httpArchives.find((a) => a.name === repoName);
  for (const url of archive?.urls ?? []) {
    const match = GITHUB_ARCHIVE.exec(url);
    if (match) {
      const [, owner, repo, commit] = match as unknown as [string, string, string, string];
      return {
        url: `https://github.com/${owner}/${repo}`,
        ref: commit,
        expectedCommit: commit,
        declared: `http_archive ${repoName} ${url}`,
      };
    }
  }
  return undefined;
};

/** The dependencies quic_client and quic_server link, in build order (protobuf needs abseil). */
export const DEPENDENCY_TABLE: readonly TableEntry[] = [
  // Versions are tags: 0.20260508.0. Older registry versions (0.0.0-<date>-<short sha>) name an
  // abbreviated commit that cannot be fetched shallowly: they need an override.
  {
    name: 'boringssl',
    source: { bazelDep: 'boringssl' },
    buildKind: 'cmake',
    map: fromBazelDep('boringssl', 'https://github.com/google/boringssl', (v) => (/^0\.\d{8}\.\d+$/.test(v) ? v : undefined)),
  },
  {
    name: 'abseil-cpp',
    source: { bazelDep: 'abseil-cpp' },
    buildKind: 'cmake',
    map: fromBazelDep('abseil-cpp', 'https://github.com/abseil/abseil-cpp', (v) => (/^\d{8}\.\d+$/.test(v) ? v : undefined)),
  },
  // Debian's protobuf (3.21) is too old for this quiche (ParseFromString(absl::string_view)).
  {
    name: 'protobuf',
    source: { bazelDep: 'protobuf' },
    buildKind: 'cmake',
    map: fromBazelDep('protobuf', 'https://github.com/protocolbuffers/protobuf', (v) =>
      /^\d+\.\d+(\.\d+)?$/.test(v) ? `v${v}` : undefined,
    ),
  },
  {
    name: 'googleurl',
    source: { httpArchive: 'com_google_googleurl' },
    buildKind: 'ninja-sources',
    map: fromHttpArchive('com_google_googleurl'),
  },
  {
    name: 'quic-trace',
    source: { httpArchive: 'com_google_quic_trace' },
    buildKind: 'ninja-sources',
    map: fromHttpArchive('com_google_quic_trace'),
  },
  { name: 'zlib', source: { bazelDep: 'zlib' }, buildKind: 'system' },
];

/**
 * MODULE.bazel entries quic_client and quic_server do not need, and why. Checked against the programs'
 * sources: none of them includes a header of these.
 */
export const NOT_NEEDED: Readonly<Record<string, string>> = {
  bazel_skylib: 'Bazel build rules, not code',
  rules_cc: 'Bazel build rules, not code',
  googletest: 'tests only (quiche_tool_support lists gtest in BUILD.bazel, but none of its sources includes it)',
  re2: 'tests only',
  fuzztest: 'fuzzers only',
  highwayhash: 'a fuzztest dependency pinned for the fuzzers',
  riegeli: 'a fuzztest dependency pinned for the fuzzers (older pins)',
  com_google_anonymous_tokens: 'MASQUE private tokens only (masque_private_tokens), not the toy client or server',
};

const configKey = (name: string) => `quiche.dependencies.${name}`;

/** Rewrites a URL by the longest matching mirror prefix, as git's url.<base>.insteadOf does. */
export function rewriteUrl(url: string, mirrors: Readonly<Record<string, string>> = {}): string {
  let best: string | undefined;
  for (const prefix of Object.keys(mirrors)) {
    if (url.startsWith(prefix) && (best === undefined || prefix.length > best.length)) best = prefix;
  }
  return best === undefined ? url : mirrors[best]! + url.slice(best.length);
}

const isCommit = (ref: string) => /^[0-9a-f]{40}$/.test(ref);

/** quiche's own repository, the one Chromium's DEPS fetches it from. */
export const QUICHE_URL = 'https://quiche.googlesource.com/quiche';

export interface QuicheSource {
  url: string;
  ref: string;
  expectedCommit: string;
}

/**
 * Where quiche itself comes from: a full commit id (from Chromium's DEPS or `quiche.revision`), fetched
 * from `url` (default QUICHE_URL) through the same mirrors as every dependency.
 */
export function quicheSource(revision: string, options: { url?: string; mirrors?: Readonly<Record<string, string>> } = {}): QuicheSource {
  if (!isCommit(revision)) {
    throw new ConfigError(`quiche.revision must be a full 40-hex commit id, got ${JSON.stringify(revision)}.`, {
      hint: 'Set quiche.revision to a commit of https://quiche.googlesource.com/quiche (abbreviated ids and branch names cannot be verified after a shallow fetch).',
    });
  }
  return { url: rewriteUrl(options.url ?? QUICHE_URL, options.mirrors), ref: revision, expectedCommit: revision };
}

/** Declared names in MODULE.bazel that neither the table nor NOT_NEEDED accounts for. */
function unknownEntries(parsed: ModuleBazel): string[] {
  const known = new Set<string>([...Object.keys(NOT_NEEDED)]);
  for (const entry of DEPENDENCY_TABLE) {
    if (entry.source.bazelDep) known.add(entry.source.bazelDep);
    if (entry.source.httpArchive) known.add(entry.source.httpArchive);
  }
  const declared = [
    ...parsed.bazelDeps.filter((d) => !d.devDependency).map((d) => d.name),
    ...parsed.httpArchives.map((a) => a.name),
    ...parsed.gitRepositories.map((g) => g.name),
  ];
  return [...new Set(declared)].filter((name) => !known.has(name));
}

/**
 * The dependencies to clone and build for quiche's quic_client and quic_server at the revision whose
 * MODULE.bazel is given, with config overrides and mirrors applied.
 */
export function resolveDependencies(moduleBazelText: string, options: ResolveOptions = {}): Dependency[] {
  const parsed = parseModuleBazel(moduleBazelText);
  const overrides = options.overrides ?? {};

  for (const name of unknownEntries(parsed)) {
    if (overrides[name]?.ignore) continue;
    throw new ConfigError(`quiche's MODULE.bazel declares a dependency build-quiche does not know: ${name}.`, {
      hint: `If quic_client or quic_server need it, build-quiche must learn to build it (src/standalone/dependencies.ts); if they do not, set ${configKey(name)} = { ignore: true }.`,
    });
  }

  return DEPENDENCY_TABLE.map((entry): Dependency => {
    if (entry.buildKind === 'system') {
      return { name: entry.name, buildKind: 'system', url: '', canonicalUrl: '', ref: '', origin: 'module-bazel' };
    }
    const override = overrides[entry.name];
    const mapped = entry.map?.(parsed);
    if (override && (override.url !== undefined || override.ref !== undefined)) {
      const url = override.url ?? mapped?.url;
      const ref = override.ref ?? mapped?.ref;
      if (url === undefined || ref === undefined) {
        throw new ConfigError(
          `${configKey(entry.name)} sets only ${override.url ? 'url' : 'ref'}, and MODULE.bazel gives no usable ${override.url ? 'ref' : 'url'}.`,
          {
            hint: `Set both: ${configKey(entry.name)} = { url: '<git url>', ref: '<tag or 40-hex commit>' }.`,
          },
        );
      }
      return {
        name: entry.name,
        buildKind: entry.buildKind,
        url: rewriteUrl(url, options.mirrors),
        canonicalUrl: url,
        ref,
        ...(isCommit(ref) ? { expectedCommit: ref } : {}),
        origin: 'override',
        ...(mapped ? { declared: mapped.declared } : {}),
      };
    }
    if (!mapped) {
      throw new ConfigError(`Cannot map quiche's ${entry.name} dependency to a git repository and ref: ${declaredForm(entry, parsed)}.`, {
        hint: `Set ${configKey(entry.name)} = { url: '<git url>', ref: '<tag or 40-hex commit>' } in the config.`,
      });
    }
    return {
      name: entry.name,
      buildKind: entry.buildKind,
      url: rewriteUrl(mapped.url, options.mirrors),
      canonicalUrl: mapped.url,
      ref: mapped.ref,
      ...(mapped.expectedCommit ? { expectedCommit: mapped.expectedCommit } : {}),
      origin: 'module-bazel',
      declared: mapped.declared,
    };
  });
}

function declaredForm(entry: TableEntry, parsed: ModuleBazel): string {
  if (entry.source.bazelDep) {
    const dep = parsed.bazelDeps.find((d) => d.name === entry.source.bazelDep);
    return dep
      ? `bazel_dep version "${dep.version}" is not a form the table knows`
      : `MODULE.bazel has no bazel_dep "${entry.source.bazelDep}"`;
  }
  const archive = parsed.httpArchives.find((a) => a.name === entry.source.httpArchive);
  return archive
    ? `http_archive ${archive.name} URL ${archive.urls.join(', ')} is not a GitHub archive of a commit`
    : `MODULE.bazel has no http_archive "${entry.source.httpArchive}"`;
}

/**
 * Checks that every external repository the programs' BUILD.bazel closure references (source-list.ts
 * bazelClosure().externalRepos, e.g. `com_google_absl`) is provided by the table or known not to be
 * needed. Bazel repository names are MODULE.bazel's repo_name when set, else the module name.
 */
export function checkExternalRepos(moduleBazelText: string, externalRepos: readonly string[]): void {
  const parsed = parseModuleBazel(moduleBazelText);
  const moduleOf = new Map(parsed.bazelDeps.map((d) => [d.repoName ?? d.name, d.name]));
  const covered = new Set<string>(Object.keys(NOT_NEEDED));
  for (const entry of DEPENDENCY_TABLE) {
    if (entry.source.bazelDep) covered.add(entry.source.bazelDep);
    if (entry.source.httpArchive) covered.add(entry.source.httpArchive);
  }
  const missing = externalRepos.filter((repo) => !covered.has(moduleOf.get(repo) ?? repo));
  if (missing.length > 0) {
    throw new ConfigError(
      `quic_client / quic_server at this quiche revision use repositories build-quiche does not provide: ${missing.join(', ')}.`,
      {
        hint: 'Pick a quiche.revision build-quiche supports, or teach src/standalone/dependencies.ts to build them.',
      },
    );
  }
}
