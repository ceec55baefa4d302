/**
 * Runs the smoke stage's own code against binaries outside a pipeline (BQ_REAL_BIN_DIR, or an
 * installed artifact): the same server start, fetch, migration modes, CID matching and socket counts.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { createStageContext } from '../../src/engine/context.js';
import { LogFile } from '../../src/process/log-file.js';
import type { Binary } from '../../src/artifacts/binary.js';
import { createAppContext, type AppContext } from '../../src/stages/context.js';
import { smokeStage, type SmokeOutput } from '../../src/stages/smoke.js';

export const BINARY_NAMES = ['epoll_quic_client', 'epoll_quic_server'] as const;

export async function binariesIn(dir: string): Promise<Binary[]> {
  return Promise.all(
    BINARY_NAMES.map(async (name) => {
      const file = path.join(dir, name);
      return {
        name,
        label: name,
        path: file,
        sha256: createHash('sha256')
          .update(await readFile(file))
          .digest('hex'),
        size: (await stat(file)).size,
      };
    }),
  );
}

export const hasBinaries = (dir: string | undefined): dir is string =>
  !!dir && BINARY_NAMES.every((name) => existsSync(path.join(dir, name)));

export interface SmokeRun {
  output?: SmokeOutput;
  error?: unknown;
  notes: string[];
  logPath: string;
}

/** The smoke stage's run() on these binaries, with `smoke` config overrides; never throws. */
export async function runSmoke(binDir: string, workDir: string, smoke: Record<string, unknown> = {}): Promise<SmokeRun> {
  const config = await loadConfig({
    inline: { cacheDir: path.join(workDir, 'cache'), distDir: path.join(workDir, 'dist'), smoke },
    cwd: workDir,
    env: {},
  });
  const app: AppContext = createAppContext(config, {});
  const logPath = path.join(workDir, 'smoke.log');
  const log = new LogFile(logPath);
  const notes: string[] = [];
  const binaries = await binariesIn(binDir);
  const ctx = createStageContext<AppContext>({
    input: {
      app,
      upstream: <T>(id: string) => {
        if (id !== 'compile') throw new Error(`smoke reads only compile, not ${id}`);
        // Real binaries here come from the standalone quiche build, whose server reads a PEM key.
        return { binaries, steps: 0, serverKeyFormat: 'pem' } as T;
      },
    },
    stageId: 'smoke',
    runId: 'real',
    log,
    signal: new AbortController().signal,
    emit: (event) => {
      if (event.type === 'stage-note') notes.push(event.message);
    },
  });
  try {
    const output = await smokeStage.run(ctx, await smokeStage.inputs(ctx));
    return { output, notes, logPath };
  } catch (error) {
    return { error, notes, logPath };
  } finally {
    await log.close();
  }
}
