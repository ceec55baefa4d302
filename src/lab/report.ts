import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { median, quantile } from '../util/stats.js';
import { OBSERVER_MODELS } from './linking.js';
import { goodputSpec, modelsSpec, perPathSpec, renderSvg, tookSpec } from './plots.js';
import type { LabReport } from './types.js';

/** What the server sees, said once in the report and in docs/lab.md: it is the connection's peer, not an observer. */
export const SERVER_ENDPOINT_CAVEAT =
  "The QUIC server itself links every migration: it is the connection's other end and must know a moved connection to keep it (its PEER_MIGRATION lines are that link). That is by design, not a finding, and no score here counts it; the observers are the capture points on the network.";

/** report.json (the data, schema in docs/lab.md) and report.html (one self-contained page with inline SVG plots). */
export async function writeReport(report: LabReport, dir: string): Promise<{ json: string; html: string }> {
  const json = path.join(dir, 'report.json');
  const html = path.join(dir, 'report.html');
  await writeJsonAtomic(json, report);
  await writeFileAtomic(html, await reportHtml(report));
  return { json, html };
}

const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

const table = (head: string[], rows: unknown[][]) =>
  `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;

export function summaryLines(r: LabReport): string[] {
  const ok = r.migrations.filter((m) => m.result === 'ok');
  const took = ok.map((m) => m.tookMs).sort((a, b) => a - b);
  const clients = r.clients.length;
  const completed = r.clients.filter((c) => c.requestSucceeded).length;
  return [
    `${r.scenario} (${r.mode}) on ${r.artifact.name}${r.topology.wireguard ? `, WireGuard: ${r.topology.wireguard}` : ''}${clients > 1 ? `, ${clients} clients` : ''}`,
    r.headline,
    `migrations: ${ok.length} ok / ${r.migrations.length} attempted, ${r.migrations.filter((m) => m.seenByServer).length} seen by the server (${r.serverPathChanges} server path change(s))`,
    `took_ms: median ${median(took) ?? '-'}, p90 ${quantile(took, 0.9) ?? '-'}; download ${
      clients > 1
        ? `completed by ${completed} of ${clients} clients`
        : r.client.requestSucceeded
          ? 'completed'
          : `did not complete (exit ${r.client.exitCode})`
    }, mean goodput ${r.goodput.meanMbit} Mbit/s`,
    ...r.observers.map(
      (o) =>
        `observer ${o.link}: ${o.fourTuples.length} 4-tuple(s), ${o.dcids.length} DCID(s), ${o.packets} packets, ${(o.bytes / 1e6).toFixed(2)} MB`,
    ),
    `CID reuse across paths: ${r.cidReuse.length ? r.cidReuse.length : 'none'}`,
    `host: ${r.host.cpus} CPU(s), ${r.host.busy === null ? 'load not measured' : `${Math.round(r.host.busy * 100)}% busy during the download`}${r.host.limited ? ' (the host was the limit)' : ''}`,
  ];
}

const pct = (x: number | null) => (x === null ? '-' : x.toFixed(2));

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
.plot{margin:12px 0}pre{background:#f6f6f6;padding:8px}`;

export async function reportHtml(r: LabReport): Promise<string> {
  const [models, goodput, perPath, took] = await Promise.all([
    renderSvg(modelsSpec(r)),
    renderSvg(goodputSpec(r)),
    renderSvg(perPathSpec(r)),
    renderSvg(tookSpec(r)),
  ]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Migration lab: ${esc(r.scenario)} (${esc(r.mode)})</title><style>${STYLE}</style></head>
<body>
<h1>Migration lab: ${esc(r.scenario)} (${esc(r.mode)})</h1>
<pre>${summaryLines(r).map(esc).join('\n')}</pre>
${table(['artifact', 'fingerprint', 'build', 'backend', 'src', 'quiche', 'patchset'], [[r.artifact.name, r.artifact.fingerprint.slice(0, 16), r.artifact.build, r.artifact.backend, r.artifact.revisions.src.slice(0, 12), r.artifact.revisions.quiche.slice(0, 12), r.artifact.patchset]])}
<h2>Who can link the paths</h2>
<p>Each observer model links flows (QUIC 4-tuples) by its rule; the lab knows the truth (every client's
<code>MIGRATION</code> lines), so each model gets a precision (links that joined one client's flows) and a recall
(migrations linked, of all successful ones) at each observer.</p>
<ul>${OBSERVER_MODELS.map((m) => `<li><b>${esc(m)}</b>: ${esc(r.linking.rules[m])}</li>`).join('')}</ul>
<div class="plot">${models}</div>
${table(
  ['observer', 'where it sits', 'QUIC 4-tuples'],
  r.linking.observers.map((o) => [o.link, o.sits, o.flows]),
)}
${table(
  ['model', 'observer', 'links', 'correct', 'precision', 'migrations', 'both 4-tuples seen', 'linked', 'recall', 'candidates per flow'],
  r.linking.scores.map((s) => [
    s.model,
    s.observer,
    s.links,
    s.correct,
    pct(s.precision),
    s.migrations,
    s.visible,
    s.linked,
    pct(s.recall),
    s.candidates ?? '-',
  ]),
)}
<p>${esc(SERVER_ENDPOINT_CAVEAT)}</p>
<h2>Run</h2>
${table(
  ['interval', 'quiet', 'jitter', 'clients', 'rate', 'response', 'paths', 'WireGuard', 'netem'],
  [
    [
      `${r.settings.intervalMs} ms`,
      `${r.settings.quietMs} ms`,
      `0..${r.settings.jitterMs} ms`,
      r.settings.clients > 1 ? `${r.settings.clients} (seed ${r.settings.seed})` : '1',
      `${Object.entries(r.topology.shaping.rates)
        .map(([link, rate]) => `${link} ${rate}`)
        .join(', ')} Mbit/s (tbf)`,
      `${(r.settings.responseBytes / 1e6).toFixed(1)} MB${r.settings.clients > 1 ? ' each' : ''}`,
      r.topology.paths
        .filter((p) => p.client === 0)
        .map((p) => `${p.name} (${p.localAddress})`)
        .join(', ') + (r.settings.clients > 1 ? ' (client 0)' : ''),
      r.topology.wireguard ?? '-',
      r.topology.shaping.netem,
    ],
  ],
)}
${
  r.clients.length > 1
    ? `<h2>Clients</h2>${table(
        ['client', 'addresses', 'phase', 'exit', 'download', 'migrations ok / attempted'],
        r.clients.map((c) => [
          c.index,
          c.addresses.join(', '),
          `${c.phaseMs} ms`,
          c.exitCode,
          c.requestSucceeded ? 'completed' : 'did not complete',
          `${r.migrations.filter((m) => m.client === c.index && m.result === 'ok').length} / ${r.migrations.filter((m) => m.client === c.index).length}`,
        ]),
      )}`
    : ''
}
<h2>Goodput over time</h2><div class="plot">${goodput}</div>
<h2>Bytes per path</h2><div class="plot">${perPath}</div>
<h2>Migration latency</h2><div class="plot">${took}</div>
<h2>Migrations</h2>
${table(
  ['client', '#', 't_ms', 'from', 'to', 'path', 'server CID', 'result', 'took_ms', 'seen by server'],
  r.migrations.map((m) => [
    m.client,
    m.seq,
    m.t_ms,
    m.from,
    m.to,
    `${m.fromPath} → ${m.toPath}`,
    `${m.serverCid.old} → ${m.serverCid.new}`,
    m.reason ? `${m.result} (${m.reason})` : m.result,
    m.tookMs,
    m.seenByServer ? 'yes' : 'no',
  ]),
)}
<h2>Observers</h2>
${table(
  ['link', 'captured at', '4-tuples', 'DCIDs', 'packets', 'bytes'],
  r.observers.map((o) => [o.link, o.capturedAt, o.fourTuples.length, o.dcids.length, o.packets, o.bytes]),
)}
${r.observers
  .map(
    (o) =>
      `<h3>${esc(o.link)}</h3>${table(
        ['client', 'server', 'kind', 'packets', 'bytes', 'first ms', 'last ms', 'DCIDs'],
        o.fourTuples.map((t) => [t.client, t.server, t.kind, t.packets, t.bytes, t.firstMs, t.lastMs, t.dcids.join(' ') || '-']),
      )}`,
  )
  .join('\n')}
<h2>Each migration: who linked it</h2>
${table(
  [
    'client',
    '#',
    'identifier shared (CIDs pooled)',
    'CIDs checked',
    'observers seeing both 4-tuples',
    ...OBSERVER_MODELS.map((m) => `linked by ${m} at`),
  ],
  r.linkable.map((l) => [
    l.client,
    l.seq,
    l.by.join(', ') || '-',
    l.cidChecked ? 'yes' : 'no',
    l.observersSeeingBoth.join(', ') || '-',
    ...OBSERVER_MODELS.map((m) => l.linkedBy[m].join(', ') || '-'),
  ]),
)}
<p>CID reuse across paths: ${r.cidReuse.length ? esc(r.cidReuse.map((c) => `${c.dcid} on ${c.fourTuples.join(', ')}`).join('; ')) : 'none'}</p>
${r.notes.length ? `<h2>Notes</h2><ul>${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}
