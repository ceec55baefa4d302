import { median } from '../util/stats.js';
import { endpointsOf, hostOf, portOf, type Packet } from './observer.js';

/**
 * Who could link a migration's new path to its old one, under which observer model, and how well
 * (docs/lab.md, "Observer models"). Pure: the packets one capture point saw in, links out, scored
 * against the truth the lab has and an observer lacks (each client's MIGRATION lines).
 *
 * A flow is one QUIC 4-tuple as a capture point saw it (client endpoint, server endpoint): the
 * client takes a new port at every migration, so a 4-tuple is never used again after the client left
 * it. Each model links a flow to at most one predecessor; a link is correct when both flows belong to
 * the same client's connection, and a migration is linked when its old 4-tuple is linked to its new one.
 */

export const OBSERVER_MODELS = ['identifiers', 'timing', 'timing+volume'] as const;
export type ObserverModel = (typeof OBSERVER_MODELS)[number];

/** Each model's rule, as the report and docs/lab.md print it. */
export function modelRule(model: ObserverModel, o: LinkingOptions): string {
  switch (model) {
    case 'identifiers':
      return 'a flow is linked to the latest earlier flow with which it shares an identifier: a short-header destination connection ID, the client IP address, or the client port';
    case 'timing':
      return `a flow is linked to the flow to the same server endpoint whose last packet is nearest its first packet, if no more than ${o.windowMs} ms apart (before it, or after it: an overlap); nearest pairs first, each flow in at most one link each way`;
    case 'timing+volume':
      return `as timing, among the candidates whose rate over the last ${o.volumeSpanMs} ms and the first ${o.volumeSpanMs} ms across the switch are within a factor of ${o.rateFactor}, and whose median packet sizes there differ by at most ${Math.round(o.sizeTolerance * 100)}%`;
  }
}

export interface LinkingOptions {
  /** timing: the largest gap (either way) between one flow's last packet and another's first. */
  windowMs: number;
  /** timing+volume: how much of the old flow's end and of the new flow's start is compared. */
  volumeSpanMs: number;
  /** timing+volume: rates within this factor of each other match. */
  rateFactor: number;
  /** timing+volume: median packet sizes within this fraction of the larger one match. */
  sizeTolerance: number;
}

export const LINKING_DEFAULTS: LinkingOptions = { windowMs: 100, volumeSpanMs: 500, rateFactor: 2, sizeTolerance: 0.2 };

/** What an observer can measure about one end of a flow. */
export interface Volume {
  /** Bytes per second (IP, both directions) over the span. */
  bytesPerSecond: number;
  /** Median IP packet size over the span. */
  medianSize: number;
}

export interface Flow {
  /** The client endpoint (ip:port) and the server endpoint. */
  client: string;
  server: string;
  /** ms since the run's first QUIC packet. */
  firstMs: number;
  lastMs: number;
  packets: number;
  bytes: number;
  /** Short-header destination connection IDs seen on it. */
  dcids: string[];
  head: Volume;
  tail: Volume;
}

function volumeOf(packets: Array<{ ms: number; bytes: number }>): Volume {
  const bytes = packets.reduce((sum, p) => sum + p.bytes, 0);
  const spanMs = packets.length > 1 ? packets[packets.length - 1]!.ms - packets[0]!.ms : 0;
  return {
    // One packet has no rate; a burst within a millisecond is counted over one.
    bytesPerSecond: packets.length > 1 ? Math.round((bytes * 1000) / Math.max(1, spanMs)) : 0,
    medianSize: median(packets.map((p) => p.bytes).sort((a, b) => a - b)) ?? 0,
  };
}

/** The QUIC flows of one capture point, with what an observer can measure at their ends. */
export function quicFlows(packets: Packet[], t0: number, quicPort: number, spanMs: number): Flow[] {
  const byTuple = new Map<string, { client: string; server: string; list: Array<{ ms: number; bytes: number }>; dcids: Set<string> }>();
  for (const p of packets) {
    if (p.srcPort !== quicPort && p.dstPort !== quicPort) continue;
    const ends = endpointsOf(p, [quicPort]);
    const key = `${ends.client} ${ends.server}`;
    let entry = byTuple.get(key);
    if (!entry) byTuple.set(key, (entry = { client: ends.client, server: ends.server, list: [], dcids: new Set() }));
    entry.list.push({ ms: p.epochMs - t0, bytes: p.ipBytes });
    if (p.shortHeader && p.dcid) entry.dcids.add(p.dcid);
  }
  return [...byTuple.values()]
    .map(({ client, server, list, dcids }) => {
      list.sort((a, b) => a.ms - b.ms);
      const first = list[0]!.ms;
      const last = list[list.length - 1]!.ms;
      return {
        client,
        server,
        firstMs: Math.round(first * 10) / 10,
        lastMs: Math.round(last * 10) / 10,
        packets: list.length,
        bytes: list.reduce((sum, p) => sum + p.bytes, 0),
        dcids: [...dcids],
        head: volumeOf(list.filter((p) => p.ms <= first + spanMs)),
        tail: volumeOf(list.filter((p) => p.ms >= last - spanMs)),
      };
    })
    .sort((a, b) => a.firstMs - b.firstMs || a.client.localeCompare(b.client));
}

export interface Link {
  /** Client endpoints of the earlier and the later flow. */
  from: string;
  to: string;
  /** The later flow's first packet minus the earlier flow's last, ms (negative: they overlap). */
  gapMs: number;
  /** identifiers: what they share. */
  by?: string[];
}

function identifierLinks(flows: Flow[]): Link[] {
  const links: Link[] = [];
  for (const later of flows) {
    let best: { flow: Flow; by: string[] } | undefined;
    for (const earlier of flows) {
      if (earlier === later || earlier.firstMs >= later.firstMs) continue;
      const by: string[] = [];
      if (earlier.dcids.some((d) => later.dcids.includes(d))) by.push('connection-id');
      if (hostOf(earlier.client) === hostOf(later.client)) by.push('client-address');
      if (portOf(earlier.client) === portOf(later.client)) by.push('client-port');
      if (by.length && (!best || earlier.lastMs > best.flow.lastMs)) best = { flow: earlier, by };
    }
    if (best)
      links.push({
        from: best.flow.client,
        to: later.client,
        gapMs: Math.round((later.firstMs - best.flow.lastMs) * 10) / 10,
        by: best.by,
      });
  }
  return links;
}

const volumesMatch = (a: Volume, b: Volume, o: LinkingOptions) => {
  if (a.bytesPerSecond <= 0 || b.bytesPerSecond <= 0) return false;
  const ratio = Math.max(a.bytesPerSecond, b.bytesPerSecond) / Math.min(a.bytesPerSecond, b.bytesPerSecond);
  return ratio <= o.rateFactor && Math.abs(a.medianSize - b.medianSize) <= o.sizeTolerance * Math.max(a.medianSize, b.medianSize);
};

/** The timing models: candidates within the window, nearest first, each flow at most once on each side. */
function timingLinks(flows: Flow[], o: LinkingOptions, withVolume: boolean): { links: Link[]; candidates: Map<string, number> } {
  const pairs: Array<{ earlier: Flow; later: Flow; gap: number }> = [];
  const candidates = new Map<string, number>();
  for (const later of flows) {
    for (const earlier of flows) {
      if (earlier === later || earlier.server !== later.server || earlier.firstMs >= later.firstMs) continue;
      const gap = later.firstMs - earlier.lastMs;
      if (Math.abs(gap) > o.windowMs) continue;
      if (withVolume && !volumesMatch(earlier.tail, later.head, o)) continue;
      pairs.push({ earlier, later, gap });
      candidates.set(later.client, (candidates.get(later.client) ?? 0) + 1);
    }
  }
  pairs.sort((a, b) => Math.abs(a.gap) - Math.abs(b.gap) || a.later.firstMs - b.later.firstMs);
  const hasSuccessor = new Set<Flow>();
  const hasPredecessor = new Set<Flow>();
  const links: Link[] = [];
  for (const { earlier, later, gap } of pairs) {
    if (hasSuccessor.has(earlier) || hasPredecessor.has(later)) continue;
    hasSuccessor.add(earlier);
    hasPredecessor.add(later);
    links.push({ from: earlier.client, to: later.client, gapMs: Math.round(gap * 10) / 10 });
  }
  links.sort((a, b) => a.to.localeCompare(b.to));
  return { links, candidates };
}

export function linksOf(model: ObserverModel, flows: Flow[], o: LinkingOptions): { links: Link[]; candidates?: Map<string, number> } {
  if (model === 'identifiers') return { links: identifierLinks(flows) };
  return timingLinks(flows, o, model === 'timing+volume');
}

/** What the lab knows and an observer does not: whose each address is, and each client's moves. */
export interface Truth {
  /** Per client: its local IP addresses, and its successful migrations (endpoints ip:port, no interface). */
  clients: Array<{ addresses: string[]; migrations: Array<{ from: string; to: string }> }>;
}

export interface ModelScore {
  model: ObserverModel;
  observer: string;
  /** QUIC 4-tuples this observer saw. */
  flows: number;
  /** Links the model made, and how many of them joined two flows of the same client. */
  links: number;
  correct: number;
  /** Successful migrations (all clients), those whose old and new 4-tuple this observer saw, and those it linked. */
  migrations: number;
  visible: number;
  linked: number;
  /** correct / links (null: no link made); linked / migrations (null: no migration). */
  precision: number | null;
  recall: number | null;
  /** Timing models: mean number of candidate predecessors of a flow that had any (the set it picked from). */
  candidates: number | null;
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : null);

export function scoreLinks(
  model: ObserverModel,
  observer: string,
  flows: Flow[],
  result: { links: Link[]; candidates?: Map<string, number> },
  truth: Truth,
): ModelScore {
  const owner = (endpoint: string) => truth.clients.findIndex((c) => c.addresses.includes(hostOf(endpoint)));
  const seen = new Set(flows.map((f) => f.client));
  const linked = new Set(result.links.map((l) => `${l.from} ${l.to}`));
  const migrations = truth.clients.flatMap((c) => c.migrations);
  const correct = result.links.filter((l) => owner(l.from) >= 0 && owner(l.from) === owner(l.to)).length;
  const linkedCount = migrations.filter((m) => linked.has(`${m.from} ${m.to}`)).length;
  const counts = [...(result.candidates?.values() ?? [])];
  return {
    model,
    observer,
    flows: flows.length,
    links: result.links.length,
    correct,
    migrations: migrations.length,
    visible: migrations.filter((m) => seen.has(m.from) && seen.has(m.to)).length,
    linked: linkedCount,
    precision: ratio(correct, result.links.length),
    recall: ratio(linkedCount, migrations.length),
    candidates: result.candidates
      ? counts.length
        ? Math.round((counts.reduce((a, b) => a + b, 0) / counts.length) * 100) / 100
        : null
      : null,
  };
}

/** Each model at each observer, and the links behind the scores (for the per-migration table). */
export function linkObservers(
  observers: Array<{ link: string; flows: Flow[] }>,
  truth: Truth,
  o: LinkingOptions,
): { scores: ModelScore[]; links: Record<ObserverModel, Record<string, Link[]>> } {
  const scores: ModelScore[] = [];
  const links = Object.fromEntries(OBSERVER_MODELS.map((m) => [m, {}])) as Record<ObserverModel, Record<string, Link[]>>;
  for (const model of OBSERVER_MODELS) {
    for (const { link, flows } of observers) {
      const result = linksOf(model, flows, o);
      links[model][link] = result.links;
      scores.push(scoreLinks(model, link, flows, result, truth));
    }
  }
  return { scores, links };
}

/**
 * The observer that links most of the migrations under a model (then the more precise one): the
 * headline's. Ties keep the order of the capture points.
 */
export function bestObserver(scores: ModelScore[], model: ObserverModel): ModelScore | undefined {
  return scores
    .filter((s) => s.model === model)
    .reduce<ModelScore | undefined>((best, s) => {
      if (!best) return s;
      if (s.linked !== best.linked) return s.linked > best.linked ? s : best;
      return (s.precision ?? -1) > (best.precision ?? -1) ? s : best;
    }, undefined);
}
