import { readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { PipelineEvent } from '../../src/engine/events.js';
import { Pipeline } from '../../src/engine/pipeline.js';
import { tempDir } from '../../testkit/helpers.js';
import { defineStage, type AnyStage } from '../../src/engine/stage.js';

export interface ToyApp {
  dir: string;
  inputs: Record<string, string>;
  runs: string[];
  /** Make a stage throw (once) to simulate a failure. */
  failIn?: string;
}

export { tempDir };

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * A stage that writes `<id>.out` = its input value + upstream outputs, so tests can see which
 * stages ran (app.runs) and tamper with outputs on disk to exercise verify().
 */
export function fileStage(id: string, after: string[], extra: Partial<AnyStage<ToyApp>> = {}): AnyStage<ToyApp> {
  const stage: AnyStage<ToyApp> = defineStage<ToyApp, { value: string; upstream: string[] }, { file: string; content: string }>({
    id,
    title: `stage ${id}`,
    after,
    inputs: ({ app, upstream }) => ({
      value: app.inputs[id] ?? '',
      upstream: after.map((dep) => upstream<{ content: string }>(dep).content),
    }),
    async run(ctx, inputs) {
      ctx.app.runs.push(id);
      if (ctx.app.failIn === id) throw new Error(`${id} failed on purpose`);
      const content = `${inputs.value}|${inputs.upstream.join(',')}`;
      const file = path.join(ctx.app.dir, `${id}.out`);
      await writeFile(file, content);
      return { file, content };
    },
    async verify(_ctx, { outputs }) {
      if (!existsSync(outputs.file)) return `${id}.out missing`;
      return (await readFile(outputs.file, 'utf8')) === outputs.content ? true : `${id}.out changed`;
    },
  });
  return { ...stage, ...extra };
}

export function toyPipeline(app: ToyApp, stages: AnyStage<ToyApp>[], events: PipelineEvent[] = [], lockWaitMs = 0) {
  return new Pipeline<ToyApp>({ stages, app, stateDir: path.join(app.dir, 'state'), lockWaitMs, onEvent: (e) => events.push(e) });
}
