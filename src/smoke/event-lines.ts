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
  serverSeen: EventLine[];
  /** Client migrations whose server_cid change the server reported too. */
  matched: Array<{ client: EventLine; server: EventLine }>;
  unmatched: EventLine[];
  distinctLocalHosts: string[];
}

export function matchMigrations(clientLines: string[], serverLines: string[]): MigrationMatch {
  const client = clientLines.map(parseEventLine).filter((e): e is EventLine => e?.kind === 'MIGRATION');
  const server = serverLines.map(parseEventLine).filter((e): e is EventLine => e?.kind === 'PEER_MIGRATION');
  const clientOk = client.filter((e) => e.fields.result === 'ok');
  const matched: MigrationMatch['matched'] = [];
  const unmatched: EventLine[] = [];
  for (const migration of clientOk) {
    const peer = server.find((s) => s.fields.server_cid === migration.fields.server_cid && hostOf(s.fields.to) === hostOf(migration.fields.to));
    if (peer) matched.push({ client: migration, server: peer });
    else unmatched.push(migration);
  }
  const hosts = new Set(clientOk.flatMap((e) => [hostOf(e.fields.from), hostOf(e.fields.to)]).filter((h): h is string => !!h));
  return {
    clientOk,
    clientFailed: client.filter((e) => e.fields.result !== 'ok'),
    serverSeen: server,
    matched,
    unmatched,
    distinctLocalHosts: [...hosts].sort(),
  };
}
