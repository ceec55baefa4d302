// The no-op rerun of two CLIs (e.g. this commit's and the previous one's), each on its own built
// work dir from bench/noop-dir.ts, timed in turn (A B A B ...) as whole processes:
//
//   npx tsx bench/noop-ab.ts <dirA> <cliA> <dirB> <cliB> [runs=15]
//
// Prints each side's median wall and CPU seconds (user + sys of the CLI and its children), peak RSS,
// and the median of the per-pair ratios A/B (pairing cancels a machine whose speed drifts), with the
// load average. Each run must do nothing (a stage that runs is an error: set the dir up again).
import { execa } from 'execa';
import os from 'node:os';
import path from 'node:path';

const [dirA, cliA, dirB, cliB, runsArg] = process.argv.slice(2);
if (!dirA || !cliA || !dirB || !cliB) {
  process.stderr.write('usage: tsx bench/noop-ab.ts <dirA> <cliA> <dirB> <cliB> [runs]\n');
  process.exit(2);
}
const runs = Number(runsArg ?? 15);
interface Sample {
  wall: number;
  cpu: number;
  rssMb: number;
}

async function once(dir: string, cli: string): Promise<Sample> {
  const config = path.join(path.resolve(dir), 'pipeline.config.ts');
  const started = process.hrtime.bigint();
  // GNU time: the CLI's peak RSS, and user + sys of it and its children.
  const result = await execa('/usr/bin/time', ['-f', '%M %U %S', process.execPath, path.resolve(cli), '-c', config, 'build', '--plain'], {
    env: { CI: '1' },
    reject: false,
  });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.exitCode !== 0) throw new Error(`${cli} failed:\n${result.stdout}\n${result.stderr}`);
  const ran = [...result.stdout.matchAll(/✔ ([\w-]+): done in/g)].map((m) => m[1]!).filter((id) => id !== 'preflight');
  if (ran.length) throw new Error(`${dir} is not up to date for ${cli}: ran ${ran.join(', ')}`);
  const [rss, user, sys] = result.stderr.trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
  return { wall, cpu: user + sys, rssMb: rss / 1024 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const a: Sample[] = [];
const b: Sample[] = [];
const loads: number[] = [];
await once(dirA, cliA); // warm-up: page cache, jiti's transpile cache
await once(dirB, cliB);
for (let i = 0; i < runs; i++) {
  a.push(await once(dirA, cliA));
  b.push(await once(dirB, cliB));
  loads.push(os.loadavg()[0]!);
}
const row = (name: string, xs: Sample[]) =>
  `${name}: wall ${median(xs.map((x) => x.wall)).toFixed(3)} s (${Math.min(...xs.map((x) => x.wall)).toFixed(3)}-${Math.max(...xs.map((x) => x.wall)).toFixed(3)}), ` +
  `cpu ${median(xs.map((x) => x.cpu)).toFixed(3)} s, peak RSS ${median(xs.map((x) => x.rssMb)).toFixed(0)} MB`;
process.stdout.write(
  `${runs} pairs, ${os.cpus().length} cores, Node ${process.versions.node}, load average ${Math.min(...loads).toFixed(2)}-${Math.max(...loads).toFixed(2)}\n` +
    `${row(`A ${cliA}`, a)}\n${row(`B ${cliB}`, b)}\n` +
    `A/B median of pairs: wall ${median(a.map((x, i) => x.wall / b[i]!.wall)).toFixed(3)}, cpu ${median(a.map((x, i) => x.cpu / b[i]!.cpu)).toFixed(3)}\n`,
);
