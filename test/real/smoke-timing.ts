// The smoke test's time on real binaries, the first download sized from a measured throughput
// (smoke.responseBytes 'auto', the default) against the fixed 20 MB of before, in turn:
//
//   BQ_REAL_BIN_DIR=<dir with epoll_quic_client and epoll_quic_server> npx tsx test/real/smoke-timing.ts [rounds]
//
// Each round runs the smoke driver as the stage does (smoke-harness.ts: server, 1 KB fetch, migration
// modes) once with each setting, alternating which goes first; prints each run's wall time, each
// timed mode's tries and sizes, and the medians. Other smoke settings are the defaults (500 ms
// interval), as in a user's build.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { hasBinaries, runSmoke } from './smoke-harness.js';

const binDir = process.env.BQ_REAL_BIN_DIR;
if (!hasBinaries(binDir)) {
  process.stderr.write('BQ_REAL_BIN_DIR must name a directory with epoll_quic_client and epoll_quic_server\n');
  process.exit(2);
}
const rounds = Number(process.argv[2] ?? 5);
const SETTINGS = { before: { responseBytes: 20_000_000 }, after: { responseBytes: 'auto' } } as const;
const times: Record<keyof typeof SETTINGS, number[]> = { before: [], after: [] };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (let round = 1; round <= rounds; round++) {
  const order = round % 2 ? (['before', 'after'] as const) : (['after', 'before'] as const);
  for (const name of order) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bq-smoke-timing-'));
    try {
      const started = performance.now();
      const run = await runSmoke(binDir, dir, { migration: 'require', ...SETTINGS[name] });
      const seconds = (performance.now() - started) / 1000;
      times[name].push(seconds);
      const modes = (run.migration?.modes ?? [])
        .map((m) => `${m.mode} ${m.tries} tr${m.tries === 1 ? 'y' : 'ies'}, ${(m.responseBytes / 1e6).toFixed(0)} MB, ${m.matched} matched`)
        .join('; ');
      process.stdout.write(
        `round ${round} ${name.padEnd(6)} ${seconds.toFixed(2)} s  ${modes}${run.error ? `  ERROR ${(run.error as Error).message}` : ''}\n`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
process.stdout.write(
  `median smoke time: before (20 MB first) ${median(times.before).toFixed(2)} s, after (auto) ${median(times.after).toFixed(2)} s; ` +
    `load average ${os.loadavg()[0]!.toFixed(2)}\n`,
);
