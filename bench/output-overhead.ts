// npm run bench:output: what build-quiche's output costs per line of build output, for each renderer,
// and whether a reader that takes the output slowly holds the build up.
//
// The build is testkit/loud-build.ts: the real CLI (a child process, as users run it) with a test
// backend whose compile stage runs a stand-in ninja through the real compile path (exec, stage log,
// progress parsing, the engine's events, the renderer). The stand-in prints BENCH_LINES ninja status
// lines as fast as it can and reports how long that took it: a reader that cannot keep up blocks its
// writes, so its time is the build's time.
//
// 1. Cost per line: the CLI's CPU (user + sys) while the stand-in prints BENCH_LINES lines, minus the
//    same for none (starting the stand-in), divided by BENCH_LINES; median of BENCH_ROUNDS; for the
//    live view (on a pty: script(1)), --plain, --plain -v and --json, each read as fast as it comes.
// 2. Slow reader: the same, read at BENCH_SLOW_BPS bytes/s (default 4096) until the stand-in is done:
//    its time against a fast reader's, what the reader got, and the stage log's line count (it must
//    have every line).
//
// Env: BENCH_LINES (100000), BENCH_ROUNDS (3), BENCH_SLOW_BPS (4096), BENCH_RENDERERS (live,plain,plain -v,json).
import { execa } from 'execa';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loudWorld, runLoud, type LoudRun } from '../testkit/loud-build.js';

const LINES = Number(process.env.BENCH_LINES ?? 100_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const slowBps = Number(process.env.BENCH_SLOW_BPS ?? 4096);
const RENDERERS: Array<{ name: string; args: string[]; tty: boolean }> = [
  { name: 'live', args: [], tty: true },
  { name: 'plain', args: ['--plain'], tty: false },
  { name: 'plain -v', args: ['--plain', '-v'], tty: false },
  { name: 'json', args: ['--json'], tty: false },
];
const wanted = process.env.BENCH_RENDERERS?.split(',').map((s) => s.trim());
const renderers = RENDERERS.filter((r) => !wanted || wanted.includes(r.name));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const log = (text: string) => process.stderr.write(`[output ${new Date().toISOString().slice(11, 19)}] ${text}\n`);
const dropped = (run: LoudRun) =>
  [...run.stdout.matchAll(/"type":"stage-lines-dropped","stage":"[^"]+","count":(\d+)|… (\d+) line\(s\) not shown/g)].reduce(
    (n, m) => n + Number(m[1] ?? m[2]),
    0,
  );

const dir = await mkdtemp(path.join(os.tmpdir(), 'bq-bench-output-'));
const lines: string[] = [];
try {
  const world = await loudWorld(dir);
  const loads: number[] = [];
  const cost: Array<{ name: string; usPerLine: number; printer: number; rss: number }> = [];
  const slow: Array<{
    name: string;
    fast: number;
    slow: number;
    run: number;
    exit: number;
    got: number;
    drops: number;
    log: number;
    rss: number;
  }> = [];
  for (const renderer of renderers) {
    const perLine: number[] = [];
    const printer: number[] = [];
    const rss: number[] = [];
    for (let round = 0; round < rounds; round++) {
      // Paired: the empty build right before the loud one, so a drifting machine cancels out.
      const none = await runLoud({ world, args: renderer.args, tty: renderer.tty, lines: 0, reader: 'fast' });
      const loud = await runLoud({ world, args: renderer.args, tty: renderer.tty, lines: LINES, reader: 'fast' });
      if (loud.logLines !== LINES) throw new Error(`${renderer.name}: the stage log has ${loud.logLines} of ${LINES} lines`);
      perLine.push(((loud.stage.cpuSeconds - none.stage.cpuSeconds) / LINES) * 1e6);
      printer.push(loud.printerSeconds);
      rss.push(loud.cli.maxRssMb);
      loads.push(os.loadavg()[0]!);
      log(`${renderer.name}: ${perLine.at(-1)!.toFixed(2)} µs/line, stand-in ${loud.printerSeconds.toFixed(2)} s`);
    }
    cost.push({ name: renderer.name, usPerLine: median(perLine), printer: median(printer), rss: median(rss) });
    const run = await runLoud({ world, args: renderer.args, tty: renderer.tty, lines: LINES, reader: { bytesPerSecond: slowBps } });
    slow.push({
      name: renderer.name,
      fast: median(printer),
      slow: run.printerSeconds,
      run: run.cli.runMs / 1000,
      exit: run.cli.exitMs / 1000,
      got: run.stdout.length,
      drops: dropped(run),
      log: run.logLines,
      rss: run.cli.maxRssMb,
    });
    log(`${renderer.name}, slow reader: stand-in ${run.printerSeconds.toFixed(2)} s, ${dropped(run)} lines dropped`);
  }
  // The stand-in on its own, its output to /dev/null: how fast it prints when nothing reads it.
  const report = path.join(dir, 'raw-printer.txt');
  await execa('python3', [world.printer], { env: { LOUD_LINES: String(LINES), LOUD_PRINTER_REPORT: report }, stdout: 'ignore' });
  const raw = Number(await readFile(report, 'utf8'));
  lines.push(
    `${LINES} lines of build output, ${os.cpus().length} cores, Node ${process.versions.node}, median of ${rounds}, ` +
      `load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`,
  );
  lines.push('');
  lines.push('| renderer | CPU per line | stand-in build, fast reader | peak RSS |');
  lines.push('|---|---|---|---|');
  for (const c of cost) lines.push(`| ${c.name} | ${c.usPerLine.toFixed(2)} µs | ${c.printer.toFixed(2)} s | ${c.rss.toFixed(0)} MB |`);
  lines.push('');
  lines.push(`Slow reader (${slowBps} bytes/s until the stand-in build is done):`);
  lines.push('');
  lines.push('| renderer | stand-in build: fast reader / slow reader | run / exit | output read | lines dropped | stage log | peak RSS |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const s of slow) {
    lines.push(
      `| ${s.name} | ${s.fast.toFixed(2)} s / ${s.slow.toFixed(2)} s | ${s.run.toFixed(2)} s / ${s.exit.toFixed(2)} s | ` +
        `${(s.got / 1024).toFixed(0)} KB | ${s.drops} | ${s.log} lines | ${s.rss.toFixed(0)} MB |`,
    );
  }
  lines.push('');
  lines.push(`The stand-in build on its own, its output to /dev/null: ${raw.toFixed(2)} s.`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.stdout.write(lines.join('\n') + '\n');
