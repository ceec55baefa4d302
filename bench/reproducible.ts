// npm run bench:reproducible: two cold builds of the real binaries (the standalone backend at the 152 pin,
// the shared upstream's real sources served on loopback, as the real tier builds them) in two different
// cache dirs, with ccache off, side by side: each binary's sha256 and the tarball's must be the same, and
// none may name its cache dir. About an hour on 2 cores (two full cold builds), so it is a bench step,
// not a CI test; the real tier checks the ccache-on case (a second cache dir sharing only ccache).
//
// Env: BENCH_WORK (default: a temp dir; the two cache dirs are <work>/first and
// <work>/second-dir-with-a-longer-name), BENCH_KEEP=1 keeps them, BENCH_JSON=file writes the results.
import { execa } from 'execa';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sha256 } from '../src/util/fs.js';
import { realConfig, VIEWS_DIR } from '../testkit/real-config.js';
import { ensureViews } from '../testkit/real-views.js';
import { startUpstreamServer } from '../testkit/server.js';
import { writeConfigFile } from '../testkit/world.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const log = (text: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

await execa('npm', ['run', '--silent', 'build'], { cwd: ROOT });
await ensureViews(VIEWS_DIR);
const server = await startUpstreamServer({ reposDir: VIEWS_DIR });
const work = process.env.BENCH_WORK ?? (await mkdtemp(path.join(os.tmpdir(), 'bq-bench-repro-')));
const dirs = [path.join(work, 'first'), path.join(work, 'second-dir-with-a-longer-name')];

interface Result {
  dir: string;
  seconds: number;
  tarball: { name: string; sha256: string };
  binaries: Record<string, string>;
  namesItsDir: string[];
}

const results: Result[] = [];
try {
  for (const dir of dirs) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await writeConfigFile(dir, await realConfig({ baseUrl: server.baseUrl, views: VIEWS_DIR, dir }, { publish: [], reuse: false }));
    log(`cold build in ${dir} (ccache off)`);
    const started = Date.now();
    const run = await execa(process.execPath, [path.join(ROOT, 'bin', 'build-quiche.js'), 'build', '--plain'], {
      cwd: dir,
      env: { CCACHE_DISABLE: '1', CI: '1' },
      all: true,
      reject: false,
    });
    const seconds = (Date.now() - started) / 1000;
    if (run.exitCode !== 0)
      throw new Error(`the build in ${dir} failed (exit ${run.exitCode}):\n${run.all.split('\n').slice(-30).join('\n')}`);
    const dist = path.join(dir, 'dist');
    const tarballName = (await readdir(dist)).find((f) => f.endsWith('.tar.gz'))!;
    const outRoot = path.join(dir, 'cache', 'quiche', 'out');
    const [key] = await readdir(outRoot);
    const binDir = path.join(outRoot, key!, 'bin');
    const binaries: Record<string, string> = {};
    const namesItsDir: string[] = [];
    for (const name of (await readdir(binDir)).sort()) {
      const bytes = await readFile(path.join(binDir, name));
      binaries[name] = sha256(bytes);
      if (bytes.includes(dir)) namesItsDir.push(name);
    }
    results.push({
      dir,
      seconds,
      tarball: { name: tarballName, sha256: sha256(await readFile(path.join(dist, tarballName))) },
      binaries,
      namesItsDir,
    });
    log(`done in ${seconds.toFixed(0)} s: ${tarballName} ${results.at(-1)!.tarball.sha256.slice(0, 16)}`);
  }
} finally {
  await server.close();
  if (!process.env.BENCH_KEEP) for (const dir of dirs) await rm(dir, { recursive: true, force: true });
}

const [a, b] = results as [Result, Result];
const rows = [
  ['', path.basename(a.dir), path.basename(b.dir), 'same'],
  ['cold build (s)', a.seconds.toFixed(0), b.seconds.toFixed(0), `${(b.seconds / a.seconds).toFixed(2)}x`],
  ['tarball sha256', a.tarball.sha256.slice(0, 16), b.tarball.sha256.slice(0, 16), String(a.tarball.sha256 === b.tarball.sha256)],
  ...Object.keys(a.binaries).map((name) => [
    name,
    a.binaries[name]!.slice(0, 16),
    b.binaries[name]?.slice(0, 16) ?? '-',
    String(a.binaries[name] === b.binaries[name]),
  ]),
  ['binaries naming their cache dir', a.namesItsDir.join(' ') || 'none', b.namesItsDir.join(' ') || 'none', ''],
];
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const row of rows) process.stdout.write(`${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')}\n`);
if (process.env.BENCH_JSON) await writeFile(process.env.BENCH_JSON, JSON.stringify(results, null, 2));
const same = a.tarball.sha256 === b.tarball.sha256 && a.namesItsDir.length === 0 && b.namesItsDir.length === 0;
process.exit(same ? 0 : 1);
