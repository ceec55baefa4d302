import { readFile } from 'node:fs/promises';
import os from 'node:os';

/**
 * How busy the host's CPUs were while a lab run's programs ran, from /proc/stat: with many clients on
 * two cores the clients, the server, tcpdump and wireguard-go compete, migrations fall behind their
 * schedule and rates drop for reasons that have nothing to do with migration. The report says so.
 */

/** From this mean share of all CPUs busy during the download, the run counts as limited by the host. */
export const HOST_LIMIT_BUSY = 0.85;

interface CpuTimes {
  busy: number;
  total: number;
}

async function cpuTimes(): Promise<CpuTimes | undefined> {
  const line = (await readFile('/proc/stat', 'utf8').catch(() => '')).split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user! + nice! + system! + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return { busy, total: busy + idle! + (iowait ?? 0) };
}

const share = (from: CpuTimes, to: CpuTimes) => (to.total > from.total ? (to.busy - from.busy) / (to.total - from.total) : null);
const round = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);

export interface HostLoadSampler {
  stop(): Promise<{ cpus: number; busy: number | null; peak: number | null }>;
}

/** Starts sampling now; stop() gives the mean over the whole time and the busiest `everyMs` window. */
export async function sampleHostLoad(everyMs = 500): Promise<HostLoadSampler> {
  const start = await cpuTimes();
  let last = start;
  let peak: number | null = null;
  const timer = setInterval(() => {
    void cpuTimes().then((now) => {
      if (!now || !last) return;
      const s = share(last, now);
      if (s !== null) peak = Math.max(peak ?? 0, s);
      last = now;
    });
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      const end = await cpuTimes();
      return { cpus: os.cpus().length, busy: round(start && end ? share(start, end) : null), peak: round(peak) };
    },
  };
}
