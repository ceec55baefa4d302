import path from 'node:path';
import { RemoteFiles } from '../adapters/remote-files.js';
import type { StageContext } from '../engine/stage.js';
import type { AppContext } from './context.js';
import { QUICHE_PATH_IN_SRC } from '../chromium/types.js';

/** A RemoteFiles reader wired to a stage: its log, abort signal, retry policy and notes. */
export function remoteFilesFor(ctx: StageContext<AppContext>): RemoteFiles {
  const { config, paths } = ctx.app;
  const gitiles = config.chromium.gitiles;
  return new RemoteFiles({
    gitiles: gitiles === 'off' ? 'off' : 'auto',
    gitilesOverrides: gitiles !== 'off' && gitiles !== 'auto' ? { [config.chromium.srcUrl]: gitiles } : undefined,
    cacheDir: paths.resolveCache,
    gitObjectsDir: paths.gitObjects,
    retry: config.retry,
    exec: (file, args, options) => ctx.exec(file, args, options),
    signal: ctx.signal,
    onNote: (message) => ctx.report.note(message),
  });
}

export const quicheDir = (src: string) => path.join(src, QUICHE_PATH_IN_SRC);
