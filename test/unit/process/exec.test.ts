import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { isRunning } from '../../../src/process/liveness.js';
import { InterruptedError, isBuildQuicheError } from '../../../src/errors.js';
import { classifyOutput } from '../../../src/process/classify.js';
import { exec } from '../../../src/process/exec.js';
import { LogFile } from '../../../src/process/log-file.js';
import { withRetry } from '../../../src/process/retry.js';
import { NetworkError, DirtyTreeError } from '../../../src/errors.js';

describe('classifying failures from output', () => {
  it.each([
    ['error: RPC failed; curl 56 Recv failure: Connection reset by peer', 'network'],
    ['fatal: early EOF', 'network'],
    ['will retry after a short nap', 'network'],
    ['fatal: write error: No space left on device', 'disk'],
    ['error: Your local changes would be overwritten by checkout', 'dirty-tree'],
    ['You have uncommitted changes', 'dirty-tree'],
    ["fatal: Unable to create '/x/.git/index.lock': File exists.", 'lock'],
    ["fatal: couldn't find remote ref refs/tags/999.0.0.1", 'not-found'],
    // git over smart HTTP when the server answers 404 for the repository (a wrong srcUrl)
    ["fatal: repository 'http://127.0.0.1:47001/chromium/nope.git/' not found", 'not-found'],
    ["remote: Repository not found.\nfatal: repository 'https://github.com/x/y.git/' not found", 'not-found'],
  ])('%s -> %s', (line, failureClass) => {
    expect(classifyOutput([line], 1)).toBe(failureClass);
  });

  it('reads exit code 130 as an interruption', () => {
    expect(classifyOutput([], 130)).toBe('interrupted');
  });
});

/**
 * Runs a fixture that starts a command tree through exec() and prints `<label> <pid>` for the process
 * to watch, kills the fixture with SIGKILL (alone or its whole group), and says whether the watched
 * process outlived it by 5 s (then it is killed here, with its group).
 */
async function outlivesKill(fixture: string, label: string, target: 'alone' | 'group'): Promise<boolean> {
  const child = execa(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(import.meta.dirname, 'fixtures', fixture)], {
    detached: true,
    reject: false,
    cleanup: false,
  });
  const pattern = new RegExp(`${label} (\\d+)`);
  const line = await new Promise<string>((resolve) =>
    child.stdout.on('data', (d: Buffer) => pattern.test(d.toString()) && resolve(d.toString())),
  );
  const watched = Number(pattern.exec(line)![1]);
  expect(isRunning(watched)).toBe(true);
  process.kill(target === 'alone' ? child.pid! : -child.pid!, 'SIGKILL');
  await child;
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && isRunning(watched)) await new Promise((r) => setTimeout(r, 50));
  const survived = isRunning(watched);
  // Both fixtures' watched process leads its own group (exec's group; setsid).
  if (survived) process.kill(-watched, 'SIGKILL');
  return survived;
}

describe('exec', () => {
  it.each([
    ['the process alone', 'alone'],
    ['its whole process group', 'group'],
  ] as const)(
    'no subprocess outlives a kill -9 of %s',
    async (_name, target) => {
      expect(await outlivesKill('exec-forever.ts', 'tree', target)).toBe(false);
    },
    30_000,
  );

  it('a descendant that left its group (setsid, as a daemon does) does not outlive a kill -9 either: the run mark finds it', async () => {
    expect(await outlivesKill('exec-escaping.ts', 'escaped', 'alone')).toBe(false);
  }, 30_000);

  it('every command carries the run mark in its environment, besides its own variables', async () => {
    // exec() gives every command the run mark; a command's own environment is kept besides it.
    const result = await exec('sh', ['-c', 'echo "$BUILD_QUICHE_RUN_MARK $FOO"'], { env: { FOO: 'bar' } });
    expect(result.stdout).toMatch(/^\d+-[0-9a-f]{12} bar$/);
  });

  it('stops the whole process group on abort, grandchildren included', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const running = exec('sh', ['-c', 'sleep 30 & sleep 30; wait'], { signal: controller.signal, killGraceMs: 500 });
    setTimeout(() => controller.abort(), 200);
    await expect(running).rejects.toBeInstanceOf(InterruptedError);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('an abort during child tracking still stops the child', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const tracker = { add: () => controller.abort(), remove: () => {} };
    await expect(exec('sleep', ['5'], { signal: controller.signal, tracker })).rejects.toBeInstanceOf(InterruptedError);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a failed command becomes a classified error with the last lines', async () => {
    const error = await exec('sh', ['-c', 'echo "fatal: early EOF" >&2; exit 128']).catch((e) => e);
    expect(isBuildQuicheError(error) && error.failureClass).toBe('network');
    expect(error.tail).toEqual(['fatal: early EOF']);
  });

  it("a failed command's message names the cause, so retry notes and headlines say why", async () => {
    const script =
      'echo "Cloning into x..." >&2; echo "fatal: unable to access \'http://nohost/x.git/\': Could not resolve host: nohost" >&2; echo done >&2; exit 128';
    const error = await exec('sh', ['-c', script]).catch((e) => e);
    expect(error.message).toMatch(
      /failed with exit code 128: fatal: unable to access 'http:\/\/nohost\/x\.git\/': Could not resolve host: nohost\.$/,
    );
  });

  it('a missing program is a tool error that names it', async () => {
    await expect(exec('no-such-program-xyz', [])).rejects.toThrow(/Could not start no-such-program-xyz/);
  });
});

describe('stage logs', () => {
  it('a log that cannot be written (full disk) fails on close as a disk error, not a crash', async () => {
    const log = new LogFile('/dev/full');
    log.write('x'.repeat(100_000));
    const error = await log.close().catch((e) => e);
    expect(isBuildQuicheError(error) && error.failureClass).toBe('disk');
  });
});

describe('retry', () => {
  it('retries network failures and not dirty trees', async () => {
    let attempts = 0;
    await expect(
      withRetry(
        () => {
          attempts++;
          return Promise.reject(new NetworkError('flaky'));
        },
        { retries: 2, minTimeoutMs: 1, maxTimeoutMs: 2 },
      ),
    ).rejects.toThrow('flaky');
    expect(attempts).toBe(3);
    attempts = 0;
    await expect(
      withRetry(
        () => {
          attempts++;
          return Promise.reject(new DirtyTreeError('dirty'));
        },
        { retries: 2, minTimeoutMs: 1, maxTimeoutMs: 2 },
      ),
    ).rejects.toThrow('dirty');
    expect(attempts).toBe(1);
  });
});
