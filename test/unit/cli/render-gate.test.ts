import { describe, expect, it } from 'vitest';
import type { PipelineEvent } from '../../../src/api/types.js';
import { jsonRenderer } from '../../../src/cli/render/json.js';
import { plainRenderer } from '../../../src/cli/render/plain.js';

/**
 * What the plain and --json renderers do when their reader falls behind (render/gate.ts): build output
 * lines past the limit are dropped and counted, never queued, and everything else is written.
 */
const line = (n: number): PipelineEvent => ({ type: 'stage-line', stage: 'compile', line: `[${n}/9] CXX obj/${n}.o` });
const progress: PipelineEvent = { type: 'stage-progress', stage: 'compile', progress: { done: 5, total: 9 } };
const done: PipelineEvent = { type: 'stage-done', stage: 'compile', title: 'Compile', durationMs: 1200, summary: '4 binaries' };

/** Feeds events with the reader behind for the events in `behindFor` (by index). */
function feed(render: (e: PipelineEvent) => void, events: PipelineEvent[], backlog: { bytes: number }, behindFor: Set<number>) {
  events.forEach((event, i) => {
    backlog.bytes = behindFor.has(i) ? 1024 * 1024 : 0;
    render(event);
  });
}

describe('renderers with a reader that falls behind', () => {
  it('--json drops stage lines and progress while behind, then says how many lines it dropped', () => {
    const out: Array<Record<string, unknown>> = [];
    const backlog = { bytes: 0 };
    const render = jsonRenderer(
      (l) => out.push(JSON.parse(l) as Record<string, unknown>),
      () => backlog.bytes,
    );
    feed(
      render,
      [line(1), line(2), progress, line(3), line(4), line(5), progress, line(6), line(7), done],
      backlog,
      new Set([1, 2, 3, 7, 8]),
    );
    expect(
      out.map((e) => (e.type === 'stage-line' ? e.line : e.type === 'stage-lines-dropped' ? `dropped ${String(e.count)}` : e.type)),
    ).toEqual(['[1/9] CXX obj/1.o', 'dropped 2', '[4/9] CXX obj/4.o', '[5/9] CXX obj/5.o', 'stage-progress', 'dropped 2', 'stage-done']);
  });

  it('--json says what is still dropped when the run ends', () => {
    const out: Array<Record<string, unknown>> = [];
    const backlog = { bytes: 1024 * 1024 };
    const render = jsonRenderer(
      (l) => out.push(JSON.parse(l) as Record<string, unknown>),
      () => backlog.bytes,
    );
    render(line(1));
    render({ type: 'run-end', ok: false, durationMs: 5, ran: [], skipped: [], checked: [] });
    expect(out.map((e) => e.type)).toEqual(['stage-lines-dropped', 'run-end']);
  });

  it('--plain -v drops subprocess lines while behind and says how many were not shown', () => {
    const out: string[] = [];
    const backlog = { bytes: 0 };
    const render = plainRenderer({
      write: (l) => out.push(l.replace(/^\d\d:\d\d:\d\d /, '')),
      verbose: true,
      backlog: () => backlog.bytes,
    });
    feed(render, [line(1), line(2), line(3), line(4), done], backlog, new Set([1, 2]));
    expect(out).toEqual([
      '  compile| [1/9] CXX obj/1.o',
      '  compile| … 2 line(s) not shown: the output was read too slowly (all are in the stage log)',
      '  compile| [4/9] CXX obj/4.o',
      '✔ compile: done in 1.2s (4 binaries)',
    ]);
  });

  it('a reader that keeps up gets every line', () => {
    const out: string[] = [];
    const render = jsonRenderer(
      (l) => out.push(l),
      () => 0,
    );
    for (let n = 1; n <= 1000; n++) render(line(n));
    expect(out).toHaveLength(1000);
  });
});
