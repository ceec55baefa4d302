import type { LogFile } from '../process/log-file.js';
import { startBackground, type Background } from '../process/background.js';
import type { CapturePoint } from './topology.js';

/** A running tcpdump on one link, writing every UDP packet to a pcap file. */
export interface Capture {
  point: CapturePoint;
  pcap: string;
  /** Stops tcpdump (SIGTERM: it flushes and closes the file) and returns its "N packets captured" line. */
  stop(): Promise<string | undefined>;
}

export async function startCapture(point: CapturePoint, pcap: string, options: { log?: LogFile; signal?: AbortSignal }): Promise<Capture> {
  // --immediate-mode: libpcap hands each packet over at once instead of in blocks of the kernel's ring
  // buffer, which it flushes only when full or after a second; without it, a stop loses the last
  // block (seen: the last 0.4 s of a capture). -U: write each packet at once, so a stop loses nothing
  // either. -Z root: Debian's tcpdump would otherwise drop to the tcpdump user and fail to write into
  // a root-owned report directory.
  const tcpdump: Background = startBackground(
    `tcpdump ${point.link}`,
    'ip',
    ['netns', 'exec', point.ns, 'tcpdump', '-i', point.iface, '-n', '--immediate-mode', '-U', '-Z', 'root', '-w', pcap, 'udp'],
    options,
  );
  await tcpdump.waitForLine(/listening on/, 5000);
  return {
    point,
    pcap,
    async stop() {
      await tcpdump.stop();
      return tcpdump.lines.find((l) => /packets captured/.test(l));
    },
  };
}
