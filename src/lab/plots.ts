import type { TopLevelSpec } from 'vega-lite';
import { OBSERVER_MODELS, type ObserverModel } from './linking.js';
import type { LabReport } from './types.js';

/**
 * The report's plots as Vega-Lite specs, compiled to Vega and rendered to SVG in Node by vega's
 * headless View (no canvas, no browser), so report.html needs no script and no network.
 */

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // Loaded here, not at the top: vega and vega-lite take ~0.5 s to load, and every CLI command would pay it.
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const WIDTH = 720;

export function goodputSpec(report: LabReport): TopLevelSpec {
  const bars = report.goodput.bins.map((b) => ({ t: b.t_ms / 1000, path: b.path, mbit: (b.bytesPerSecond * 8) / 1e6 }));
  const marks = report.migrations.map((m) => ({
    t: (m.serverSawNewPathMs ?? m.t_ms) / 1000,
    label: `#${m.seq} → ${m.toPath}${m.result === 'ok' ? '' : ` (${m.result})`}`,
    result: m.result,
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Goodput at the client (per 100 ms) by active path; rules: migrations',
    width: WIDTH,
    height: 260,
    layer: [
      {
        data: { values: bars },
        mark: { type: 'bar', width: { band: 1 } },
        encoding: {
          x: { field: 't', type: 'quantitative', title: 'time since first packet (s)', bin: { step: report.goodput.binMs / 1000 } },
          y: { field: 'mbit', type: 'quantitative', title: 'Mbit/s', stack: 'zero', aggregate: 'sum' },
          color: { field: 'path', type: 'nominal', title: 'path' },
        },
      },
      {
        data: { values: marks },
        mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1.5 },
        encoding: {
          x: { field: 't', type: 'quantitative' },
          color: { value: 'black' },
          opacity: { condition: { test: "datum.result === 'ok'", value: 0.8 }, value: 0.3 },
        },
      },
    ],
  };
}

export function perPathSpec(report: LabReport): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Bytes per path (both directions, client-side links)',
    width: WIDTH,
    height: { step: 28 },
    data: { values: report.perPathBytes.map((p) => ({ path: p.path, mb: p.bytes / 1e6 })) },
    mark: 'bar',
    encoding: {
      y: { field: 'path', type: 'nominal', sort: '-x', title: null },
      x: { field: 'mb', type: 'quantitative', title: 'MB' },
      color: { field: 'path', type: 'nominal', legend: null },
    },
  };
}

export function tookSpec(report: LabReport): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Migration latency (took_ms) distribution',
    width: WIDTH,
    height: 180,
    data: { values: report.migrations.map((m) => ({ took: m.tookMs, result: m.result })) },
    mark: 'bar',
    encoding: {
      x: { field: 'took', type: 'quantitative', bin: { maxbins: 20 }, title: 'took_ms' },
      y: { aggregate: 'count', type: 'quantitative', title: 'migrations' },
      color: { field: 'result', type: 'nominal' },
    },
  };
}

/** One colour per observer model, the same in every plot of the report and the sweep. */
// Not among vega's default category colours (the goodput plot's paths and clients), so a screenshot can tell them apart.
const MODEL_COLORS: Record<ObserverModel, string> = { identifiers: '#2ca02c', timing: '#d62728', 'timing+volume': '#9467bd' };
export const modelColorScale = { domain: [...OBSERVER_MODELS], range: OBSERVER_MODELS.map((m) => MODEL_COLORS[m]) };

/** Precision and recall of each model at each observer (a missing bar: no link made, or no migration). */
export function modelsSpec(report: LabReport): TopLevelSpec {
  const values = report.linking.scores.flatMap((s) =>
    (['precision', 'recall'] as const).flatMap((metric) =>
      s[metric] === null ? [] : [{ observer: s.observer, model: s.model, metric, value: s[metric] }],
    ),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `Who links the migrations: precision and recall per observer model and observer (${report.settings.clients} client${report.settings.clients > 1 ? 's' : ''})`,
    data: { values },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: ['precision', 'recall'] } },
    spec: {
      width: 330,
      height: 200,
      mark: 'bar',
      encoding: {
        x: { field: 'observer', type: 'nominal', title: 'observer', sort: report.observers.map((o) => o.link), axis: { labelAngle: 0 } },
        xOffset: { field: 'model', type: 'nominal', sort: [...OBSERVER_MODELS] },
        y: { field: 'value', type: 'quantitative', title: null, scale: { domain: [0, 1] } },
        color: { field: 'model', type: 'nominal', title: 'model', scale: modelColorScale },
        tooltip: [{ field: 'model' }, { field: 'observer' }, { field: 'value' }],
      },
    },
  };
}
