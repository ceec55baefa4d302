/**
 * Builds the local upstream: bare git repositories shaped like Chromium's hosts,
 * made from the fixture trees next to this file.
 *
 *   <root>/repos/chromium/tools/depot_tools.git   the fake depot_tools (./depot_tools)
 *   <root>/repos/chromium/src.git                 the fixture chromium/src (./src)
 *   <root>/repos/quiche.git                       the fixture quiche (./quiche)
 *
 * The layout mirrors the real URLs (https://chromium.googlesource.com/chromium/src.git,
 * https://quiche.googlesource.com/quiche.git), so one loopback server (server.ts) can stand
 * in for both hosts: point DEPS' `chromium_git` and `quiche_git` vars at it.
 *
 * Everything is deterministic: fixed names, dates and file modes, so commit hashes depend
 * only on the fixture sources and are the same on every machine.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchDepFiles, benchLayout, benchSrcEdits, scaleKey, type ScaleOptions } from './scale.js';

export const UPSTREAM_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = join(UPSTREAM_DIR, '..');
export const FIXTURE_PATCHES_DIR = join(UPSTREAM_DIR, 'patches');

export const TAG_152 = '152.0.7977.83';
export const TAG_150 = '150.0.7871.114';
export type UpstreamTag = typeof TAG_152 | typeof TAG_150;

/** Paths of the repositories under reposDir, which are also their URL paths. */
export const REPO_URL_PATHS = {
  depotTools: 'chromium/tools/depot_tools.git',
  src: 'chromium/src.git',
  quiche: 'quiche.git',
} as const;

/** The gn revision Debian's generate-ninja reports (`gn --version` -> `1000 (5e19d2f)`). */
export const GN_REVISION_DEBIAN = '5e19d2fb166fbd4f6f32147fbb2f497091a54ad8';
/** A gn revision no installed gn has: main's DEPS pins it, to test a version mismatch. */
export const GN_REVISION_MAIN = '97b68a0bb62b7528bc3491c7949d6804223c2b82';

export interface Pin {
  /** The src commit (for a tag: the commit the annotated tag points at). */
  srcCommit: string;
  /** DEPS' quiche_revision. */
  quicheRevision: string;
  /** The revision DEPS pins for src/third_party/depot_tools. */
  depotToolsRevision: string;
  /** DEPS' gn_version, e.g. `git_revision:5e19d2f...`. */
  gnVersion: string;
}

export interface TagPin extends Pin {
  /** The annotated tag object (`git rev-parse refs/tags/<tag>`). */
  srcTagObject: string;
  /** The release branch the tag is on. */
  branch: string;
}

export interface UpstreamInfo {
  /** The directory holding repos/ and upstream.json. */
  root: string;
  /** GIT_PROJECT_ROOT for the server: the repos below, by their URL paths. */
  reposDir: string;
  /** Absolute paths of the bare repositories. */
  repos: { depotTools: string; src: string; quiche: string };
  urlPaths: typeof REPO_URL_PATHS;
  defaultTag: typeof TAG_152;
  tags: Record<UpstreamTag, TagPin>;
  /** src's main branch head and what its DEPS pins (newer than both tags). */
  srcMain: Pin;
  srcMainCommits: string[];
  /** Oldest first. The last one is quiche's main, newer than both pins. */
  quicheCommits: string[];
  /** Oldest first. The last one is depot_tools' main, newer than both pins. */
  depotToolsCommits: string[];
  /** Hash of the fixture sources this upstream was built from. */
  sourceHash: string;
  /** Only in a scaled upstream (scale.ts): the extra DEPS repositories, pinned at both tags and main. */
  bench?: { scale: ScaleOptions; copiesPerFile: number; deps: Array<{ name: string; path: string; urlPath: string; revision: string }> };
}

type Tree = Map<string, { content: Buffer; executable: boolean }>;

interface Edit {
  path: string;
  /** Text that must occur exactly once in the file, and its replacement. */
  find?: string;
  replace?: string;
  /** Or the whole new content. */
  content?: string;
}

interface HistoryCommit {
  message: string;
  date: string;
  edits: Edit[];
}

/** depot_tools' shell wrappers, executable as upstream (so are its *.py files). */
const DEPOT_TOOLS_EXECUTABLES = new Set(['gclient', 'update_depot_tools', 'vpython3', 'gn', 'autoninja', 'ninja', 'siso']);

const AUTHOR = { name: 'Fixture Author', email: 'fixture-author@build-quiche.test' };
const COMMITTER = { name: 'Fixture Committer', email: 'fixture-committer@build-quiche.test' };

/**
 * quiche's history after the import of ./quiche. The 150 tag pins the first of these,
 * the 152 tag the second; the third is main, after both. The 152 commit changes the
 * connect-failure message, which fixtures/patches/conflict/0002 depends on.
 */
const QUICHE_HISTORY: HistoryCommit[] = [
  {
    message: 'quic_toy_client: add --initial_mtu\n\nAccepted and checked; the toy connection keeps its fixed packet size.',
    date: '2026-05-28T09:12:00Z',
    edits: [
      {
        path: 'quiche/quic/tools/quic_toy_client.cc',
        find: 'DEFINE_QUICHE_COMMAND_LINE_FLAG(\n    std::string, interface_name,',
        replace:
          'DEFINE_QUICHE_COMMAND_LINE_FLAG(\n    int32_t, initial_mtu, 0,\n    "Initial MTU of the connection. 0 keeps the default.");\n\n' +
          'DEFINE_QUICHE_COMMAND_LINE_FLAG(\n    std::string, interface_name,',
      },
      {
        path: 'quiche/quic/tools/quic_toy_client.cc',
        find: '  // Build the client, and try to connect.\n',
        replace:
          '  if (GetQuicFlag(FLAGS_initial_mtu) < 0) {\n' +
          '    std::cerr << "--initial_mtu must not be negative" << std::endl;\n' +
          '    return 1;\n  }\n\n  // Build the client, and try to connect.\n',
      },
    ],
  },
  {
    message: 'quic_toy_client: print the error details when the handshake fails',
    date: '2026-07-08T14:40:00Z',
    edits: [
      {
        path: 'quiche/quic/tools/quic_toy_client.cc',
        find:
          '    std::cerr << "Failed to connect to " << host << ":" << port\n' +
          '              << ". Error: " << client->error() << std::endl;\n',
        replace:
          '    std::cerr << "Failed to connect to " << host << ":" << port << ". "\n' +
          '              << client->error() << " " << client->error_details()\n' +
          '              << std::endl;\n',
      },
      {
        path: 'quiche/quic/tools/quic_toy_server.cc',
        find: '"The port the quic server will listen on."',
        replace: '"The port the quic server will listen on (UDP)."',
      },
    ],
  },
  {
    message: 'quic_toy_server: enable RFCv2 by default',
    date: '2026-08-03T08:05:00Z',
    edits: [
      {
        path: 'quiche/quic/tools/quic_toy_server.cc',
        find: 'if (flag.empty()) return {"RFCv1", "draft29"};',
        replace: 'if (flag.empty()) return {"RFCv1", "RFCv2", "draft29"};',
      },
    ],
  },
];

/** depot_tools' history after the import of ./depot_tools: 150 pins #1, 152 pins #2, #3 is main. */
const DEPOT_TOOLS_HISTORY: HistoryCommit[] = [
  { message: "gclient: document the fake's knobs", date: '2026-05-20T11:00:00Z', edits: [] },
  { message: 'autoninja: mention siso in the help text', date: '2026-07-01T11:00:00Z', edits: [] },
  { message: 'Roll the fake forward (newer than every pin)', date: '2026-08-10T11:00:00Z', edits: [] },
];

/** Runs git with a config isolated from the machine's and fixed identities and dates. */
async function git(args: string[], opts: { cwd?: string; date?: string; input?: string } = {}): Promise<string> {
  const date = opts.date ? `@${Math.floor(Date.parse(opts.date) / 1000)} +0000` : undefined;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LC_ALL: 'C',
    TZ: 'UTC',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: AUTHOR.name,
    GIT_AUTHOR_EMAIL: AUTHOR.email,
    GIT_COMMITTER_NAME: COMMITTER.name,
    GIT_COMMITTER_EMAIL: COMMITTER.email,
    ...(date ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } : {}),
  };
  return new Promise((resolve, reject) => {
    const child = execFile('git', args, { cwd: opts.cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`git ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout.trim());
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

async function readFixtureTree(dir: string, isExecutable: (path: string) => boolean): Promise<Tree> {
  const tree: Tree = new Map();
  async function walk(current: string): Promise<void> {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === '__pycache__' || entry.name === 'node_modules') continue;
        await walk(full);
      } else if (entry.isFile()) {
        if (entry.name.endsWith('.pyc')) continue;
        const path = relative(dir, full).split('\\').join('/');
        tree.set(path, { content: await readFile(full), executable: isExecutable(path) });
      }
    }
  }
  await walk(dir);
  return tree;
}

function applyEdits(tree: Tree, edits: Edit[]): Tree {
  const next: Tree = new Map(tree);
  for (const edit of edits) {
    const existing = next.get(edit.path);
    let content: string;
    if (edit.content !== undefined) {
      content = edit.content;
    } else {
      if (!existing) throw new Error(`history edit: no file ${edit.path}`);
      const text = existing.content.toString('utf8');
      const first = text.indexOf(edit.find!);
      if (first < 0 || text.indexOf(edit.find!, first + 1) >= 0) {
        throw new Error(`history edit: ${JSON.stringify(edit.find)} must occur exactly once in ${edit.path}`);
      }
      content = text.slice(0, first) + edit.replace! + text.slice(first + edit.find!.length);
    }
    next.set(edit.path, { content: Buffer.from(content, 'utf8'), executable: existing?.executable ?? false });
  }
  return next;
}

/** Writes trees into a bare repository as commits, through a scratch work tree. */
class BareRepoWriter {
  private readonly workTree: string;

  constructor(
    readonly gitDir: string,
    scratch: string,
  ) {
    this.workTree = scratch;
  }

  async init(): Promise<void> {
    await mkdir(this.gitDir, { recursive: true });
    await git(['init', '-q', '--bare', '--initial-branch=main', this.gitDir]);
    // Let clients fetch any commit by hash (a shallow fetch of a pinned revision).
    for (const [key, value] of [
      ['uploadpack.allowReachableSHA1InWant', 'true'],
      ['uploadpack.allowAnySHA1InWant', 'true'],
      ['uploadpack.allowFilter', 'true'],
      ['http.receivepack', 'false'],
      ['core.fileMode', 'true'],
    ]) {
      await git(['--git-dir', this.gitDir, 'config', key!, value!]);
    }
  }

  async commit(opts: { tree: Tree; gitlinks?: Record<string, string>; message: string; date: string; parents: string[] }): Promise<string> {
    const g = (args: string[], extra: { date?: string } = {}) =>
      git(['--git-dir', this.gitDir, '--work-tree', this.workTree, ...args], { cwd: this.workTree, ...extra });
    await rm(this.workTree, { recursive: true, force: true });
    await mkdir(this.workTree, { recursive: true });
    for (const [path, file] of [...opts.tree.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const full = join(this.workTree, path);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, file.content);
      await chmod(full, file.executable ? 0o755 : 0o644);
    }
    await g(['read-tree', '--empty']);
    await g(['add', '-A', '-f', '.']);
    for (const [path, sha] of Object.entries(opts.gitlinks ?? {})) {
      await g(['update-index', '--add', '--cacheinfo', `160000,${sha},${path}`]);
    }
    const tree = await g(['write-tree']);
    const parentArgs = opts.parents.flatMap((p) => ['-p', p]);
    return git(['--git-dir', this.gitDir, 'commit-tree', tree, ...parentArgs, '-F', '-'], {
      date: opts.date,
      input: opts.message + '\n',
    });
  }

  async setRef(ref: string, sha: string): Promise<void> {
    await git(['--git-dir', this.gitDir, 'update-ref', ref, sha]);
  }

  async annotatedTag(name: string, sha: string, message: string, date: string): Promise<string> {
    await git(['--git-dir', this.gitDir, 'tag', '-a', '-m', message, name, sha], { date });
    return git(['--git-dir', this.gitDir, 'rev-parse', `refs/tags/${name}`]);
  }

  async finish(): Promise<void> {
    await rm(join(this.gitDir, 'index'), { force: true });
    await rm(this.workTree, { recursive: true, force: true });
  }
}

async function buildHistory(
  writer: BareRepoWriter,
  base: Tree,
  first: { message: string; date: string },
  history: HistoryCommit[],
): Promise<string[]> {
  const commits: string[] = [];
  let tree = base;
  let parent: string | undefined;
  for (const [index, step] of [{ ...first, edits: [] }, ...history].entries()) {
    tree = applyEdits(tree, step.edits);
    if (index > 0 && step.edits.length === 0) {
      // A commit that only records progress: append to the changelog so the tree changes.
      const log = tree.get('CHANGES.md')?.content.toString('utf8') ?? '# Changes\n\n';
      tree = applyEdits(tree, [{ path: 'CHANGES.md', content: `${log}- ${step.message}\n` }]);
    }
    parent = await writer.commit({ tree, message: step.message, date: step.date, parents: parent ? [parent] : [] });
    commits.push(parent);
  }
  await writer.setRef('refs/heads/main', parent!);
  return commits;
}

/**
 * Pins older than 152 have the 2024 shape of Chromium's remote execution: build/toolchain/rbe.gni offers
 * reclient or siso's built-in client, picked by use_reclient (whose default follows use_remoteexec, so a
 * siso build must say use_reclient = false), and DEPS' configure_siso hook takes no credential helper
 * (siso reads SISO_CREDENTIAL_HELPER from the environment instead). 152 and main have the newest shape
 * (./src as it is). The version gate of build-quiche's remote execution is tested against the two.
 */
const RBE_GNI_2024 = `# Remote execution (build-quiche test fixture), in the 2024 shape of Chromium's
# build/toolchain/rbe.gni: reclient (rewrapper and reproxy) or Siso's own
# REAPI client, picked by use_reclient.

declare_args() {
  # Set to true to build with remote execution.
  use_remoteexec = false
}

declare_args() {
  # Remote execution through reclient. Like use_reclient_value.py, it follows
  # use_remoteexec; set it to false to use Siso's built-in client instead.
  use_reclient = use_remoteexec

  # The directory where the reclient configuration files are.
  reclient_cfg_dir = ""
}

assert(!use_remoteexec || use_reclient || use_siso,
       "Either use_reclient or use_siso needs to be true to enable remote executions")
`;

function cut(text: string, from: string, to: string, file: string): string {
  const start = text.indexOf(from);
  const end = text.indexOf(to, start);
  if (start < 0 || end < 0) throw new Error(`older-pin edit: ${JSON.stringify(from)} ... ${JSON.stringify(to)} not found in ${file}`);
  return text.slice(0, start) + text.slice(end + to.length);
}

/** DEPS of an older pin: no reapi_credential_helper var, and a configure_siso hook without --credential-helper. */
function olderPinDeps(deps: string): string {
  const noVar = cut(deps, '  # Credential helper for Siso', "'reapi_credential_helper': Str(''),\n", 'DEPS');
  return cut(noVar, "               '--credential-helper',\n", "Var('reapi_credential_helper'),\n", 'DEPS');
}

/** The other files of an older pin: the 2024 rbe.gni, and a configure_siso.py without --credential-helper. */
function olderPinFiles(tree: Tree): Edit[] {
  const configureSiso = 'build/config/siso/configure_siso.py';
  const script = tree.get(configureSiso)!.content.toString('utf8');
  return [
    { path: 'build/toolchain/rbe.gni', content: RBE_GNI_2024 },
    {
      path: configureSiso,
      content: cut(script, '    # credential helper (newest DEPS): start', '# credential helper (newest DEPS): end\n', configureSiso),
    },
  ];
}

function srcTree(
  base: Tree,
  pin: { quiche: string; depotTools: string; gnRevision: string; version: string },
  bench?: ReturnType<typeof benchSrcEdits> & { gitlinks: Record<string, string> },
): { tree: Tree; gitlinks: Record<string, string> } {
  const [major, minor, build, patch] = pin.version.split('.');
  const older = Number(major) < 152;
  let depsTemplate = base.get('DEPS')!.content.toString('utf8');
  if (bench) depsTemplate = depsTemplate.replace(bench.depsAnchor, bench.depsEntries + bench.depsAnchor);
  if (older) depsTemplate = olderPinDeps(depsTemplate);
  const deps = depsTemplate
    .replace('@QUICHE_REVISION@', pin.quiche)
    .replace('@DEPOT_TOOLS_REVISION@', pin.depotTools)
    .replace('@GN_REVISION@', pin.gnRevision);
  const versionFile = base
    .get('chrome/VERSION')!
    .content.toString('utf8')
    .replace('@MAJOR@', major!)
    .replace('@MINOR@', minor!)
    .replace('@BUILD@', build!)
    .replace('@PATCH@', patch!);
  const tree = applyEdits(base, [
    ...(older ? olderPinFiles(base) : []),
    { path: 'DEPS', content: deps },
    { path: 'chrome/VERSION', content: versionFile },
    ...(bench
      ? [
          { path: 'net/third_party/quiche/BUILD.gn', ...bench.quicheBuildGn },
          ...[...bench.files].map(([path, content]) => ({ path, content })),
        ]
      : []),
  ]);
  return {
    tree,
    gitlinks: { 'net/third_party/quiche/src': pin.quiche, 'third_party/depot_tools': pin.depotTools, ...bench?.gitlinks },
  };
}

/**
 * Builds the three bare repositories under `<root>/repos` and returns what they hold. With a scale
 * (scale.ts), also the bench deps' repositories, pinned in src's DEPS at every src commit.
 */
export async function buildUpstream(root: string, scale?: ScaleOptions): Promise<UpstreamInfo> {
  const reposDir = join(root, 'repos');
  const scratch = join(root, `.scratch-${randomBytes(4).toString('hex')}`);
  const repos = {
    depotTools: join(reposDir, REPO_URL_PATHS.depotTools),
    src: join(reposDir, REPO_URL_PATHS.src),
    quiche: join(reposDir, REPO_URL_PATHS.quiche),
  };

  // depot_tools: wrappers without an extension and Python scripts are executable, as upstream.
  const depotToolsWriter = new BareRepoWriter(repos.depotTools, scratch);
  await depotToolsWriter.init();
  const depotToolsBase = await readFixtureTree(
    join(UPSTREAM_DIR, 'depot_tools'),
    (p) => DEPOT_TOOLS_EXECUTABLES.has(p) || p.endsWith('.py'),
  );
  const depotToolsCommits = await buildHistory(
    depotToolsWriter,
    depotToolsBase,
    { message: 'Import the fake depot_tools for build-quiche tests', date: '2026-04-01T11:00:00Z' },
    DEPOT_TOOLS_HISTORY,
  );
  await depotToolsWriter.finish();

  const quicheWriter = new BareRepoWriter(repos.quiche, scratch);
  await quicheWriter.init();
  const quicheBase = await readFixtureTree(join(UPSTREAM_DIR, 'quiche'), () => false);
  const quicheCommits = await buildHistory(
    quicheWriter,
    quicheBase,
    { message: 'Import the fixture quiche toy client and server', date: '2026-04-02T09:30:00Z' },
    QUICHE_HISTORY,
  );
  await quicheWriter.finish();

  const bench = scale ? await buildBenchDeps(reposDir, scratch, scale) : undefined;

  // src: main moves S1 -> S3 -> S5; each release branch forks from main and gets a
  // "Publish DEPS" commit that the version tag points at, as Chromium's release tags do.
  const srcWriter = new BareRepoWriter(repos.src, scratch);
  await srcWriter.init();
  const srcBase = await readFixtureTree(join(UPSTREAM_DIR, 'src'), (p) => p.endsWith('.py'));
  const [q1, q150, q152, qMain] = quicheCommits as [string, string, string, string];
  const [d1, d150, d152, dMain] = depotToolsCommits as [string, string, string, string];
  const gnDebian = `git_revision:${GN_REVISION_DEBIAN}`;
  const gnMain = `git_revision:${GN_REVISION_MAIN}`;

  const commitSrc = async (
    pin: { quiche: string; depotTools: string; gnRevision: string; version: string },
    message: string,
    date: string,
    parents: string[],
  ) => srcWriter.commit({ ...srcTree(srcBase, { ...pin }, bench?.src), message, date, parents });

  const s1 = await commitSrc(
    { quiche: q1, depotTools: d1, gnRevision: GN_REVISION_DEBIAN, version: '149.0.7800.0' },
    'Import the fixture chromium/src for build-quiche tests',
    '2026-04-03T10:00:00Z',
    [],
  );
  const s150 = await commitSrc(
    { quiche: q150, depotTools: d150, gnRevision: GN_REVISION_DEBIAN, version: TAG_150 },
    `Publish DEPS for ${TAG_150}`,
    '2026-06-02T10:00:00Z',
    [s1],
  );
  const s3 = await commitSrc(
    { quiche: q152, depotTools: d152, gnRevision: GN_REVISION_DEBIAN, version: '152.0.7977.0' },
    'Roll quiche and depot_tools',
    '2026-07-09T10:00:00Z',
    [s1],
  );
  const s152 = await commitSrc(
    { quiche: q152, depotTools: d152, gnRevision: GN_REVISION_DEBIAN, version: TAG_152 },
    `Publish DEPS for ${TAG_152}`,
    '2026-08-05T10:00:00Z',
    [s3],
  );
  const sMain = await commitSrc(
    { quiche: qMain, depotTools: dMain, gnRevision: GN_REVISION_MAIN, version: '153.0.8010.0' },
    'Roll quiche, depot_tools and gn',
    '2026-08-12T10:00:00Z',
    [s3],
  );
  await srcWriter.setRef('refs/heads/main', sMain);
  await srcWriter.setRef('refs/branch-heads/7871', s150);
  await srcWriter.setRef('refs/branch-heads/7977', s152);
  const tag150 = await srcWriter.annotatedTag(TAG_150, s150, TAG_150, '2026-06-02T10:05:00Z');
  const tag152 = await srcWriter.annotatedTag(TAG_152, s152, TAG_152, '2026-08-05T10:05:00Z');
  await srcWriter.finish();

  const info: UpstreamInfo = {
    root,
    reposDir,
    repos,
    urlPaths: REPO_URL_PATHS,
    defaultTag: TAG_152,
    tags: {
      [TAG_152]: {
        srcCommit: s152,
        srcTagObject: tag152,
        quicheRevision: q152,
        depotToolsRevision: d152,
        gnVersion: gnDebian,
        branch: 'refs/branch-heads/7977',
      },
      [TAG_150]: {
        srcCommit: s150,
        srcTagObject: tag150,
        quicheRevision: q150,
        depotToolsRevision: d150,
        gnVersion: gnDebian,
        branch: 'refs/branch-heads/7871',
      },
    },
    srcMain: { srcCommit: sMain, quicheRevision: qMain, depotToolsRevision: dMain, gnVersion: gnMain },
    srcMainCommits: [s1, s3, sMain],
    quicheCommits,
    depotToolsCommits,
    sourceHash: await hashUpstreamSources(),
    ...(bench ? { bench: bench.info } : {}),
  };
  await rm(scratch, { recursive: true, force: true });
  await writeFile(join(root, 'upstream.json'), JSON.stringify(toRelative(info), null, 2) + '\n');
  return info;
}

/** One bare repository per bench dep (one commit each), and src's edits that pin and build them. */
async function buildBenchDeps(reposDir: string, scratch: string, scale: ScaleOptions) {
  const layout = benchLayout(scale);
  const deps: Array<{ name: string; path: string; urlPath: string; revision: string; files: string[] }> = [];
  for (const dep of layout.deps) {
    const writer = new BareRepoWriter(join(reposDir, dep.urlPath), scratch);
    await writer.init();
    const tree: Tree = new Map(
      [...benchDepFiles(dep, layout.copiesPerFile)].map(([path, content]) => [path, { content: Buffer.from(content), executable: false }]),
    );
    const revision = await writer.commit({ tree, message: `Import ${dep.name}`, date: '2026-04-02T12:00:00Z', parents: [] });
    await writer.setRef('refs/heads/main', revision);
    await writer.finish();
    deps.push({ ...dep, revision });
  }
  const edits = benchSrcEdits(deps);
  return {
    src: { ...edits, gitlinks: Object.fromEntries(deps.map((d) => [d.path.replace(/^src\//, ''), d.revision])) },
    info: {
      scale,
      copiesPerFile: layout.copiesPerFile,
      deps: deps.map(({ name, path, urlPath, revision }) => ({ name, path, urlPath, revision })),
    },
  };
}

function toRelative(info: UpstreamInfo): UpstreamInfo {
  const rel = (p: string) => relative(info.root, p);
  return {
    ...info,
    root: '.',
    reposDir: rel(info.reposDir),
    repos: { depotTools: rel(info.repos.depotTools), src: rel(info.repos.src), quiche: rel(info.repos.quiche) },
  };
}

function fromRelative(info: UpstreamInfo, root: string): UpstreamInfo {
  const abs = (p: string) => join(root, p);
  return {
    ...info,
    root,
    reposDir: abs(info.reposDir),
    repos: { depotTools: abs(info.repos.depotTools), src: abs(info.repos.src), quiche: abs(info.repos.quiche) },
  };
}

/** Reads an upstream built by buildUpstream (e.g. one copied elsewhere). */
export async function loadUpstream(root: string): Promise<UpstreamInfo> {
  const info = JSON.parse(await readFile(join(root, 'upstream.json'), 'utf8')) as UpstreamInfo;
  return fromRelative(info, root);
}

/** A hash of everything buildUpstream reads: this file and the three fixture trees. */
export async function hashUpstreamSources(): Promise<string> {
  const hash = createHash('sha256');
  hash.update(await readFile(fileURLToPath(import.meta.url)));
  for (const dir of ['depot_tools', 'src', 'quiche']) {
    const tree = await readFixtureTree(join(UPSTREAM_DIR, dir), (p) => p.endsWith('.py'));
    for (const [path, file] of [...tree.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      hash.update(`${dir}/${path}\0${file.content.length}\0`);
      hash.update(file.content);
    }
  }
  return hash.digest('hex').slice(0, 16);
}

export const UPSTREAM_CACHE_DIR = join(REPO_ROOT, 'node_modules', '.cache', 'build-quiche-upstream');

const cached = new Map<string, Promise<UpstreamInfo>>();

/**
 * Builds the upstream once per source hash into node_modules/.cache and returns it.
 * Built in a temporary directory and renamed into place, so concurrent vitest workers
 * either see a complete upstream or build their own and lose the rename race harmlessly.
 * Treat the result as read-only: clone or copy from it. A scale (scale.ts) gives the scaled
 * upstream, cached beside the default one under its own name.
 */
export function cachedUpstream(scale?: ScaleOptions): Promise<UpstreamInfo> {
  const key = scale ? scaleKey(scale) : '';
  let promise = cached.get(key);
  if (promise) return promise;
  promise = (async () => {
    const hash = await hashUpstreamSources();
    const name = scale ? `${hash}-${await hashFile(join(UPSTREAM_DIR, 'scale.ts'))}-${key}` : hash;
    const target = join(UPSTREAM_CACHE_DIR, name);
    if (await exists(join(target, 'upstream.json'))) return loadUpstream(target);
    await mkdir(UPSTREAM_CACHE_DIR, { recursive: true });
    const tmp = join(UPSTREAM_CACHE_DIR, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await buildUpstream(tmp, scale);
      await rename(tmp, target);
    } catch (error) {
      await rm(tmp, { recursive: true, force: true });
      // Another worker finished first: use its upstream.
      if (!(await exists(join(target, 'upstream.json')))) throw error;
    }
    return loadUpstream(target);
  })();
  cached.set(key, promise);
  promise.catch(() => {
    cached.delete(key);
  });
  return promise;
}

async function hashFile(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex')
    .slice(0, 8);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
