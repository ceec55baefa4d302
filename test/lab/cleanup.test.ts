import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import { runLab } from '../../src/lab/run.js';
import { cleanupLeftovers, type LabState } from '../../src/lab/state.js';
import { exec } from '../../src/process/exec.js';
import { workspace } from '../../testkit/world.js';
import { fixtureArtifact, labUnavailable } from '../support/fixture-artifact.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const skip = labUnavailable();
if (skip) console.log(`skipping the lab cleanup tests: ${skip}`);

const namespaces = async () => (await exec('ip', ['netns', 'list'])).stdout;

describe.skipIf(skip)('the lab leaves nothing behind', () => {
  let artifact: string;
  beforeAll(async () => {
    artifact = await fixtureArtifact();
  });

  test('Ctrl-C (abort) mid-download stops every process and removes the namespaces, sockets and state file', async () => {
    const ws = await workspace('bq-lab-abort-');
    const controller = new AbortController();
    let runId = '';
    try {
      const running = runLab({
        artifact,
        scenario: 'two-paths',
        out: ws.dir,
        durationMs: 20_000,
        intervalMs: 300,
        signal: controller.signal,
        onEvent: (e) => {
          runId ||= /\(run ([0-9a-f]{6})\)/.exec(e.message)?.[1] ?? '';
          if (/^migration 1:/.test(e.message)) controller.abort();
        },
      });
      await expect(running).rejects.toMatchObject({ failureClass: 'interrupted', exitCode: 130 });
      expect(runId).toMatch(/^[0-9a-f]{6}$/);
      expect(await namespaces()).not.toContain(`bql${runId}`);
      expect((await readdir('/var/run/wireguard').catch(() => [])).filter((s) => s.includes(runId))).toEqual([]);
      expect(existsSync(`/run/build-quiche-lab/${runId}.json`)).toBe(false);
      expect(existsSync(path.join(ws.dir, `.keys-${runId}`))).toBe(false);
    } finally {
      await ws.remove();
    }
  });

  test('after kill -9 of a lab run, the next cleanup removes its namespaces, processes and WireGuard sockets, and only those', async () => {
    const ws = await workspace('bq-lab-crash-');
    const stateDir = path.join(ws.dir, 'state');
    try {
      let childPid = 0;
      await exec(process.execPath, ['--import', 'tsx', path.join(HERE, 'lab-child.ts'), artifact, path.join(ws.dir, 'out')], {
        env: { BUILD_QUICHE_LAB_STATE_DIR: stateDir },
        allowFailure: true,
        timeoutMs: 60_000,
        onLine: (line) => {
          childPid ||= Number(/^PID (\d+)$/.exec(line)?.[1] ?? 0);
          if (/^migration 1:/.test(line)) process.kill(childPid, 'SIGKILL');
        },
      });
      const [file] = await readdir(stateDir);
      const state = JSON.parse(await readFile(path.join(stateDir, file!), 'utf8')) as LabState;
      expect(state.owner.pid).toBe(childPid);
      // What the killed run left: both namespaces. Its processes (server, tcpdump, wireguard-go) died with
      // it: exec's watchdog kills a dead run's process groups (src/process/reaper.ts).
      for (const ns of state.namespaces) expect(await namespaces()).toContain(ns);
      expect(await cleanupLeftovers(stateDir)).toEqual([state.runId]);
      for (const ns of state.namespaces) expect(await namespaces()).not.toContain(ns);
      for (const socket of state.wgSockets) expect(existsSync(socket)).toBe(false);
      expect(await readdir(stateDir)).toEqual([]);
    } finally {
      await ws.remove();
    }
  });

  test('cleanup leaves a live run alone', async () => {
    const ws = await workspace('bq-lab-live-');
    try {
      const live: LabState = { runId: 'aaaaaa', owner: { pid: process.pid }, namespaces: ['bqlaaaaaa-client'], wgSockets: [] };
      await writeFile(path.join(ws.dir, 'aaaaaa.json'), JSON.stringify(live));
      expect(await cleanupLeftovers(ws.dir)).toEqual([]);
      expect(await readdir(ws.dir)).toEqual(['aaaaaa.json']);
    } finally {
      await ws.remove();
    }
  });
});
