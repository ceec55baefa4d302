import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, waitForLine, writeConfigFile } from '../support/cli.js';
import { offlineConfig, startWorld, TAG_152, workspace, type World } from '../../testkit/world.js';

const QUICHE = 'src/net/third_party/quiche/src';
let world: World;
let ws: { dir: string; remove(): Promise<void> };
beforeAll(async () => {
  world = await startWorld();
  ws = await workspace('bq-cli-');
});
afterAll(async () => {
  await ws?.remove();
  await world?.close();
});

const gclientProcessesIn = (dir: string) => {
  try {
    return execFileSync('pgrep', ['-f', `${dir}/cache/depot_tools/gclient`], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};

/** A one-patch series made on the fly from the fixture quiche at the 152 pin. */
async function seriesWith(dir: string, file: string, edit: (text: string) => string): Promise<string> {
  const repo = path.join(dir, 'quiche');
  execFileSync('git', ['clone', '-q', world.upstream.repos.quiche, repo]);
  execFileSync('git', ['-C', repo, 'checkout', '-q', world.upstream.tags[TAG_152].quicheRevision]);
  const target = path.join(repo, file);
  const { readFile } = await import('node:fs/promises');
  await writeFile(target, edit(await readFile(target, 'utf8')));
  execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'Break it on purpose']);
  const out = path.join(dir, 'patches');
  await mkdir(out, { recursive: true });
  execFileSync('git', ['-C', repo, 'format-patch', '-q', '-1', '--zero-commit', '--full-index', '--no-signature', '-o', out]);
  const patch = execFileSync('ls', [out], { encoding: 'utf8' }).trim();
  await writeFile(path.join(out, 'series'), `${patch}\n`);
  return path.join(out, 'series');
}

describe('the CLI', () => {
  it('plan --json lists every stage with a status and a reason', async () => {
    const dir = path.join(ws.dir, 'plan');
    await writeConfigFile(dir, offlineConfig(world.server.baseUrl, dir));
    const result = await spawnCli(['plan', '--json'], { cwd: dir });
    expect(result.exitCode, result.all).toBe(0);
    const plan = JSON.parse(result.stdout) as Array<{ stage: string; status: string; reason: string }>;
    expect(plan.map((e) => e.stage)).toEqual([
      'preflight',
      'resolve',
      'patch-check',
      'reuse',
      'depot-tools',
      'checkout',
      'patch',
      'configure',
      'compile',
      'smoke',
      'package',
      'publish',
    ]);
    expect(plan.find((e) => e.stage === 'checkout')).toMatchObject({ status: 'run', reason: 'never completed' });
  });

  it('Ctrl-C during a sync exits 130, leaves no gclient behind, and the next run repairs and completes', async () => {
    const dir = path.join(ws.dir, 'sigint');
    await writeConfigFile(dir, offlineConfig(world.server.baseUrl, dir, { depotTools: { env: { FAKE_GCLIENT_PAUSE_IN_CLONE: QUICHE } } }));
    const child = spawnCli(['build', '--until', 'checkout', '--verbose'], { cwd: dir });
    await waitForLine(child, 'paused in first clone of');
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(gclientProcessesIn(dir)).toBe('');

    const status = await spawnCli(['status'], { cwd: dir });
    expect(status.stdout).toMatch(/checkout +(INTERRUPTED|FAILED)/);

    await writeConfigFile(dir, offlineConfig(world.server.baseUrl, dir));
    const rerun = await spawnCli(['build', '--until', 'checkout'], { cwd: dir });
    expect(rerun.exitCode, rerun.all).toBe(0);
    expect(rerun.stdout).toMatch(/checkout: repairing/);
  });

  it('a second run on the same cache is refused with exit 3, naming the holder', async () => {
    const dir = path.join(ws.dir, 'lock');
    await writeConfigFile(dir, offlineConfig(world.server.baseUrl, dir, { depotTools: { env: { FAKE_GCLIENT_PAUSE_IN_CLONE: QUICHE } } }));
    const first = spawnCli(['build', '--until', 'checkout', '--verbose'], { cwd: dir });
    await waitForLine(first, 'paused in first clone of');
    const second = await spawnCli(['build', '--json'], { cwd: dir });
    expect(second.exitCode).toBe(3);
    const error = JSON.parse(second.stdout.trim().split('\n').pop()!);
    expect(error).toMatchObject({ type: 'error', error: { class: 'lock', exitCode: 3 } });
    expect(error.error.message).toContain(`pid ${first.pid}`);
    first.kill('SIGINT');
    await first;
  });

  it('a compile error shows the failing step and the compiler message, exit 9', async () => {
    const dir = path.join(ws.dir, 'compile-error');
    const series = await seriesWith(
      dir,
      'quiche/quic/tools/quic_simple_server_session.cc',
      (text) => `${text}\nint broken_on_purpose = ;\n`,
    );
    await writeConfigFile(dir, offlineConfig(world.server.baseUrl, dir, { patches: { series } }));
    const result = await spawnCli(['build', '--json'], { cwd: dir });
    expect(result.exitCode).toBe(9);
    const fail = result.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'stage-fail');
    expect(fail.stage).toBe('compile');
    expect(fail.error.message).toMatch(/Compile failed at .*quic_simple_server_session\.o/);
    expect(fail.error.message).toMatch(/quic_simple_server_session\.cc:\d+:\d+: error: expected primary-expression/);
    expect(fail.error.logPath).toMatch(/compile\.log$/);
  });

  it('an unpatched build says the migration check was skipped; smoke.migration=require fails it with exit 10', async () => {
    const dir = path.join(ws.dir, 'unpatched');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'series'), '# no patches: upstream quiche as is\n');
    await writeConfigFile(dir, offlineConfig(world.server.baseUrl, dir, { patches: { series: path.join(dir, 'series') } }));
    const auto = await spawnCli(['build', '--until', 'smoke'], { cwd: dir });
    expect(auto.exitCode, auto.all).toBe(0);
    expect(auto.stdout).toMatch(/migration check skipped: epoll_quic_client has no --migrate_local_addresses/);
    const required = await spawnCli(['build', '--until', 'smoke', '--set', 'smoke.migration=require'], { cwd: dir });
    expect(required.exitCode).toBe(10);
    expect(required.all).toMatch(/Migration check required/);
  });
});
