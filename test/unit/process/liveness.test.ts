import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isRunning } from '../../../src/process/liveness.js';
import { isAlive, pidExists, processStartTicks } from '../../../src/process/proc.js';

describe('isRunning', () => {
  it('is true for a live process and for this one', () => {
    expect(isRunning(process.pid)).toBe(true);
  });

  it('is false for a zombie: a killed child nobody has reaped yet', async () => {
    const { parent, pid } = await unreapingParentWithChild();
    try {
      process.kill(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 200));
      expect(() => process.kill(pid, 0)).not.toThrow(); // still in the process table...
      expect(isRunning(pid)).toBe(false); // ...but not running
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('is false for a pid that does not exist', () => {
    expect(isRunning(2 ** 22 + 1)).toBe(false);
  });
});

describe('lock holder liveness (isAlive, pidExists)', () => {
  it('takes a zombie lock holder for dead, so its stale lock is taken over', async () => {
    const { parent, pid } = await unreapingParentWithChild();
    try {
      const holder = { pid, startTicks: processStartTicks(pid) };
      expect(isAlive(holder)).toBe(true);
      process.kill(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 200));
      expect(pidExists(pid)).toBe(false);
      expect(isAlive(holder)).toBe(false);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});

/**
 * A parent that never reaps and its one child. The parent is `sh` that has exec'd `sleep`: only once the exec
 * is done (its command line reads `sleep`) is the child looked up and may be killed. Before that, the shell
 * itself may still reap a dead child between commands, which made this test flaky on a loaded machine.
 */
async function unreapingParentWithChild(): Promise<{ parent: ChildProcess; pid: number }> {
  const parent = spawn('sh', ['-c', 'sleep 30 & exec sleep 30'], { stdio: 'ignore' });
  const ppid = parent.pid!;
  for (let tries = 0; tries < 500; tries++) {
    const argv0 = readFileSync(`/proc/${ppid}/cmdline`, 'utf8').split('\0')[0];
    const children = readFileSync(`/proc/${ppid}/task/${ppid}/children`, 'utf8').trim();
    if (argv0 === 'sleep' && children) return { parent, pid: Number(children.split(' ')[0]) };
    await new Promise((r) => setTimeout(r, 10));
  }
  parent.kill('SIGKILL');
  throw new Error("the test parent never exec'd sleep with its background child");
}
