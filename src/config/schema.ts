import { z } from 'zod';
import { remoteExecutionIssues, remoteExecutionSchema } from './remote-execution.js';

/**
 * The one description of build-quiche's configuration. Types, defaults, validation, the JSON Schema
 * (schema/pipeline.config.schema.json) and the BUILD_QUICHE_* environment overrides all come from it.
 */

export const DEFAULT_CHROMIUM_VERSION = '152.0.7977.83';

/**
 * The build backends this version ships (src/stages/backends/). A config may also name a backend
 * registered with registerBackend(); which ids exist is checked against that registry when the
 * pipeline is assembled (an unknown one is a config error there).
 */
export const BACKEND_IDS = ['chromium', 'quiche'] as const;

/** The four toy binaries (CHROMIUM.md, "Targets and binaries"). */
export const DEFAULT_TARGETS = [
  'net:quic_client',
  'net:quic_server',
  'net/third_party/quiche:epoll_quic_client',
  'net/third_party/quiche:epoll_quic_server',
] as const;

/** Small, portable release binaries (CHROMIUM.md, "gn args"). User args are merged over these. */
export const DEFAULT_GN_ARGS: Record<string, string | number | boolean> = {
  is_debug: false,
  is_component_build: false,
  symbol_level: 0,
  dcheck_always_on: false,
  treat_warnings_as_errors: false,
  use_remoteexec: false,
};

/** The custom_vars a //net-only Linux checkout wants (CHROMIUM.md, "Checkout"). */
export const DEFAULT_CUSTOM_VARS: Record<string, string | boolean> = {
  checkout_configuration: 'small',
  checkout_pgo_profiles: false,
  checkout_nacl: false,
  generate_location_tags: false,
};

const versionOrCommit = z
  .string()
  .regex(/^(\d+\.\d+\.\d+\.\d+|[0-9a-f]{40})$/, 'a Chromium version tag like 152.0.7977.83 or a 40-hex src commit');

const gnValue = z.union([z.string(), z.number(), z.boolean()]);
const envMap = z.record(z.string(), z.string());

const chromium = z
  .strictObject({
    version: versionOrCommit
      .default(DEFAULT_CHROMIUM_VERSION)
      .describe('The pin: a Chromium version tag (or a src commit). Everything else is read from DEPS at it.'),
    srcUrl: z
      .string()
      .min(1)
      .default('https://chromium.googlesource.com/chromium/src.git')
      .describe('Git URL of chromium/src (a mirror is fine).'),
    gitiles: z
      .union([z.literal('auto'), z.literal('off'), z.string().url()])
      .default('auto')
      .describe(
        "How to read single files without a checkout. 'auto': gitiles ?format=TEXT at the git URL minus '.git' (googlesource's layout), falling back to a shallow git fetch; 'off': always git fetch; a URL: the gitiles base to use for chromium/src.",
      ),
  })
  .prefault({});

const depotTools = z
  .strictObject({
    url: z.string().min(1).default('https://chromium.googlesource.com/chromium/tools/depot_tools.git').describe('Git URL of depot_tools.'),
    revision: z
      .string()
      .regex(/^[0-9a-f]{40}$/, 'a full 40-hex git commit hash (git fetch needs the whole hash)')
      .optional()
      .describe('Override the depot_tools revision pinned in DEPS (src/third_party/depot_tools).'),
    offline: z
      .boolean()
      .default(false)
      .describe('No CIPD access (air-gapped mirrors, tests): set VPYTHON_BYPASS and pass --ignore-dep-type=cipd to gclient.'),
    env: envMap.default({}).describe('Extra environment for every depot_tools command (gclient, gn, autoninja).'),
  })
  .prefault({});

const gclient = z
  .strictObject({
    customVars: z
      .record(z.string(), z.union([z.string(), z.boolean(), z.number()]))
      .default({})
      .describe('gclient custom_vars, merged over the //net defaults; e.g. chromium_git / quiche_git for mirrors.'),
    customDeps: z.record(z.string(), z.string().nullable()).default({}).describe('gclient custom_deps.'),
    targetOs: z.array(z.string()).default(['linux']).describe('target_os in .gclient.'),
    cacheDir: z.string().optional().describe('A shared git cache (cache_dir in .gclient).'),
    syncArgs: z.array(z.string()).default([]).describe('Extra arguments for gclient sync.'),
    jobs: z.number().int().positive().optional().describe('gclient sync -j.'),
  })
  .prefault({});

const checkout = z
  .strictObject({
    srcDir: z
      .string()
      .optional()
      .describe("Adopt an existing gclient root (the directory holding .gclient and src/) instead of the cache's own."),
    allowMoveExisting: z
      .boolean()
      .default(false)
      .describe('Allow the pipeline to sync an adopted checkout to the pin. Without it, a checkout at another pin stops the run.'),
  })
  .prefault({});

const patches = z
  .strictObject({
    series: z
      .string()
      .optional()
      .describe('The series file (one patch a line). Default: the MIMIQ-derived series shipped with build-quiche.'),
  })
  .prefault({});

const build = z
  .strictObject({
    outDir: z.string().default('out/Release').describe('Out dir, relative to src.'),
    args: z.record(z.string(), gnValue).default({}).describe('gn args, merged over the defaults for small portable binaries.'),
    targets: z
      .array(z.string().min(1))
      .min(1)
      .default([...DEFAULT_TARGETS])
      .describe('gn labels to build.'),
    builder: z
      .enum(['autoninja', 'ninja'])
      .default('autoninja')
      .describe("'autoninja' (siso, current Chromium's default) or 'ninja' (sets use_siso=false)."),
    jobs: z.number().int().positive().optional().describe('-j for the builder. Default: preflight suggests from cores and RAM.'),
    gn: z.string().optional().describe("Path to a gn binary to use instead of depot_tools' gn (its version must match DEPS' gn_version)."),
    ninja: z
      .string()
      .optional()
      .describe('Path to the ninja binary for builder=ninja. Default: src/third_party/ninja/ninja, else ninja on PATH.'),
  })
  .prefault({});

const smoke = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Start the built server on loopback and fetch with the built clients.'),
    migration: z
      .enum(['auto', 'require', 'off'])
      .default('auto')
      .describe("Check intentional migration across 127.0.0.x: 'auto' when the client supports it, 'require' to fail if it does not."),
    responseBytes: z
      .union([z.literal('auto'), z.number().int().positive()])
      .default('auto')
      .describe(
        "Size of the first response fetched in each timed migration run: 'auto' sizes it from the loopback throughput measured just before (plain downloads, 1 MB then 8x larger until one lasts 50 ms) to last two migration intervals with a 1.5x margin; a number fixes it. A download that ends before the first migration is tried again, larger (sized from the throughput it saw).",
      ),
    maxResponseBytes: z
      .number()
      .int()
      .positive()
      .default(1_000_000_000)
      .describe('Largest response a timed migration run grows to (the toy client keeps the whole body in memory).'),
    addresses: z
      .array(z.string())
      .min(2)
      .default(['127.0.0.1', '127.0.0.2', '127.0.0.3'])
      .describe('Local addresses the migration check moves the connection between (all of 127.0.0.0/8 is local on Linux).'),
    migrateIntervalMs: z.number().int().positive().default(500).describe('--migrate_interval_ms for the migration check.'),
    timeoutMs: z.number().int().positive().default(120_000).describe('Time limit of each client run.'),
  })
  .prefault({});

const commitHash = z
  .string()
  .regex(/^[0-9a-f]{40}$/, 'a full 40-hex git commit hash (a shallow fetch needs the whole hash, and HEAD is verified against it)');

const quicheDependency = z.strictObject({
  url: z.string().min(1).optional().describe('Git URL to clone instead of the one MODULE.bazel implies.'),
  ref: z.string().min(1).optional().describe('Tag or 40-hex commit to check out instead of the one MODULE.bazel implies.'),
  ignore: z
    .boolean()
    .optional()
    .describe('Accept a MODULE.bazel entry build-quiche does not know as not needed by quic_client / quic_server.'),
});

const quiche = z
  .strictObject({
    url: z.string().min(1).default('https://quiche.googlesource.com/quiche').describe("Git URL of quiche (backend 'quiche')."),
    revision: commitHash
      .optional()
      .describe(
        "Build this quiche commit instead of the one Chromium's DEPS pins at chromium.version; then DEPS is not read and artifacts are named quiche-<commit12>.",
      ),
    dependencies: z
      .record(z.string(), quicheDependency)
      .default({})
      .describe(
        "Per dependency of quiche's MODULE.bazel (boringssl, abseil-cpp, protobuf, googleurl, quic-trace, or an unknown name): { url, ref } overrides, { ignore: true } for an entry not needed. docs/quiche-backend.md has the table.",
      ),
    mirrors: z
      .record(z.string(), z.string())
      .default({})
      .describe(
        "URL prefix rewrites applied to quiche's and every dependency's URL, like git's url.<base>.insteadOf: { 'https://github.com/google/': 'http://127.0.0.1:8080/' }. The longest matching prefix wins.",
      ),
    optimization: z
      .enum(['-O0', '-O1', '-O2', '-O3', '-Os', '-Og'])
      .default('-O1')
      .describe('Optimization for the dependencies and quiche (-O1 compiles about twice as fast as -O2).'),
    cc: z.string().min(1).default('gcc-12').describe('C compiler for the CMake dependencies.'),
    cxx: z.string().min(1).default('g++-12').describe('C++ compiler for the dependencies and quiche.'),
    ccache: z
      .enum(['auto', 'on', 'off'])
      .default('auto')
      .describe("Compiler launcher: 'auto' uses ccache when it is on PATH, 'on' requires it, 'off' never uses it."),
  })
  .prefault({});

/**
 * A distributed compiler for the compile steps (docs/distributed.md). Never part of the build identity:
 * a build that ran on other machines gives the same bytes, which the probe checks per host.
 */
const distributed = z
  .strictObject({
    engine: z
      .enum(['none', 'distcc'])
      .default('none')
      .describe(
        "'distcc': compile on the hosts below (plain mode: preprocessing stays here, links stay here; with ccache, ccache runs first and hands its misses to distcc). 'none': compile here only.",
      ),
    hosts: z
      .array(
        z
          .string()
          .regex(
            /^(--randomize|--localslots_cpp=\d+|[^\s@/,:]*@?[A-Za-z0-9.\-[\]:]+(\/\d+)?(,[a-z]+)*)$/,
            "a distcc host: 'HOST[:PORT][/SLOTS][,lzo]' (TCP) or '[USER]@HOST[/SLOTS][,lzo]' (ssh)",
          ),
      )
      .default([])
      .describe(
        "distcc hosts as DISTCC_HOSTS spells them: '10.0.0.5/8,lzo' (TCP, 8 jobs at a time, compressed), 'builder@10.0.0.6/8,lzo' (over ssh), 'localhost/2' (this machine compiles too, 2 at a time; distcc's advice unless it is under a fifth of the total). Not pump mode (',cpp').",
      ),
    onUnusableHost: z
      .enum(['skip', 'stop'])
      .default('skip')
      .describe(
        "A host that does not answer, refuses our compiler or compiles the probe to other bytes than this machine: 'skip' names it and builds without it; 'stop' stops the run.",
      ),
    fallback: z
      .boolean()
      .default(true)
      .describe(
        'A job whose host fails is compiled here instead (DISTCC_FALLBACK). Off: such a job fails the build, so nothing compiles here unnoticed.',
      ),
    jobs: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("-j while distributing. Default: twice the usable hosts' slots (distcc's rule of thumb), at least the local -j."),
    localJobs: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'Links, archives and protoc run here, this many at a time (a ninja pool). Default: the local -j (build.jobs, else cores and RAM).',
      ),
    compilers: z
      .array(z.string().min(1))
      .optional()
      .describe(
        "Compilers the probe checks on every host. Default: quiche.cc and quiche.cxx with backend 'quiche'; gcc and g++ with backend 'chromium' (what cc_wrapper prefixes in a g++ toolchain).",
      ),
  })
  .prefault({})
  .refine((d) => d.engine === 'none' || d.hosts.some((h) => !h.startsWith('--')), {
    message: 'distributed.engine is set but distributed.hosts names no host',
    path: ['hosts'],
  });

const dirStore = z.strictObject({
  type: z.literal('dir'),
  path: z.string().optional().describe('Directory holding artifacts and index.json. Default: <distDir>/store.'),
});
const githubStore = z.strictObject({
  type: z.literal('github'),
  repo: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'owner/name'),
  tokenEnv: z.string().default('GITHUB_TOKEN').describe('Environment variable holding the token (never stored or logged).'),
  apiUrl: z.string().url().default('https://api.github.com'),
  tagPrefix: z.string().default('quiche-'),
});
export const storeSchema = z.discriminatedUnion('type', [dirStore, githubStore]);

const preflight = z
  .strictObject({
    minFreeDiskGb: z.number().nonnegative().default(60).describe('Free disk needed at the cache dir (a real build needs >= 60 GB).'),
    minMemoryGb: z.number().nonnegative().default(8),
    gbPerJob: z.number().positive().default(2).describe('RAM per compile job when suggesting -j.'),
    tools: z.array(z.string()).default(['git', 'python3', 'curl', 'lsb_release', 'file', 'xz', 'openssl', 'readelf']),
  })
  .prefault({});

const retry = z
  .strictObject({
    retries: z.number().int().nonnegative().default(4),
    minTimeoutMs: z.number().int().nonnegative().default(2000),
    maxTimeoutMs: z.number().int().nonnegative().default(60_000),
  })
  .prefault({});

const docker = z
  .strictObject({
    engine: z.enum(['auto', 'docker', 'podman']).default('auto'),
    baseImage: z.string().default('ubuntu:24.04'),
    network: z.string().optional().describe("--network for the container (e.g. 'host' to reach a loopback mirror)."),
    extraRunArgs: z.array(z.string()).default([]),
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    backend: z
      .union([z.enum(BACKEND_IDS), z.string().regex(/^[a-z][a-z0-9-]*$/, 'a backend id (lowercase letters, digits, -)')])
      .default('chromium')
      .describe(
        "How quiche is built: 'chromium' inside a Chromium tree (depot_tools, gclient, gn, siso/ninja); 'quiche' standalone from quiche's own repository and the dependencies its MODULE.bazel names (CMake + a generated build.ninja; docs/quiche-backend.md); or the id of a backend registered with registerBackend().",
      ),
    chromium,
    quiche,
    depotTools,
    gclient,
    checkout,
    patches,
    build,
    smoke,
    distributed,
    publish: z
      .array(storeSchema)
      .default([{ type: 'dir' }])
      .describe('Where finished artifacts go. Default: a directory store under dist/.'),
    reuse: z.boolean().default(true).describe('Before building, look for an artifact with the same fingerprint in the stores.'),
    preflight,
    retry,
    docker,
    remoteExecution: remoteExecutionSchema.optional(),
    cacheDir: z.string().default('cache').describe('State, logs, depot_tools and the gclient root.'),
    distDir: z.string().default('dist').describe('Finished tarballs.'),
    lockWaitMs: z.number().int().nonnegative().default(10_000).describe('How long a second run waits for the cache lock.'),
    keepLogs: z.number().int().positive().default(20).describe('How many runs of logs to keep.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const issue of remoteExecutionIssues(config)) ctx.addIssue({ code: 'custom', ...issue, input: valueAt(config, issue.path) });
  });

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), root);
}

/** What users write: every field optional. */
export type UserConfig = z.input<typeof configSchema>;
/** After defaults: every field present. */
export type Config = z.output<typeof configSchema>;
export type StoreConfig = z.output<typeof storeSchema>;
