import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { countSockets, sampleSockets } from '../../../src/smoke/sockets.js';

const bind = () =>
  new Promise<ReturnType<typeof createSocket>>((resolve) => {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });

describe('UDP socket counting from /proc/<pid>/fd and /proc/<pid>/net/udp', () => {
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

describe('only UDP sockets count', () => {
  it('a TCP listener and a UNIX socket leave the count alone', async () => {
    const net = await import('node:net');
    const before = (await countSockets(process.pid))!;
    const tcp = net.createServer();
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const udp = await bind();
    expect(await countSockets(process.pid)).toBe(before + 1);
    await new Promise<void>((resolve) => udp.close(resolve));
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
  });

  it('a child spawned with piped stdio (UNIX socketpairs) has no UDP sockets', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn('sleep', ['5'], { stdio: 'pipe' });
    await new Promise((r) => setTimeout(r, 100));
    expect(await countSockets(child.pid!)).toBe(0);
    child.kill();
  });
});
