import type { ListrTask } from 'listr2';
import type { PipelineEvent } from '../../api/types.js';
import type { BuildQuicheError } from '../../errors.js';
import { formatDuration, ProgressMeter, runSummary } from './format.js';

type Outcome =
  { kind: 'done'; summary?: string; durationMs: number } | { kind: 'skip'; reason: string } | { kind: 'fail'; error: BuildQuicheError };

interface StageView {
  title: string;
  started: Promise<void>;
  finished: Promise<Outcome>;
  start: () => void;
  finish: (outcome: Outcome) => void;
  task?: { output: string; title: string };
  /** The last lines of output and the progress title, not drawn yet (drawn at most every DRAW_MS). */
  tail: string[];
  tailChanged: boolean;
  progressTitle?: string;
}

/** How often the view draws a stage's new output or progress, at most. */
const DRAW_MS = 100;

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * The interactive view: listr2 draws one line per stage with a rolling tail of its output, while
 * the engine runs on its own. listr2 is only the view here (tasks wait for the engine's events),
 * so the library, tests and the other renderers share one execution path.
 *
 * listr2 redraws the whole view on every change of a task's output or title. A build prints
 * thousands of lines a second, so lines and progress are kept here and handed to listr2 at most
 * every DRAW_MS, the tail's last `tailLines` lines as one output; and not while the terminal has not
 * taken what was drawn before (`backlog`, a terminal reading slowly or paused with Ctrl-S): then the
 * view waits and the build goes on. listr2's own spinner, which redraws every 100 ms whatever
 * happens, is off for the same reason (lazy rendering).
 */
export class ListrView {
  private readonly stages = new Map<string, StageView>();
  private listr: Promise<void> | undefined;
  private readonly meters = new Map<string, ProgressMeter>();
  private runEnded = deferred<void>();
  /** Notes flash by in the rolling tail; they are printed again, with the summary, at the end. */
  private readonly notes: string[] = [];
  private summary: string | undefined;

  private readonly tailLines: number;
  private readonly backlog: () => number;
  private drawTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (line: string) => void,
    options: { tailLines?: number; backlog?: () => number } = {},
  ) {
    this.tailLines = options.tailLines ?? 5;
    this.backlog = options.backlog ?? (() => 0);
  }

  readonly onEvent = (event: PipelineEvent): void => {
    switch (event.type) {
      case 'run-start':
        this.begin(event.stages);
        break;
      case 'lock-wait':
        this.write(`waiting for the cache lock held by pid ${event.holderPid} ("${event.command}") ...`);
        break;
      case 'stage-start':
        this.stages.get(event.stage)?.start();
        break;
      case 'stage-note':
        this.notes.push(`· ${event.stage}: ${event.message}`);
        this.tail(event.stage, `· ${event.message}`);
        break;
      case 'stage-line':
        this.tail(event.stage, event.line);
        break;
      case 'stage-progress': {
        const view = this.stages.get(event.stage);
        const meter = this.meters.get(event.stage) ?? new ProgressMeter();
        this.meters.set(event.stage, meter);
        if (view) view.progressTitle = `${view.title} ${meter.describe(event.progress)}`;
        this.scheduleDraw();
        break;
      }
      case 'stage-skip': {
        const view = this.stages.get(event.stage);
        view?.start();
        view?.finish({ kind: 'skip', reason: event.reason });
        break;
      }
      case 'stage-done':
        this.stages.get(event.stage)?.finish({ kind: 'done', summary: event.summary, durationMs: event.durationMs });
        break;
      case 'stage-fail':
        this.stages.get(event.stage)?.finish({ kind: 'fail', error: event.error });
        break;
      case 'run-end':
        if (this.drawTimer) clearTimeout(this.drawTimer);
        this.summary = runSummary(event);
        // Stages that never started (a stop earlier in the run) must not hang the view.
        for (const view of this.stages.values()) {
          view.start();
          view.finish({ kind: 'skip', reason: 'not reached' });
        }
        this.runEnded.resolve();
        break;
      default:
        break;
    }
  };

  private tail(stage: string, line: string): void {
    const view = this.stages.get(stage);
    if (!view) return;
    view.tail.push(line);
    if (view.tail.length > this.tailLines) view.tail.shift();
    view.tailChanged = true;
    this.scheduleDraw();
  }

  private scheduleDraw(): void {
    this.drawTimer ??= setTimeout(() => {
      this.drawTimer = undefined;
      this.draw();
    }, DRAW_MS);
  }

  /** Hands what changed to listr2 (each change is one redraw), unless the terminal is still behind. */
  private draw(): void {
    if (this.backlog() > 0) {
      this.scheduleDraw();
      return;
    }
    for (const view of this.stages.values()) {
      if (!view.task) continue;
      if (view.progressTitle !== undefined) {
        view.task.title = view.progressTitle;
        view.progressTitle = undefined;
      }
      if (view.tailChanged) {
        view.task.output = view.tail.join('\n');
        view.tailChanged = false;
      }
    }
  }

  private begin(stages: Array<{ id: string; title: string }>): void {
    const tasks: ListrTask[] = stages.map(({ id, title }) => {
      const started = deferred<void>();
      const finished = deferred<Outcome>();
      let done = false;
      const view: StageView = {
        title,
        tail: [],
        tailChanged: false,
        started: started.promise,
        finished: finished.promise,
        start: () => started.resolve(),
        finish: (outcome) => {
          if (done) return;
          done = true;
          finished.resolve(outcome);
        },
      };
      this.stages.set(id, view);
      return {
        title,
        // One output entry holds the whole tail (draw() hands it over at once).
        rendererOptions: { outputBar: 1, persistentOutput: false },
        task: async (_ctx, task) => {
          view.task = task;
          await view.started;
          const outcome = await view.finished;
          view.progressTitle = undefined;
          view.tailChanged = false;
          if (outcome.kind === 'skip') task.skip(`${title} (skipped: ${outcome.reason})`);
          else if (outcome.kind === 'fail') throw new Error(outcome.error.message.split('\n')[0]);
          else task.title = `${title} (${formatDuration(outcome.durationMs)}${outcome.summary ? `, ${outcome.summary}` : ''})`;
        },
      };
    });
    // listr2 is loaded only for this view (a terminal), not by every CLI start.
    this.listr = import('listr2')
      .then(({ Listr }) =>
        new Listr(tasks, {
          concurrent: false,
          exitOnError: true,
          registerSignalListeners: false,
          rendererOptions: { collapseSubtasks: false, collapseSkips: true, lazy: true },
        }).run(),
      )
      .then(
        () => undefined,
        () => undefined,
      );
  }

  /** Resolves once listr has drawn the final state. */
  async done(): Promise<void> {
    if (!this.listr) return; // the run never started (config, usage or lock error): nothing drawn
    await this.runEnded.promise;
    await this.listr;
    for (const note of this.notes) this.write(note);
    if (this.summary) this.write(this.summary);
  }
}
