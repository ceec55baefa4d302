import { describe, expect, it } from 'vitest';
import { startBackground } from '../../../src/process/background.js';
import { exec } from '../../../src/process/exec.js';

describe('startBackground', () => {
  it('keeps the lines, waits for one, and stop() ends the process group', async () => {
    const server = startBackground('sh', 'sh', ['-c', 'echo starting; echo listening on 4433; exec sleep 30']);
    expect(await server.waitForLine(/listening on/, 5000)).toBe('listening on 4433');
    expect(server.exited()).toBe(false);
    expect(server.ended()).toBeUndefined();
    await server.stop();
    expect(server.exited()).toBe(true);
    expect(server.lines).toEqual(['starting', 'listening on 4433']);
  });

  it('reports how a process that ended by itself ended, and fails a wait for a line it never printed', async () => {
    const failing = startBackground('sh', 'sh', ['-c', 'echo no certificate; exit 3']);
    await expect(failing.waitForLine(/listening on/, 5000)).rejects.toMatchObject({
      failureClass: 'tool',
      message: 'sh exited before it was ready.',
      tail: ['no certificate'],
    });
    expect(failing.ended()).toEqual({ exitCode: 3 });
    expect((await failing.stop())?.exitCode).toBe(3);
  });

  it('runs through the exec it is given (a stage passes its ctx.exec)', async () => {
    const seen: string[] = [];
    const server = startBackground('echo', 'echo', ['hi'], {
      exec: (file, args, options) => {
        seen.push([file, ...args].join(' '));
        return exec(file, args, options);
      },
    });
    await server.waitForLine(/hi/, 5000);
    await server.stop();
    expect(seen).toEqual(['echo hi']);
  });
});
