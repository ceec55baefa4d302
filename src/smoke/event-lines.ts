/**
 * The migration patches print one flushed line per event with a stable prefix and key=value fields
 * (patches/README.md), e.g.
 *   MIGRATION seq=3 trigger=timer mode=hard from=127.0.0.1:41000 to=127.0.0.2:52011 server_cid=ab12->cd34 result=ok t_ms=1520 took_ms=3
 *   PEER_MIGRATION conn=ab12 from=127.0.0.1:41000 to=127.0.0.2:52011 type=IPV4_TO_IPV4_CHANGE server_cid=ab12->cd34 validated=yes
 */

export const EVENT_KINDS = [
  'MIGRATION',
  'MIGRATION_SUMMARY',
  'MIGRATION_DISABLED',
  'PEER_MIGRATION',
  'PEER_VALIDATED',
  'PEER_PATH_REVERTED',
  'PEER_MIGRATION_SUMMARY',
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface EventLine {
  kind: EventKind;
  fields: Record<string, string>;
  raw: string;
}

const LINE = new RegExp(`^(${EVENT_KINDS.join('|')})(?:\\s+(.*))?$`);

export function parseEventLine(line: string): EventLine | undefined {
  const m = LINE.exec(line.trim());
  if (!m) return undefined;
  const fields: Record<string, string> = {};
  for (const token of (m[2] ?? '').split(/\s+/).filter(Boolean)) {
    const eq = token.indexOf('=');
    if (eq > 0) fields[token.slice(0, eq)] = token.slice(eq + 1);
  }
  return { kind: m[1] as EventKind, fields, raw: line.trim() };
}

/** `127.0.0.2:52011%wg0` -> `127.0.0.2`; `[::1]:443` -> `::1`. */
export function hostOf(endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined;
  const withoutIface = endpoint.split('%')[0]!;
  const bracketed = /^\[([^\]]+)\]/.exec(withoutIface);
  if (bracketed) return bracketed[1];
  const colon = withoutIface.lastIndexOf(':');
  return colon > 0 && withoutIface.indexOf(':') === colon ? withoutIface.slice(0, colon) : withoutIface;
}

export interface MigrationMatch {
  clientOk: EventLine[];
  clientFailed: EventLine[];
  /** MIGRATION_DISABLED lines: the client gave up migrating. */
  clientDisabled: EventLine[];
  serverSeen: EventLine[];
  /** Client migrations whose server_cid change the server reported too; each server line used once. */
  matched: Array<{ client: EventLine; server: EventLine }>;
  unmatched: EventLine[];
  /** Client `result=ok` lines whose server_cid pair an earlier ok line already used (a reused pair). */
  duplicateClientPairs: EventLine[];
  /** Server PEER_MIGRATION lines repeating a pair already matched (e.g. after a PEER_PATH_REVERTED). */
  repeatedOnServer: EventLine[];
  /** Every PEER_PATH_REVERTED the server printed. */
  reverted: EventLine[];
  /** Client `result=ok` migrations the server reverted: the two sides tell different stories. */
  revertedClientOk: Array<{ client: EventLine; revert: EventLine }>;
  distinctLocalHosts: string[];
}

/** `127.0.0.2:52011%wg0` -> `127.0.0.2:52011`: the server prints no interface. */
const endpointOf = (endpoint: string | undefined) => endpoint?.split('%')[0];

/**
 * Pairs the client's MIGRATION lines with the server's PEER_MIGRATION lines by server connection ID
 * pair (`server_cid=OLD->NEW`) and destination host. A migration moves to a connection ID never used
 * before, so a pair must be unique: a pair matches at most once on each side, and a repeat is reported
 * instead of counted. A server PEER_PATH_REVERTED undoes the PEER_MIGRATION before it that moved to its
 * `from` address; when the client reported that move as ok, the two sides disagree.
 */
export function matchMigrations(clientLines: string[], serverLines: string[]): MigrationMatch {
  const clientEvents = clientLines.map(parseEventLine).filter((e): e is EventLine => e !== undefined);
  const serverEvents = serverLines.map(parseEventLine).filter((e): e is EventLine => e !== undefined);
  const client = clientEvents.filter((e) => e.kind === 'MIGRATION');
  const server = serverEvents.filter((e) => e.kind === 'PEER_MIGRATION');
  const clientOk = client.filter((e) => e.fields.result === 'ok');

  const usedServerLines = new Set<EventLine>();
  const matchedPairs = new Set<string>();
  const matched: MigrationMatch['matched'] = [];
  const unmatched: EventLine[] = [];
  const duplicateClientPairs: EventLine[] = [];
  for (const migration of clientOk) {
    const pair = migration.fields.server_cid;
    if (pair === undefined || matchedPairs.has(pair)) {
      duplicateClientPairs.push(migration);
      continue;
    }
    const peer = server.find(
      (s) => !usedServerLines.has(s) && s.fields.server_cid === pair && hostOf(s.fields.to) === hostOf(migration.fields.to),
    );
    if (!peer) {
      unmatched.push(migration);
      continue;
    }
    usedServerLines.add(peer);
    matchedPairs.add(pair);
    matched.push({ client: migration, server: peer });
  }
  const repeatedOnServer = server.filter((s) => !usedServerLines.has(s) && matchedPairs.has(s.fields.server_cid ?? ''));

  const reverted = serverEvents.filter((e) => e.kind === 'PEER_PATH_REVERTED');
  const revertedClientOk: MigrationMatch['revertedClientOk'] = [];
  for (const revert of reverted) {
    const before = serverEvents.slice(0, serverEvents.indexOf(revert));
    const undone = before.reverse().find((e) => e.kind === 'PEER_MIGRATION' && endpointOf(e.fields.to) === endpointOf(revert.fields.from));
    const clientSide = undone && clientOk.find((c) => c.fields.server_cid === undone.fields.server_cid);
    if (clientSide) revertedClientOk.push({ client: clientSide, revert });
  }

  const hosts = new Set(clientOk.flatMap((e) => [hostOf(e.fields.from), hostOf(e.fields.to)]).filter((h): h is string => !!h));
  return {
    clientOk,
    clientFailed: client.filter((e) => e.fields.result !== 'ok'),
    clientDisabled: clientEvents.filter((e) => e.kind === 'MIGRATION_DISABLED'),
    serverSeen: server,
    matched,
    unmatched,
    duplicateClientPairs,
    repeatedOnServer,
    reverted,
    revertedClientOk,
    distinctLocalHosts: [...hosts].sort(),
  };
}
