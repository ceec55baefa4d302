import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isRunning } from '../../../src/process/liveness.js';
import { isAlive, pidExists, processStartTicks } from '../../../src/process/proc.js';

describe('isRunning', () => {
  it('is true for a live process and for this one', () => {
    expect(isRunning(process.pid)).toBe(true);
  });

  it('is false for a zombie: a killed child nobody has reaped yet', async () => {
    // `sh` execs sleep in the background and waits for a signal without reaping: the killed sleep stays a zombie.
    const parent = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString()))));
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
    const parent = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(d.toString()))));
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
