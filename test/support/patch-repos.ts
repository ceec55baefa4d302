import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createAppContext, type AppContext } from '../../src/stages/context.js';
import type { ResolveOutput } from '../../src/stages/resolve.js';
import type { CheckoutOutput } from '../../src/stages/backends/chromium/checkout.js';
import { chromiumPaths } from '../../src/stages/backends/chromium/paths.js';
import { loadConfig } from '../../src/config/load.js';
import type { GuardInfo } from '../../src/engine/guard.js';
import { createStageContext } from '../../src/engine/context.js';
import type { StageContext } from '../../src/engine/stage.js';
import { LogFile } from '../../src/process/log-file.js';
import { removeTempDirs, tempDir } from '../../testkit/helpers.js';

// Every tempDir() of a test is removed after it.
afterEach(removeTempDirs);
export { tempDir };

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: os.devNull,
  GIT_AUTHOR_NAME: 'Quiche Dev',
  GIT_AUTHOR_EMAIL: 'dev@example.com',
  GIT_AUTHOR_DATE: '2026-07-08T12:00:00Z',
  GIT_COMMITTER_NAME: 'Quiche Dev',
  GIT_COMMITTER_EMAIL: 'dev@example.com',
  GIT_COMMITTER_DATE: '2026-07-08T12:00:00Z',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

export const CLIENT = 'quiche/quic/tools/quic_toy_client.cc';
export const SERVER = 'quiche/quic/tools/quic_simple_server_session.cc';
export const LEGACY = 'quiche/quic/core/legacy_path.cc';
export const HELPER = 'quiche/quic/tools/migration_helper.h';

/** The fake quiche's files at a pin. Pin "new" moves code around the way upstream does. */
export function quicheFiles(pin: 'old' | 'new'): Record<string, string | undefined> {
  const client = ['// quic_toy_client.cc (fake)', '#include <cstdio>'];
  if (pin === 'new') client.push('// Upstream added a comment here,', '// and another line,', '// so every later line moved by three.');
  for (let n = 1; n <= 30; n++) {
    const id = String(n).padStart(2, '0');
    client.push(`int step_${id}() { return ${pin === 'new' && n === 20 ? 2000 : n}; }`);
  }
  const server = ['// quic_simple_server_session.cc (fake)'];
  for (let n = 1; n <= 20; n++) server.push(`void handler_${String(n).padStart(2, '0')}() {}`);
  return {
    [CLIENT]: `${client.join('\n')}\n`,
    [SERVER]: `${server.join('\n')}\n`,
    [LEGACY]: pin === 'old' ? 'int legacy() { return 0; }\n' : undefined,
    'quiche/common/README.md': `fake quiche at pin ${pin}\n`,
  };
}

async function writeTree(dir: string, files: Record<string, string | undefined>): Promise<void> {
  for (const [file, content] of Object.entries(files)) {
    const target = path.join(dir, file);
    if (content === undefined) await rm(target, { force: true });
    else {
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, content);
    }
  }
}

export interface FakeQuiche {
  dir: string;
  oldPin: string;
  newPin: string;
}

/** A quiche repo with two commits standing for two pins. */
export async function makeQuicheRepo(dir: string): Promise<FakeQuiche> {
  await mkdir(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  await writeTree(dir, quicheFiles('old'));
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'pin old');
  const oldPin = git(dir, 'rev-parse', 'HEAD').trim();
  await writeTree(dir, quicheFiles('new'));
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'pin new');
  const newPin = git(dir, 'rev-parse', 'HEAD').trim();
  return { dir, oldPin, newPin };
}

const FIXTURE_CACHE = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'node_modules',
  '.cache',
  'build-quiche-patches-fixture',
);

/**
 * The fake quiche and the standard patches, built once per version of this file into
 * node_modules/.cache (git spawns are the slow part; dates are fixed, so the result is the same
 * every time). Built in a temp dir and renamed into place, so concurrent workers never see half of
 * it. Treat it as read-only.
 */
async function cachedFixture(): Promise<{ quiche: FakeQuiche; patches: StandardPatches }> {
  const target = path.join(
    FIXTURE_CACHE,
    createHash('sha256')
      .update(await readFile(fileURLToPath(import.meta.url)))
      .digest('hex')
      .slice(0, 16),
  );
  const manifest = path.join(target, 'fixture.json');
  if (!existsSync(manifest)) {
    await mkdir(FIXTURE_CACHE, { recursive: true });
    const tmp = await mkdtemp(path.join(FIXTURE_CACHE, '.tmp-'));
    const quiche = await makeQuicheRepo(path.join(tmp, 'quiche'));
    const patches = await standardPatches(quiche);
    await writeFile(path.join(tmp, 'fixture.json'), JSON.stringify({ oldPin: quiche.oldPin, newPin: quiche.newPin, patches }));
    await rename(tmp, target).catch(async (error: unknown) => {
      await rm(tmp, { recursive: true, force: true });
      if (!existsSync(manifest)) throw error;
    });
  }
  const { oldPin, newPin, patches } = JSON.parse(await readFile(manifest, 'utf8')) as {
    oldPin: string;
    newPin: string;
    patches: StandardPatches;
  };
  return { quiche: { dir: path.join(target, 'quiche'), oldPin, newPin }, patches };
}

/** One fake quiche and the standard patches for a test file. Read the fields inside tests. */
export function useQuiche(): { quiche: FakeQuiche; patches: StandardPatches } {
  const shared = {} as { quiche: FakeQuiche; patches: StandardPatches };
  beforeAll(async () => {
    Object.assign(shared, await cachedFixture());
  }, 60_000);
  return shared;
}

/** Replace `from` with `to` in a file's text (must match). */
export type Edit = { file: string; replace?: [string, string][]; content?: string | null };

/** A real `git format-patch` of `edits` made on top of `base` in a throwaway clone. */
export async function makePatch(
  repo: string,
  base: string,
  subject: string,
  edits: Edit[],
  body = 'Why this patch exists.',
): Promise<string> {
  const work = await tempDir('bq-patch-work');
  git(work, 'clone', '-q', repo, '.');
  git(work, 'checkout', '-q', base);
  for (const edit of edits) {
    const target = path.join(work, edit.file);
    if (edit.content === null) await rm(target);
    else if (edit.content !== undefined) {
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, edit.content);
    } else {
      let text = await readFile(target, 'utf8');
      for (const [from, to] of edit.replace ?? []) {
        if (!text.includes(from)) throw new Error(`test edit: "${from}" not in ${edit.file}`);
        text = text.replace(from, to);
      }
      await writeFile(target, text);
    }
  }
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', `${subject}\n\n${body}`);
  return git(work, 'format-patch', '-1', '--stdout', 'HEAD');
}

export interface SeriesEntryFixture {
  name: string;
  content: string;
  repo?: 'quiche' | 'src';
}

/** Write patch files and a series listing them; returns the series path. */
export async function writeSeries(dir: string, entries: SeriesEntryFixture[], preamble = '# test series\n'): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const entry of entries) await writeFile(path.join(dir, entry.name), entry.content);
  const lines = entries.map((entry) => (entry.repo && entry.repo !== 'quiche' ? `${entry.name} repo=${entry.repo}` : entry.name));
  const file = path.join(dir, 'series');
  await writeFile(file, `${preamble}${lines.join('\n')}\n`);
  return file;
}

export type StandardPatches = Awaited<ReturnType<typeof standardPatches>>;

/** Standard patches against the old pin. */
export async function standardPatches(quiche: FakeQuiche) {
  const base = quiche.oldPin;
  return {
    /** Two hunks in the client, far apart; applies at both pins (offsets at the new one). */
    clientFlag: await makePatch(quiche.dir, base, 'client: scale steps by a flag', [
      {
        file: CLIENT,
        replace: [
          ['return 5; }', 'return 5 * flag; }'],
          ['return 25; }', 'return 25 * flag; }'],
        ],
      },
    ]),
    /** One hunk in the server. */
    serverLog: await makePatch(quiche.dir, base, 'server: log every handler', [
      { file: SERVER, replace: [['void handler_05() {}', 'void handler_05() { Log(); }']] },
    ]),
    /** Touches step_12 (fine) and step_20, which the new pin changes: its second hunk conflicts there. */
    clientStep20: await makePatch(quiche.dir, base, 'client: tune step 20', [
      {
        file: CLIENT,
        replace: [
          ['return 12; }', 'return 12 + 0; }'],
          ['return 20; }', 'return 20 * 2; }'],
        ],
      },
    ]),
    /** Adds a file. */
    addHelper: await makePatch(quiche.dir, base, 'tools: add a migration helper', [
      { file: HELPER, content: '#pragma once\ninline int Helper() { return 1; }\n' },
    ]),
    /** Changes a file the new pin deletes. */
    legacy: await makePatch(quiche.dir, base, 'core: fix legacy path', [{ file: LEGACY, replace: [['return 0;', 'return 1;']] }]),
  };
}

/** sha256 of every file under dir (excluding .git), for "byte-identical" checks. */
export async function treeHashes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (sub: string) => {
    for (const entry of await readdir(path.join(dir, sub), { withFileTypes: true })) {
      const rel = path.join(sub, entry.name);
      if (entry.name === '.git') continue;
      if (entry.isDirectory()) await walk(rel);
      else
        out[rel] = createHash('sha256')
          .update(await readFile(path.join(dir, rel)))
          .digest('hex');
    }
  };
  await walk('');
  return out;
}

export async function mtimes(dir: string, files: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const file of files) out[file] = (await stat(path.join(dir, file))).mtimeMs;
  return out;
}

/**
 * A checkout as the checkout stage leaves it: <cache>/chromium/src (a git repo) holding quiche as
 * its own repo at net/third_party/quiche/src, at the given quiche commit.
 */
export interface FakeCheckout {
  app: AppContext;
  root: string;
  quicheRoot: string;
  srcRoot: string;
  checkout: CheckoutOutput;
  seriesDir: string;
}

/** An AppContext whose cache lives under root, with the series at <root>/patches/series. */
export async function makeApp(root: string, seriesFile = path.join(root, 'patches', 'series')): Promise<AppContext> {
  const config = await loadConfig({
    cwd: root,
    inline: {
      cacheDir: path.join(root, 'cache'),
      patches: { series: seriesFile },
      chromium: { srcUrl: path.join(root, 'no-src.git'), gitiles: 'off' },
      retry: { retries: 0 },
    },
    env: {},
  });
  return createAppContext(config, {});
}

/** gclient roots per fake quiche and pin, built once and copied for each test (git spawns are slow). */
const checkoutTemplates = new Map<string, Promise<string>>();

let templatesDir: Promise<string> | undefined;
afterAll(async () => {
  if (templatesDir) await rm(await templatesDir, { recursive: true, force: true });
  templatesDir = undefined;
  checkoutTemplates.clear();
});

async function checkoutTemplate(quiche: FakeQuiche, pin: string): Promise<string> {
  templatesDir ??= mkdtemp(path.join(os.tmpdir(), 'bq-gclient-templates-'));
  const template = path.join(
    await templatesDir,
    `${createHash('sha256').update(quiche.dir).digest('hex').slice(0, 8)}-${pin.slice(0, 12)}`,
  );
  const build = async () => {
    const srcRoot = path.join(template, 'src');
    await mkdir(path.join(srcRoot, 'net'), { recursive: true });
    git(srcRoot, 'init', '-q', '-b', 'main');
    await writeFile(path.join(srcRoot, '.gitignore'), '/net/third_party/quiche/src/\n');
    await writeFile(path.join(srcRoot, 'net', 'BUILD.gn'), 'executable("quic_client") {}\n');
    git(srcRoot, 'add', '-A');
    git(srcRoot, 'commit', '-q', '-m', 'src');
    const quicheParent = path.join(srcRoot, 'net', 'third_party', 'quiche');
    await mkdir(quicheParent, { recursive: true });
    git(quicheParent, 'clone', '-q', '--no-checkout', quiche.dir, 'src');
    git(path.join(quicheParent, 'src'), 'checkout', '-q', pin);
    return template;
  };
  if (!checkoutTemplates.has(template)) checkoutTemplates.set(template, build());
  return checkoutTemplates.get(template)!;
}

export async function makeCheckout(quiche: FakeQuiche, pin: string): Promise<FakeCheckout> {
  const root = await tempDir('bq-checkout');
  const seriesDir = path.join(root, 'patches');
  const app = await makeApp(root);
  const { gclientRoot, src: srcRoot } = chromiumPaths(app);
  await cp(await checkoutTemplate(quiche, pin), gclientRoot, { recursive: true });
  const quicheRoot = path.join(srcRoot, 'net', 'third_party', 'quiche', 'src');
  const checkout: CheckoutOutput = {
    gclientRoot,
    repos: { quiche: { path: quicheRoot, commit: pin }, src: { path: srcRoot, commit: git(srcRoot, 'rev-parse', 'HEAD').trim() } },
    verified: {},
    adopted: false,
  };
  return { app, root, quicheRoot, srcRoot, checkout, seriesDir };
}

export function resolveOutput(quiche: FakeQuiche, pin: string, srcCommit = '0'.repeat(40)): ResolveOutput {
  return {
    version: '152.0.7977.83',
    ref: 'refs/tags/152.0.7977.83',
    srcUrl: '/nonexistent/src.git',
    srcCommit,
    quicheRevision: pin,
    quicheUrl: quiche.dir,
    depotToolsRevision: undefined,
    gnVersion: undefined,
    deps: [],
    via: 'git',
  };
}

export interface TestStageContext extends StageContext<AppContext> {
  notes: string[];
  guardInfo: GuardInfo;
}

/** A StageContext for driving a stage's run()/repair() directly. */
export function stageContext(
  app: AppContext,
  upstream: Record<string, unknown>,
  stageId = 'patch',
  guardData: Record<string, unknown> = {},
): TestStageContext {
  const log = new LogFile(path.join(app.paths.cacheDir, 'logs', `${stageId}.log`));
  const notes: string[] = [];
  const guardInfo: GuardInfo = {
    stage: stageId,
    runId: 'test',
    pid: process.pid,
    startedAt: new Date().toISOString(),
    data: { ...guardData },
  };
  const ctx = createStageContext<AppContext>({
    input: {
      app,
      upstream: <T>(id: string) => {
        if (!(id in upstream)) throw new Error(`no upstream ${id}`);
        return upstream[id] as T;
      },
      upstreamIfDone: <T>(id: string) => upstream[id] as T | undefined,
    },
    stageId,
    runId: 'test',
    log,
    signal: new AbortController().signal,
    emit: (event) => {
      if (event.type === 'stage-note') notes.push(event.message);
    },
    guard: {
      data: guardInfo.data,
      update: (data) => {
        Object.assign(guardInfo.data, data);
        return Promise.resolve();
      },
    },
  });
  return {
    ...ctx,
    notes,
    guardInfo,
  };
}
