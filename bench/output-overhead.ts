// npm run bench:output: what the UI costs on a build that prints 100,000 lines (ninja's "[i/N] CXX ..."
// lines). A generator prints them as fast as it can; A is the raw command with its output to
// /dev/null, B the same command through exec() with the stage log, ninja progress parsing and the
// plain renderer's progress line (what a compile stage does). Prints medians of BENCH_ROUNDS rounds,
// the overhead B/A - 1 (goal <= 5%), and this process' peak RSS (goal <= 150 MB). The wall overhead
// is noisy on a loaded machine (reader and generator run on two cores at once), so it also prints
// the CPU this process spends on the lines (exec, stage log, progress parsing): on a machine whose
// cores a real build keeps busy, that is the time taken from the build.
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseProgress } from '../src/tools/builder-output.js';
import { ProgressMeter } from '../src/cli/render/format.js';
import { exec } from '../src/process/exec.js';
import { LogFile } from '../src/process/log-file.js';

const LINES = Number(process.env.BENCH_LINES ?? 100_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
// A build that prints LINES ninja lines, with a little work per line (as a compile has) so that the
// reader, not the pipe, is what is measured.
const generator = `import sys
n = ${LINES}
w = sys.stdout.write
for i in range(1, n + 1):
    w(f"[{i}/{n}] CXX obj/net/third_party/quiche/src/quiche/quic/core/quic_file_{i % 1000}.o\\n")
`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** CPU seconds of reaped children (utime + stime), from /proc/self/stat (cutime, cstime). */
const childCpu = () => {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
};
const ownCpu = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};
const dir = await mkdtemp(path.join(os.tmpdir(), 'bq-bench-output-'));
const raw: number[] = [];
const ui: number[] = [];
const rawCpu: number[] = [];
const uiCpu: number[] = [];
const ratios: number[] = [];
let rendered = 0;
try {
  for (let round = 0; round < rounds; round++) {
    let started = performance.now();
    const children = childCpu();
    await execa('sh', ['-c', `python3 -c '${generator}' > /dev/null`]);
    raw.push(performance.now() - started);
    rawCpu.push(childCpu() - children);

    started = performance.now();
    const own = ownCpu();
    const log = new LogFile(path.join(dir, `compile-${round}.log`));
    const meter = new ProgressMeter();
    let lastDraw = 0;
    await exec('python3', ['-c', generator], {
      log,
      captureStdout: false,
      onLine: (line) => {
        const progress = parseProgress(line);
        // The renderers draw at most every 100 ms; parsing runs on every line.
        if (progress && performance.now() - lastDraw > 100) {
          lastDraw = performance.now();
          rendered += meter.describe({ done: progress.done, total: progress.total }).length;
        }
      },
    });
    await log.close();
    ui.push(performance.now() - started);
    uiCpu.push(ownCpu() - own);
    ratios.push(ui.at(-1)! / raw.at(-1)!);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
const a = median(raw);
const b = median(ui);
const cpu = median(uiCpu);
const rssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(
  `${LINES} lines, ${rounds} rounds, load average ${os.loadavg()[0]!.toFixed(1)}\n` +
    `raw build to /dev/null: ${(a / 1000).toFixed(2)} s (median)\n` +
    `through exec + stage log + progress: ${(b / 1000).toFixed(2)} s (median)\n` +
    `UI overhead: ${((b / a - 1) * 100).toFixed(1)}% of the raw wall (median of paired rounds: ${((median(ratios) - 1) * 100).toFixed(1)}%; goal <= 5%)\n` +
    `CPU of this process for the lines: ${cpu.toFixed(2)} s (median), ${((cpu / median(rawCpu)) * 100).toFixed(1)}% of the raw build's CPU (${median(rawCpu).toFixed(2)} s)\n` +
    `peak RSS of this process: ${rssMb.toFixed(0)} MB (goal <= 150 MB)\n` +
    (rendered ? '' : 'warning: no progress line was drawn\n'),
);
