// npm run bench: build-quiche (the compiled CLI) against the naive script (bench/naive-build.sh) on the
// scaled local upstream (testkit/scale.ts: 32 DEPS repositories, 1,024 C translation units, a
// ~30,000-step build), paired A/B: in each round both run each scenario back to back, and the ratio
// naive / build-quiche is taken pair by pair, so a drifting machine speed cancels out.
//
// Scenarios (in this order, one work dir per side and round):
//   cold           empty cache
//   no-op          the same build again (goal: <= 1.0 s and <= 0.05x the naive rerun)
//   patch edited   the series with one patch edited (fixture series edited/): objects recompiled
//   gn arg         symbol_level = 1
//   resume         a fresh dir, SIGKILL of the whole process group once half of the bench deps are
//                  cloned, then the rerun (goal: <= 0.6x cold); the naive script has no resume: its
//                  rerun is timed and, when it fails (gclient "syncs" a killed clone as an empty dep),
//                  a start-over from an empty dir is added to its time
//   output         bench/output-overhead.ts: 100,000 lines through exec + stage log + progress
//
// Env: BENCH_ROUNDS (default 3; 1 for a quick check), BENCH_SCALE (e.g. 0.1 on a loaded machine) or
// BENCH_DEPS / BENCH_TUS / BENCH_STEPS, BENCH_SCENARIOS (comma list of the names above; cold always
// runs when a later one of the same dir needs it), BENCH_JSON=file (all samples as JSON).
// Smoke test and publish are off on both sides, so the same work is compared.
import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { effectiveGnArgs, renderArgsGn } from '../src/chromium/gn-args.js';
import { FIXTURE_SERIES, offlineConfig, startWorld, TAG_152, writeConfigFile } from '../testkit/world.js';
import { scaleFromEnv } from '../testkit/scale.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const scale = scaleFromEnv();
const ALL = ['cold', 'no-op', 'patch edited', 'gn arg', 'resume', 'output'] as const;
type Scenario = (typeof ALL)[number];
const wanted = new Set(
  (process.env.BENCH_SCENARIOS?.split(',').map((s) => s.trim()) ?? [...ALL]).filter((s): s is Scenario => {
    if ((ALL as readonly string[]).includes(s)) return true;
    throw new Error(`BENCH_SCENARIOS: unknown scenario ${s} (one of ${ALL.join(', ')})`);
  }),
);
const log = (text: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

// Measure what users run: the compiled CLI.
await execa('npm', ['run', '--silent', 'build'], { cwd: ROOT });
log(`scaled upstream: ${scale.deps} deps, ${scale.tus} translation units, ~${scale.steps} steps (building it once if needed)`);
const world = await startWorld(undefined, scale);
const base = world.server.baseUrl;
const benchDeps = world.upstream.bench!.deps;
const gn = (await execa('sh', ['-c', 'command -v gn'])).stdout.trim();
const TARGETS = [
  'net:quic_client',
  'net:quic_server',
  'net/third_party/quiche:epoll_quic_client',
  'net/third_party/quiche:epoll_quic_server',
];

interface Sample {
  seconds: number;
  maxRssMb?: number;
  /** Build steps run, by kind (CC, CXX, COPY, LINK, ...), from the build's output. */
  steps?: Record<string, number>;
  /** build-quiche only: each stage that ran and its wall seconds (from --plain's "done in"). */
  stages?: Record<string, number>;
  note?: string;
}

interface Side {
  name: 'build-quiche' | 'naive';
  run(dir: string, opts: RunOpts): Promise<Sample>;
  /** Starts a run and SIGKILLs its process group once half the bench deps are cloned. */
  killHalfway(dir: string, opts: RunOpts): Promise<{ seconds: number; cloned: number }>;
  gclientRoot(dir: string): string;
}

interface RunOpts {
  gnArgs: Record<string, number | boolean>;
  series: 'migration' | 'edited';
  allowFailure?: boolean;
}

const TIME_FORMAT = '%M';

function start(command: string, args: string[], env: Record<string, string>, cwd: string): ResultPromise<{ all: true; reject: false }> {
  // /usr/bin/time -f %M: the peak RSS of the largest process (the CLI itself; its children are separate).
  return execa('/usr/bin/time', ['-f', TIME_FORMAT, command, ...args], {
    env,
    cwd,
    reject: false,
    all: true,
    detached: true,
    cleanup: true,
  });
}

async function timed(
  child: ResultPromise<{ all: true; reject: false }>,
  allowFailure = false,
): Promise<Sample & { ok: boolean; all: string }> {
  const started = process.hrtime.bigint();
  const result = await child;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const ok = result.exitCode === 0;
  if (!ok && !allowFailure) throw new Error(`${result.command} failed (exit ${result.exitCode}):\n${String(result.all).slice(-3000)}`);
  const rssKb = Number(String(result.stderr).trim().split('\n').pop());
  return { seconds, maxRssMb: Number.isFinite(rssKb) ? rssKb / 1024 : undefined, ok, all: String(result.all) };
}

/** Counts the steps of a build's output by kind: `[N/M] 1.23s CXX obj/...` (siso) or `[N/M] CXX ...`. */
function countSteps(text: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^\[\d+\/\d+\] (?:[\d.]+s )?([A-Z]+) /gm)) counts[match[1]!] = (counts[match[1]!] ?? 0) + 1;
  return counts;
}

/** Stages that ran and their seconds, from the plain renderer's `✔ <stage>: done in 4.2s` lines. */
function stageTimes(text: string): Record<string, number> {
  const times: Record<string, number> = {};
  for (const match of text.matchAll(/✔ ([\w-]+): done in (?:(\d+)m)?([\d.]+)(ms|s)/g)) {
    const value = Number(match[3]) * (match[4] === 'ms' ? 0.001 : 1) + Number(match[2] ?? 0) * 60;
    times[match[1]!] = value;
  }
  return times;
}

/** How many bench deps have a checked-out work tree under a gclient root. */
function clonedDeps(gclientRoot: string): number {
  let done = 0;
  for (const dep of benchDeps) {
    if (existsSync(path.join(gclientRoot, dep.path, 'BUILD.gn'))) done++;
  }
  return done;
}

async function killWhenHalfCloned(child: ResultPromise, gclientRoot: string): Promise<{ seconds: number; cloned: number }> {
  const started = process.hrtime.bigint();
  const half = Math.ceil(benchDeps.length / 2);
  let exited = false;
  void child.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error('the run ended before half of the bench deps were cloned');
    const cloned = clonedDeps(gclientRoot);
    if (cloned >= half) {
      process.kill(-child.pid!, 'SIGKILL');
      await child;
      return { seconds: Number(process.hrtime.bigint() - started) / 1e9, cloned };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The newest run's compile log under <dir>/cache/logs (what build-quiche's compile stage ran). */
async function newestCompileLog(dir: string): Promise<string> {
  const logs = path.join(dir, 'cache', 'logs');
  const runs = (await readdir(logs)).sort();
  const file = path.join(logs, runs.at(-1)!, 'compile.log');
  return existsSync(file) ? readFile(file, 'utf8') : '';
}

const ours: Side = {
  name: 'build-quiche',
  gclientRoot: (dir) => path.join(dir, 'cache', 'chromium'),
  async run(dir, opts) {
    await writeConfig(dir, opts);
    const sample = await timed(
      start(process.execPath, [path.join(ROOT, 'bin/build-quiche.js'), 'build', '--plain'], { CI: '1' }, dir),
      opts.allowFailure,
    );
    const stages = stageTimes(sample.all);
    return {
      seconds: sample.seconds,
      maxRssMb: sample.maxRssMb,
      stages,
      steps: 'compile' in stages ? countSteps(await newestCompileLog(dir)) : {},
    };
  },
  async killHalfway(dir, opts) {
    await writeConfig(dir, opts);
    const child = start(process.execPath, [path.join(ROOT, 'bin/build-quiche.js'), 'build', '--plain'], { CI: '1' }, dir);
    return killWhenHalfCloned(child, ours.gclientRoot(dir));
  },
};

async function writeConfig(dir: string, opts: RunOpts): Promise<void> {
  await writeConfigFile(
    dir,
    offlineConfig(base, dir, {
      build: { args: opts.gnArgs },
      patches: { series: FIXTURE_SERIES(opts.series) },
      smoke: { enabled: false },
      publish: [],
    }),
  );
}

function naiveEnv(dir: string, opts: RunOpts): Record<string, string> {
  return {
    BASE_URL: base,
    WORK: dir,
    TAG: TAG_152,
    SERIES_DIR: path.dirname(FIXTURE_SERIES(opts.series)),
    GN: gn,
    GN_ARGS: renderArgsGn(effectiveGnArgs(opts.gnArgs, 'autoninja')),
  };
}

const NAIVE = path.join(ROOT, 'bench/naive-build.sh');
const naive: Side = {
  name: 'naive',
  gclientRoot: (dir) => path.join(dir, 'chromium'),
  async run(dir, opts) {
    await mkdir(dir, { recursive: true });
    await rm(path.join(dir, 'naive-build.log'), { force: true });
    const sample = await timed(start(NAIVE, [], naiveEnv(dir, opts), dir), true);
    const buildLog = await readFile(path.join(dir, 'naive-build.log'), 'utf8').catch(() => '');
    if (!sample.ok && !opts.allowFailure) throw new Error(`naive-build.sh failed:\n${sample.all.slice(-2000)}\n${buildLog.slice(-2000)}`);
    return {
      seconds: sample.seconds,
      maxRssMb: sample.maxRssMb,
      steps: countSteps(buildLog),
      note: sample.ok ? undefined : `failed: ${lastLine(sample.all)}`,
    };
  },
  async killHalfway(dir, opts) {
    await mkdir(dir, { recursive: true });
    return killWhenHalfCloned(start(NAIVE, [], naiveEnv(dir, opts), dir), naive.gclientRoot(dir));
  },
};

const lastLine = (text: string) =>
  text
    .trim()
    .split('\n')
    .filter((l) => !/^\d+$/.test(l.trim()))
    .at(-1)
    ?.slice(0, 160) ?? '';

type Results = Partial<Record<Scenario, Record<Side['name'], Sample[]>>>;
const results: Results = {};
const extra: { edges?: number; resumeKill: Record<Side['name'], Array<{ seconds: number; cloned: number }>>; output?: string } = {
  resumeKill: { 'build-quiche': [], naive: [] },
};
const record = (scenario: Scenario, side: Side, sample: Sample) => {
  const entry = (results[scenario] ??= { 'build-quiche': [], naive: [] });
  entry[side.name].push(sample);
  log(
    `${scenario} / ${side.name}: ${sample.seconds.toFixed(2)} s${sample.steps ? ` steps ${JSON.stringify(sample.steps)}` : ''}${sample.note ? ` (${sample.note})` : ''}`,
  );
};

const needsBuiltDir = (['no-op', 'patch edited', 'gn arg'] as const).some((s) => wanted.has(s));
const defaults: RunOpts = { gnArgs: {}, series: 'migration' };
for (let round = 1; round <= rounds; round++) {
  // Alternate which side goes first, so neither always gets the warmer page cache.
  const sides = round % 2 ? [ours, naive] : [naive, ours];
  const dirs = new Map<Side, string>();
  try {
    if (wanted.has('cold') || needsBuiltDir) {
      for (const side of sides) {
        const dir = await mkdtemp(path.join(os.tmpdir(), `bq-bench-${side.name}-`));
        dirs.set(side, dir);
        const sample = await side.run(dir, defaults);
        if (wanted.has('cold')) record('cold', side, sample);
      }
      if (extra.edges === undefined) extra.edges = await countEdges(path.join(ours.gclientRoot(dirs.get(ours)!), 'src', 'out', 'Release'));
    }
    if (wanted.has('no-op')) for (const side of sides) record('no-op', side, await side.run(dirs.get(side)!, defaults));
    const edited: RunOpts = { ...defaults, series: 'edited' };
    if (wanted.has('patch edited')) for (const side of sides) record('patch edited', side, await side.run(dirs.get(side)!, edited));
    if (wanted.has('gn arg')) {
      for (const side of sides) {
        const series = wanted.has('patch edited') ? edited : defaults;
        record('gn arg', side, await side.run(dirs.get(side)!, { ...series, gnArgs: { symbol_level: 1 } }));
      }
    }
  } finally {
    await Promise.all([...dirs.values()].map((dir) => rm(dir, { recursive: true, force: true })));
  }
  if (wanted.has('resume')) {
    for (const side of sides) {
      const dir = await mkdtemp(path.join(os.tmpdir(), `bq-bench-resume-${side.name}-`));
      const over = path.join(dir, 'start-over');
      try {
        const kill = await side.killHalfway(path.join(dir, 'killed'), defaults);
        extra.resumeKill[side.name].push(kill);
        log(`resume / ${side.name}: killed after ${kill.seconds.toFixed(2)} s with ${kill.cloned}/${benchDeps.length} bench deps cloned`);
        let sample = await side.run(path.join(dir, 'killed'), { ...defaults, allowFailure: side === naive });
        if (sample.note) {
          // The naive script cannot resume: a user starts over from an empty dir.
          const again = await side.run(over, defaults);
          sample = {
            ...again,
            seconds: sample.seconds + again.seconds,
            note: `rerun ${sample.note}; + start over ${again.seconds.toFixed(1)} s`,
          };
        }
        record('resume', side, sample);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  }
  log(`round ${round}/${rounds} done (load average ${os.loadavg()[0]!.toFixed(2)})`);
}
await world.close();

if (wanted.has('output')) {
  log('output: 100,000 lines through exec + stage log + progress (bench/output-overhead.ts)');
  const out = await execa(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'bench/output-overhead.ts')], {
    env: { BENCH_ROUNDS: String(Math.max(rounds, 3)) },
    all: true,
  });
  extra.output = String(out.stdout);
}

// ---- report ----
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (n: number, digits = 2) => n.toFixed(digits);
const lines: string[] = [];
lines.push(
  `build-quiche vs naive script: scaled local upstream (${scale.deps} DEPS repos + src, quiche, depot_tools; ${scale.tus} C translation units; ` +
    `${extra.edges ?? '?'} ninja edges for the four binaries), ${os.cpus().length} cores, Node ${process.versions.node}, ` +
    `median of ${rounds}, load average at the end ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
lines.push('');
lines.push(
  '| scenario | build-quiche | naive script | naive / build-quiche (median of pairs) | build-quiche peak RSS | steps run: build-quiche / naive |',
);
lines.push('|---|---|---|---|---|---|');
for (const scenario of ALL) {
  const r = results[scenario];
  if (!r) continue;
  const o = r['build-quiche'];
  const n = r.naive;
  const ratios = o.map((s, i) => (n[i] ? n[i].seconds / s.seconds : NaN)).filter(Number.isFinite);
  const steps = (xs: Sample[]) => {
    const s = xs.at(-1)?.steps;
    if (!s) return '-';
    const total = Object.values(s).reduce((a, b) => a + b, 0);
    const objects = (s.CC ?? 0) + (s.CXX ?? 0);
    return `${total} (${objects} compiles)`;
  };
  lines.push(
    `| ${scenario} | ${fmt(median(o.map((s) => s.seconds)))} s | ${fmt(median(n.map((s) => s.seconds)))} s | ${fmt(median(ratios))}x | ` +
      `${fmt(median(o.map((s) => s.maxRssMb ?? 0)), 0)} MB | ${steps(o)} / ${steps(n)} |`,
  );
}
const cold = results.cold?.['build-quiche'];
const resume = results.resume?.['build-quiche'];
if (cold && resume) {
  const c = median(cold.map((s) => s.seconds));
  const r = median(resume.map((s) => s.seconds));
  const stage = (xs: Sample[], id: string) => median(xs.map((s) => s.stages?.[id] ?? 0));
  lines.push('');
  lines.push(
    `resume: the rerun after kill -9 took ${fmt(r / c)}x of cold (goal <= 0.6x); its checkout stage ${fmt(stage(resume, 'checkout'))} s ` +
      `against ${fmt(stage(cold, 'checkout'))} s cold (${fmt(stage(resume, 'checkout') / Math.max(stage(cold, 'checkout'), 1e-9))}x). ` +
      `Killed after ${extra.resumeKill['build-quiche'].map((k) => `${fmt(k.seconds, 1)} s (${k.cloned}/${benchDeps.length} deps)`).join(', ')}.`,
  );
  const notes = results.resume?.naive.map((s) => s.note).filter(Boolean);
  if (notes?.length) lines.push(`naive resume: ${notes.join('; ')}`);
}
const noop = results['no-op'];
if (noop) {
  const o = median(noop['build-quiche'].map((s) => s.seconds));
  const n = median(noop.naive.map((s) => s.seconds));
  lines.push('');
  lines.push(`no-op: ${fmt(o)} s (goal <= 1.0 s), ${fmt(o / n, 3)}x the naive rerun (goal <= 0.05x)`);
}
if (cold) {
  lines.push('');
  lines.push('build-quiche stage times (median s), cold / no-op / patch edited / gn arg / resume:');
  const ids = new Set(ALL.flatMap((s) => results[s]?.['build-quiche'].flatMap((x) => Object.keys(x.stages ?? {})) ?? []));
  for (const id of ids) {
    const cells = (['cold', 'no-op', 'patch edited', 'gn arg', 'resume'] as const).map((s) => {
      const xs = results[s]?.['build-quiche'];
      if (!xs) return '-';
      const ran = xs.filter((x) => x.stages?.[id] !== undefined);
      return ran.length ? fmt(median(ran.map((x) => x.stages![id]!))) : 'skip';
    });
    lines.push(`  ${id.padEnd(12)} ${cells.join(' / ')}`);
  }
}
if (extra.output) {
  lines.push('');
  lines.push(extra.output.trim());
}
process.stdout.write(lines.join('\n') + '\n');
if (process.env.BENCH_JSON)
  await writeFile(process.env.BENCH_JSON, JSON.stringify({ scale, rounds, results, extra, loadavg: os.loadavg() }, null, 2));

/** Ninja edges (non-phony build statements) the four targets need: `ninja -t commands`. */
async function countEdges(outDir: string): Promise<number> {
  const result = await execa('ninja', ['-C', outDir, '-t', 'commands', ...TARGETS.map((t) => t.replace(/^(.*):(.*)$/, '$2'))], {
    reject: false,
  });
  if (result.exitCode !== 0) {
    // Target names as ninja knows them: fall back to all edges.
    const all = await execa('ninja', ['-C', outDir, '-t', 'commands'], { reject: false });
    return String(all.stdout).split('\n').filter(Boolean).length;
  }
  return String(result.stdout).split('\n').filter(Boolean).length;
}
