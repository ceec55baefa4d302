/**
 * The scaling model of a distributed standalone build (docs/distributed.md, "Scaling model"), from
 * measured per-step costs. Pure: bench/distcc.bench.ts measures the costs and checks the model against
 * the point it can measure (one client core plus one worker core).
 *
 * A build is a sequence of phases (BoringSSL, abseil, protobuf, quiche). Each phase has serial steps that
 * never leave this machine (CMake's configure, protoc, links and archives, the install) and M translation
 * units. A unit compiled here costs `full` seconds of a client core; one sent to a worker costs the
 * client `client` seconds (preprocessing, compression, distcc's own work) and the worker `remote` seconds
 * (compiling the preprocessed text). With C client cores (also compiling: localhost is in the list) and
 * N worker cores, the best steady state sends r units/s out and compiles l units/s here:
 *
 *   r = min(N / remote, C / client)        the workers' rate, or what the client can feed them
 *   l = (C - r * client) / full            what is left of the client's cores compiles here
 *
 * and a phase takes serial + M / (r + l) + tail, the tail being the last unit's latency. The build stops
 * scaling at N* = C * remote / client workers: past it the client's preprocessing is the bottleneck and
 * the time tends to serial + M * client / C (Amdahl: the serial steps never shrink).
 */

export interface PhaseCosts {
  name: string;
  /** Translation units. */
  units: number;
  /** Seconds per unit compiled here from source (mean). */
  full: number;
  /** Seconds of client time per unit sent out (preprocessing + distcc + compression). */
  client: number;
  /** Seconds of worker time per unit (compiling the preprocessed text). */
  remote: number;
  /** Seconds of steps that stay here and run alone (configure, protoc, links, archives, install). */
  serial: number;
}

export interface Cluster {
  /** Client cores (they preprocess, and compile when they have time left). */
  clientCores: number;
  /** Worker cores (one compile each at a time). */
  workers: number;
}

export interface PhasePrediction {
  name: string;
  seconds: number;
  /** Units per second sent out and compiled here. */
  remoteRate: number;
  localRate: number;
  /** What limits the compile part: the workers or the client's preprocessing. */
  bound: 'workers' | 'client' | 'local';
}

export function predictPhase(phase: PhaseCosts, cluster: Cluster): PhasePrediction {
  const { clientCores: c, workers: n } = cluster;
  const workerRate = n > 0 ? n / phase.remote : 0;
  const feedRate = c / phase.client;
  const remoteRate = Math.min(workerRate, feedRate);
  const localRate = Math.max(0, (c - remoteRate * phase.client) / phase.full);
  const rate = remoteRate + localRate;
  const tail = n > 0 ? Math.min(phase.full, phase.client + phase.remote) : phase.full;
  const compile = phase.units > 0 ? phase.units / rate + tail * Math.min(1, phase.units / Math.max(1, c + n)) : 0;
  return {
    name: phase.name,
    seconds: phase.serial + compile,
    remoteRate,
    localRate,
    bound: n === 0 ? 'local' : workerRate <= feedRate ? 'workers' : 'client',
  };
}

export interface BuildPrediction {
  workers: number;
  seconds: number;
  phases: PhasePrediction[];
  /** Seconds of the serial steps alone (the floor no number of workers goes below). */
  serial: number;
}

export function predictBuild(phases: readonly PhaseCosts[], cluster: Cluster): BuildPrediction {
  const predicted = phases.map((p) => predictPhase(p, cluster));
  return {
    workers: cluster.workers,
    seconds: predicted.reduce((sum, p) => sum + p.seconds, 0),
    phases: predicted,
    serial: phases.reduce((sum, p) => sum + p.serial, 0),
  };
}

/** Worker cores past which more workers stop helping: the client's preprocessing is the limit. */
export function saturationWorkers(phases: readonly PhaseCosts[], clientCores: number): number {
  const units = phases.reduce((s, p) => s + p.units, 0);
  const client = phases.reduce((s, p) => s + p.units * p.client, 0) / Math.max(1, units);
  const remote = phases.reduce((s, p) => s + p.units * p.remote, 0) / Math.max(1, units);
  return (clientCores * remote) / client;
}
