import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { countSockets, sampleSockets } from '../../src/smoke/sockets.js';

const bind = () =>
  new Promise<ReturnType<typeof createSocket>>((resolve) => {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });

describe('socket counting from /proc/<pid>/fd', () => {
  it('sees a socket this process opens, and no longer after it is closed', async () => {
    const before = (await countSockets(process.pid))!;
    const socket = await bind();
    expect(await countSockets(process.pid)).toBe(before + 1);
    await new Promise<void>((resolve) => socket.close(resolve));
    expect(await countSockets(process.pid)).toBe(before);
  });

  it('a sampler records the most sockets held at once', async () => {
    const sampler = sampleSockets(process.pid, 10);
    await new Promise((r) => setTimeout(r, 40));
    const sockets = await Promise.all([bind(), bind(), bind()]);
    await new Promise((r) => setTimeout(r, 60));
    for (const s of sockets) await new Promise<void>((resolve) => s.close(resolve));
    const result = await sampler.stop();
    expect(result.samples).toBeGreaterThan(3);
    expect(result.max - Math.min(...result.seen)).toBe(3);
  });

  it('returns undefined for a process that does not exist', async () => {
    expect(await countSockets(2 ** 22 + 17)).toBeUndefined();
  });
});
