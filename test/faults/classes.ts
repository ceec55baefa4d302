/**
 * The fault classes. Each trial injects one fault into a real CLI run against the local upstream
 * and returns undefined when the run survived it (the README's exit code and a clear message;
 * nothing lost; the next normal run completes and its artifact verifies), else why not.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Header } from 'tar';
import { gzipSync } from 'node:zlib';
import type { UserConfig } from '../../src/config/schema.js';
import { writeConfigFile } from '../support/cli.js';
import { FIXTURE_SERIES, offlineConfig, TAG_150, type World } from '../../testkit/world.js';
import { startFakeGitHub } from '../support/github-server.js';
import { labKillTrial } from './lab-class.js';
import { quicheCheckoutTrial } from './quiche-class.js';
import { standaloneBuildTrial } from './standalone-build-class.js';
import {
  emptyWorkspace,
  fileHash,
  finishedWorkspace,
  killCli,
  pick,
  recovers,
  runCli,
  startCli,
  strays,
  tail,
  type Cli,
  type Workspace,
} from './harness.js';

export interface TrialContext {
  world: World;
  rand: () => number;
  /** A finished build, moved aside (see finishedWorkspace). */
  golden: string;
  /** Where copies of it are put. */
  trialDir: string;
  log(line: string): void;
}

export interface FaultClass {
  name: string;
  what: string;
  /** Trials per default run (CI); FAULTS_SCALE multiplies. */
  defaultTrials: number;
  trial(ctx: TrialContext): Promise<string | undefined>;
}

const QUICHE = 'cache/chromium/src/net/third_party/quiche/src';
/** The stage the run was in: the last "▶ <stage>:" line it printed. */
const stageAt = (output: string) => [...output.matchAll(/▶ ([\w-]+):/g)].at(-1)?.[1] ?? 'start';

async function withWorkspace(ws: Workspace, body: (dir: string) => Promise<string | undefined>): Promise<string | undefined> {
  try {
    return await body(ws.dir);
  } finally {
    await ws.remove();
  }
}

/**
 * Stages of a cold build and how long each lasts here (ms): a kill moment is a random stage, then a
 * random point within it, so short stages (depot-tools, checkout) are hit as often as compile.
 */
const STAGE_SPAN: Record<string, number> = {
  preflight: 800,
  resolve: 600,
  'patch-check': 400,
  'depot-tools': 1500,
  checkout: 6000,
  patch: 500,
  configure: 400,
  compile: 20_000,
  smoke: 1500,
  package: 300,
  publish: 100,
};

/** FAULTS_STAGES=depot-tools,checkout aims the kill and Ctrl-C classes at these stages only. */
const targetStages = () => process.env.FAULTS_STAGES?.split(',').filter((stage) => stage in STAGE_SPAN) ?? Object.keys(STAGE_SPAN);

/** Resolves after the CLI announced `stage` and then a random part of its span (or when it ended). */
async function momentIn(ctx: TrialContext, cli: Cli, stage: string): Promise<void> {
  const announced = new Promise<void>((resolve) => {
    const check = () => (cli.output().includes(`▶ ${stage}:`) ? resolve() : setTimeout(check, 20));
    check();
  });
  await Promise.race([announced.then(() => sleep(ctx.rand() * STAGE_SPAN[stage]!)), cli.child]);
}

/** kill -9 at a random moment of a random stage of a cold build, of the CLI alone or of its whole process group. */
function killTrial(group: boolean) {
  return async (ctx: TrialContext) =>
    withWorkspace(await emptyWorkspace(ctx.world.server.baseUrl), async (dir) => {
      const target = pick(ctx.rand, targetStages());
      const started = Date.now();
      const cli = startCli(dir, ['build', '--plain']);
      await momentIn(ctx, cli, target);
      const at = Date.now() - started;
      const stage = stageAt(cli.output());
      await killCli(cli, group);
      ctx.log(`kill -9 ${group ? 'group' : 'process'} at ${(at / 1000).toFixed(1)}s in ${stage}`);
      const problem = await recovers(dir);
      if (problem) return `after kill -9 in ${stage}: ${problem}`;
      const left = await strays(dir);
      if (left.length) return `after kill -9 in ${stage} and a rerun, processes still run: ${left.join(', ')}`;
      return undefined;
    });
}

/** Ctrl-C (SIGINT to the CLI) at a random moment: exit 130, "stopping", and the next run completes. */
async function sigintTrial(ctx: TrialContext): Promise<string | undefined> {
  return withWorkspace(await emptyWorkspace(ctx.world.server.baseUrl), async (dir) => {
    const started = Date.now();
    const cli = startCli(dir, ['build', '--plain']);
    await momentIn(ctx, cli, pick(ctx.rand, targetStages()));
    const at = Date.now() - started;
    const finished = cli.child.exitCode !== null;
    const stage = stageAt(cli.output());
    if (!finished) process.kill(cli.child.pid!, 'SIGINT');
    const result = await cli.child;
    ctx.log(`SIGINT at ${(at / 1000).toFixed(1)}s in ${stage}: ${result.signal ? `ended by ${result.signal}` : `exit ${result.exitCode}`}`);
    // A SIGINT that lands while Node tears the process down after the run (its signal handlers are
    // gone by then) ends it by the signal itself: status 130 to a shell, as the README says, and the
    // run had already finished and said so.
    const endedAfterRun = result.signal === 'SIGINT' && /finished in|nothing to do/.test(cli.output());
    if (!finished && !endedAfterRun) {
      if (result.exitCode !== 130 && result.exitCode !== 0)
        return `Ctrl-C in ${stage}: exit ${result.exitCode}, expected 130: ${tail(cli.output())}`;
      if (result.exitCode === 130 && !/exit code 130 \(interrupted\)/.test(cli.output())) {
        return `Ctrl-C in ${stage}: not reported as an interruption: ${tail(cli.output())}`;
      }
    }
    const problem = await recovers(dir);
    return problem && `after Ctrl-C in ${stage}: ${problem}`;
  });
}

/** The upstream answers 5xx or cuts responses during a cold build: retried (exit 0) or exit 7; then a run completes. */
async function networkTrial(ctx: TrialContext): Promise<string | undefined> {
  const server = ctx.world.server;
  return withWorkspace(await emptyWorkspace(server.baseUrl), async (dir) => {
    const where = pick(ctx.rand, ['git-upload-pack', 'src.git', 'quiche.git', 'depot_tools.git', '/+/']);
    const count = 1 + Math.floor(ctx.rand() * 3);
    const kind = pick(ctx.rand, ['fail', 'cut'] as const);
    if (kind === 'fail') server.faults.failNext(count, { status: pick(ctx.rand, [500, 502, 503]), pathContains: where });
    else
      server.faults.cutNext(Math.floor(ctx.rand() * 20_000), {
        count,
        pathContains: where,
        mode: pick(ctx.rand, ['reset', 'close'] as const),
      });
    const faulted = await runCli(dir, ['build', '--plain', '--until', 'checkout']);
    server.faults.reset();
    ctx.log(`network ${kind} x${count} on ${where}: exit ${faulted.code}`);
    if (faulted.code !== 0 && faulted.code !== 7)
      return `network ${kind} x${count} on ${where}: exit ${faulted.code}, expected 0 (retried) or 7: ${tail(faulted.output)}`;
    const problem = await recovers(dir);
    return problem && `after network ${kind} on ${where}: ${problem}`;
  });
}

/** Cache and dist on a small tmpfs: exit 8 naming the disk, then, with space freed, a run completes. */
async function diskFullTrial(ctx: TrialContext): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'skip: needs root to mount a tmpfs';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bq-fault-disk-'));
  const mnt = path.join(dir, 'fs');
  await mkdir(mnt);
  const sizeKb = 600 + Math.floor(ctx.rand() * 3000);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', mnt]);
  try {
    const config = offlineConfig(ctx.world.server.baseUrl, mnt, { preflight: { minFreeDiskGb: 0.0001 } });
    await writeConfigFile(dir, config);
    const faulted = await runCli(dir, ['build', '--plain']);
    ctx.log(`disk of ${sizeKb} KiB: exit ${faulted.code}`);
    if (faulted.code !== 8 && faulted.code !== 0)
      return `disk full (${sizeKb} KiB): exit ${faulted.code}, expected 8: ${tail(faulted.output)}`;
    execFileSync('mount', ['-o', 'remount,size=256m', mnt]);
    const problem = await recovers(dir, path.join(mnt, 'dist'));
    return problem && `after disk full (${sizeKb} KiB) and space freed: ${problem}`;
  } finally {
    execFileSync('umount', ['-l', mnt]);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Two runs at once on one cache: one holds the lock, the other exits 3 (or waits); the store stays whole. */
async function concurrentTrial(ctx: TrialContext): Promise<string | undefined> {
  return withWorkspace(await finishedWorkspace(ctx.golden, ctx.trialDir), async (dir) => {
    const forced = pick(ctx.rand, ['compile', 'smoke', 'package', 'publish', 'checkout']);
    const a = startCli(dir, ['build', '--plain', '--force', forced]);
    await sleep(ctx.rand() * 1500);
    const b = startCli(dir, ['build', '--plain', '--force', forced]);
    const [ra, rb] = await Promise.all([a.child, b.child]);
    ctx.log(`two runs forcing ${forced}: exits ${ra.exitCode}, ${rb.exitCode}`);
    for (const [r, cli] of [
      [ra, a],
      [rb, b],
    ] as const) {
      if (r.exitCode !== 0 && r.exitCode !== 3) return `concurrent runs: exit ${r.exitCode}, expected 0 or 3: ${tail(cli.output())}`;
      if (r.exitCode === 3 && !/lock/i.test(cli.output())) return `exit 3 without naming the lock: ${tail(cli.output())}`;
    }
    if (ra.exitCode !== 0 && rb.exitCode !== 0) return 'neither concurrent run completed';
    return recovers(dir);
  });
}

/** A user edit in the checkout, then a run that would move it (another pin): exit 5, the edit kept. */
async function dirtyTreeTrial(ctx: TrialContext): Promise<string | undefined> {
  return withWorkspace(await finishedWorkspace(ctx.golden, ctx.trialDir), async (dir) => {
    const file = pick(ctx.rand, [
      'quiche/quic/tools/quic_toy_server.cc',
      'quiche/quic/core/quic_packets.cc',
      'quiche/quic/tools/quic_server.cc',
    ]);
    const full = path.join(dir, QUICHE, file);
    await appendFile(full, '\n// my experiment\n');
    const edited = await fileHash(full);
    const faulted = await runCli(dir, ['build', '--plain', '--pin', TAG_150]);
    ctx.log(`edited ${file}, build --pin ${TAG_150}: exit ${faulted.code}`);
    if (faulted.code !== 5) return `dirty tree (${file}): exit ${faulted.code}, expected 5: ${tail(faulted.output)}`;
    if (!faulted.output.includes(file)) return `dirty tree: the message does not name ${file}: ${tail(faulted.output)}`;
    if ((await fileHash(full)) !== edited) return `dirty tree: the user's edit of ${file} was changed`;
    // The user takes their edit back; the next normal run completes.
    execFileSync('git', ['-C', path.join(dir, QUICHE), 'checkout', '-q', '--', file]);
    return recovers(dir);
  });
}

/** Bad input of every kind: its exit code, a message naming it, and state.json and dist untouched. */
const BAD_INPUTS: Array<{ name: string; args: string[]; code: number; says: RegExp; setup?: (dir: string) => Promise<void> }> = [
  { name: 'non-numeric --set', args: ['--set', 'build.jobs=many'], code: 2, says: /build\.jobs expects a whole number/ },
  { name: 'unknown --set field', args: ['--set', 'build.nope=1'], code: 2, says: /build\.nope is not a config field/ },
  { name: 'unknown flag', args: ['--frobnicate'], code: 2, says: /unknown option/ },
  { name: 'missing tag', args: ['--pin', '999.0.0.1'], code: 6, says: /999\.0\.0\.1/ },
  { name: 'missing repository', args: ['--set', 'chromium.srcUrl=URL/chromium/nope.git'], code: 6, says: /nope\.git/ },
  { name: 'conflicting series', args: ['--set', `patches.series=${FIXTURE_SERIES('conflict')}`], code: 4, says: /patches rebase/ },
  {
    name: 'series listing a missing patch',
    args: ['--set', 'patches.series=DIR/bad/series'],
    code: 2,
    says: /0009-missing\.patch does not exist/,
    setup: async (dir) => {
      await mkdir(path.join(dir, 'bad'), { recursive: true });
      await writeFile(path.join(dir, 'bad', 'series'), '0009-missing.patch\n');
    },
  },
  {
    name: 'garbage series',
    args: ['--set', 'patches.series=DIR/bad/series'],
    code: 2,
    says: /not a line of text/,
    setup: async (dir) => {
      await mkdir(path.join(dir, 'bad'), { recursive: true });
      await writeFile(path.join(dir, 'bad', 'series'), Buffer.from([0x00, 0xff, 0xfe, 0x0a]));
    },
  },
  {
    name: 'broken config file',
    args: ['--config', 'DIR/broken.config.ts'],
    code: 2,
    says: /broken\.config\.ts/,
    setup: (dir) => writeFile(path.join(dir, 'broken.config.ts'), 'export default { build: { jobs: "x" } };\n'),
  },
];

async function badInputTrial(ctx: TrialContext): Promise<string | undefined> {
  return withWorkspace(await finishedWorkspace(ctx.golden, ctx.trialDir), async (dir) => {
    const input = pick(ctx.rand, BAD_INPUTS);
    await input.setup?.(dir);
    const stateBefore = await fileHash(path.join(dir, 'cache', 'state.json'));
    const distBefore = (await readdir(path.join(dir, 'dist'))).sort().join(',');
    const args = input.args.map((a) => a.replace('URL', ctx.world.server.baseUrl).replace('DIR', dir));
    const faulted = await runCli(dir, ['build', '--plain', ...args]);
    ctx.log(`${input.name}: exit ${faulted.code}`);
    if (faulted.code !== input.code) return `${input.name}: exit ${faulted.code}, expected ${input.code}: ${tail(faulted.output)}`;
    if (!input.says.test(faulted.output)) return `${input.name}: the message does not say ${input.says}: ${tail(faulted.output)}`;
    // eslint-disable-next-line no-control-regex
    if (/[\u0000\ufffd]/.test(faulted.output)) return `${input.name}: raw NUL or non-UTF-8 bytes printed`;
    if ((await fileHash(path.join(dir, 'cache', 'state.json'))) !== stateBefore) return `${input.name}: state.json changed`;
    if ((await readdir(path.join(dir, 'dist'))).sort().join(',') !== distBefore) return `${input.name}: dist changed`;
    return recovers(dir);
  });
}

/** `install` of a tampered artifact: exit 11, nothing installed; the genuine one then installs. */
async function tamperedTrial(ctx: TrialContext): Promise<string | undefined> {
  return withWorkspace(await finishedWorkspace(ctx.golden, ctx.trialDir), async (dir) => {
    const dist = path.join(dir, 'dist');
    const tarball = (await readdir(dist)).find((f) => f.endsWith('.tar.gz'))!;
    const bad = path.join(dir, 'bad');
    await mkdir(bad);
    const how = pick(ctx.rand, ['flipped byte', 'truncated', 'wrong SHA256SUMS', 'setuid entry', 'path escape']);
    const original = await readFile(path.join(dist, tarball));
    const name = tarball.replace(/\.tar\.gz$/, '');
    if (how === 'flipped byte') {
      const copy = Buffer.from(original);
      const at = Math.floor(ctx.rand() * copy.length);
      copy[at] = copy[at]! ^ 0xff;
      await writeFile(path.join(bad, tarball), copy);
      await copyFile(path.join(dist, 'SHA256SUMS'), path.join(bad, 'SHA256SUMS'));
    } else if (how === 'truncated') {
      await writeFile(path.join(bad, tarball), original.subarray(0, Math.floor(original.length * ctx.rand())));
      await copyFile(path.join(dist, 'SHA256SUMS'), path.join(bad, 'SHA256SUMS'));
    } else if (how === 'wrong SHA256SUMS') {
      await writeFile(path.join(bad, tarball), original);
      await writeFile(path.join(bad, 'SHA256SUMS'), `${'0'.repeat(64)}  ${tarball}\n`);
    } else {
      const entry =
        how === 'setuid entry' ? { path: `${name}/bin/quic_server`, mode: 0o6755 } : { path: `${name}/../../evil`, mode: 0o644 };
      const blocks = [new Header({ path: `${name}/`, type: 'Directory', mode: 0o755, size: 0, mtime: new Date(0) })];
      if (how === 'setuid entry')
        blocks.push(new Header({ path: `${name}/bin/`, type: 'Directory', mode: 0o755, size: 0, mtime: new Date(0) }));
      blocks.push(new Header({ ...entry, type: 'File', size: 1, mtime: new Date(0) }));
      const body = Buffer.concat([
        ...blocks.slice(0, -1).map((h) => (h.encode(), h.block!)),
        (blocks.at(-1)!.encode(), blocks.at(-1)!.block!),
        Buffer.from('x'),
        Buffer.alloc(511),
        Buffer.alloc(1024),
      ]);
      await writeFile(path.join(bad, tarball), gzipSync(body));
    }
    const to = path.join(dir, 'installed');
    const faulted = await runCli(dir, ['install', path.join(bad, tarball), '--to', to]);
    ctx.log(`install of a tarball with ${how}: exit ${faulted.code}`);
    if (faulted.code !== 11) return `tampered (${how}): exit ${faulted.code}, expected 11: ${tail(faulted.output)}`;
    if (existsSync(to) && (await readdir(to)).length)
      return `tampered (${how}): something was installed: ${(await readdir(to)).join(', ')}`;
    const good = await runCli(dir, ['install', dist, '--to', to]);
    if (good.code !== 0) return `the genuine artifact then failed to install: exit ${good.code}: ${tail(good.output)}`;
    return undefined;
  });
}

/** A GitHub store rejecting the token and quoting part of it back: exit 2, and no part of it printed or logged. */
async function secretsTrial(ctx: TrialContext): Promise<string | undefined> {
  const token = `ghp_${Math.floor(ctx.rand() * 1e16).toString(36)}Secret${Math.floor(ctx.rand() * 1e9)}`;
  const quoted = 'token '.length + 8 + Math.floor(ctx.rand() * 20);
  const github = await startFakeGitHub({ token: 'ghp_theRealOneIsDifferent0000000000', repos: ['octo/q'], echoCredentials: quoted });
  try {
    return await withWorkspace(await finishedWorkspace(ctx.golden, ctx.trialDir), async (dir) => {
      const publish: UserConfig['publish'] = [{ type: 'github', repo: 'octo/q', tokenEnv: 'Q_TOKEN', apiUrl: github.url }];
      await writeConfigFile(dir, offlineConfig(ctx.world.server.baseUrl, dir, { publish }));
      const json = ctx.rand() < 0.5;
      const faulted = await runCli(dir, ['build', json ? '--json' : '--plain'], { Q_TOKEN: token });
      ctx.log(`wrong token, ${quoted - 6} characters of it echoed, ${json ? '--json' : '--plain'}: exit ${faulted.code}`);
      const prefix = token.slice(0, 8);
      if (faulted.output.includes(prefix)) return `the token (${prefix}…) was printed`;
      const logs = path.join(dir, 'cache', 'logs');
      for (const run of await readdir(logs)) {
        for (const log of await readdir(path.join(logs, run))) {
          if ((await readFile(path.join(logs, run, log), 'utf8')).includes(prefix)) return `the token was written to ${run}/${log}`;
        }
      }
      if (faulted.code !== 2) return `rejected token: exit ${faulted.code}, expected 2: ${tail(faulted.output)}`;
      await writeConfigFile(dir, offlineConfig(ctx.world.server.baseUrl, dir));
      return recovers(dir);
    });
  } finally {
    await github.close();
  }
}

export const CLASSES: FaultClass[] = [
  {
    name: 'kill9-process',
    what: 'kill -9 of build-quiche alone at a random moment of a cold build (every stage)',
    defaultTrials: 1,
    trial: killTrial(false),
  },
  {
    name: 'kill9-group',
    what: "kill -9 of build-quiche's whole process group (CI timeout, OOM kill, closed terminal)",
    defaultTrials: 1,
    trial: killTrial(true),
  },
  { name: 'sigint', what: 'Ctrl-C (SIGINT) at a random moment of a cold build', defaultTrials: 1, trial: sigintTrial },
  {
    name: 'network',
    what: 'the upstream answers 5xx or cuts a response (TCP reset or close) on git or gitiles requests during a cold checkout',
    defaultTrials: 2,
    trial: networkTrial,
  },
  {
    name: 'disk-full',
    what: 'cache and dist on a tmpfs of 0.6-3.5 MiB; then the tmpfs is grown (space freed)',
    defaultTrials: 1,
    trial: diskFullTrial,
  },
  { name: 'concurrent', what: 'two runs on one cache at once, forcing the same stage', defaultTrials: 1, trial: concurrentTrial },
  {
    name: 'dirty-tree',
    what: "a hand edit in the cache's quiche checkout, then a build of another pin",
    defaultTrials: 1,
    trial: dirtyTreeTrial,
  },
  { name: 'bad-input', what: 'bad config, flags, pins, URLs and patch series on a finished cache', defaultTrials: 4, trial: badInputTrial },
  {
    name: 'tampered',
    what: 'install of a tarball with a flipped byte, truncated, wrong sums, a setuid entry or a path escape',
    defaultTrials: 3,
    trial: tamperedTrial,
  },
  {
    name: 'secrets',
    what: 'a GitHub store rejecting the token and quoting 8-28 characters of it back',
    defaultTrials: 1,
    trial: secretsTrial,
  },
  {
    name: 'lab-kill9',
    what: 'kill -9 of a `build-quiche lab` run (alone or its group) at a random moment, any scenario; then the next lab run',
    defaultTrials: 1,
    trial: async (ctx) => labKillTrial(ctx.rand() < 0.5)(ctx),
  },
  {
    name: 'quiche-checkout',
    what: 'the standalone backend to the patch stage (real quiche and five dependencies): kill -9 (alone or group) at a random moment, or 5xx / cut responses on one repository',
    defaultTrials: 1,
    trial: quicheCheckoutTrial,
  },
  {
    name: 'standalone-dependency-builds',
    what: "the standalone backend's CMake dependency builds on the real sources: kill -9 (alone or group) at a random moment, or a full disk",
    defaultTrials: 1,
    trial: standaloneBuildTrial('dependency-builds'),
  },
  {
    name: 'standalone-compile',
    what: "the standalone backend's quiche compile on the real sources: kill -9 (alone or group) at a random moment, or a full disk",
    defaultTrials: 1,
    trial: standaloneBuildTrial('compile'),
  },
];
