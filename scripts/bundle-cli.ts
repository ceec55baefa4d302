// Bundles the compiled CLI (lib/cli/entry.js) into one file, lib/cli/entry.bundle.js, which
// bin/build-quiche.js loads. Why: Node's ESM loader resolves, reads and links every module on its
// own, and the CLI's graph is ~430 modules (execa ~100, zod ~95, ours ~140); that was ~0.4-0.5 s of
// every run, most of a no-op. One file loads in about half the time (docs/performance.md).
//
// Left out (external), because they are imported lazily where they are used and must stay lazy, or
// load files of their own at run time: vega and vega-lite (the lab's plots), listr2 (the TTY
// renderer), node-forge (test certificates), tar (package/install), jiti (loads pipeline.config.ts).
//
// The bundle lives at the same depth below the package root as every lib/<dir>/<file>.js, so
// PACKAGE_ROOT (src/config/load.ts, from import.meta.url) still names the package root.
import { build, type BuildOptions } from 'esbuild';
import { fileURLToPath } from 'node:url';

export const EXTERNAL = ['vega', 'vega-lite', 'listr2', 'node-forge', 'tar', 'jiti'];

/** esbuild options for bundling `entry` into `outfile` (also used by test/integration/bundle.test.ts). */
export function bundleOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: EXTERNAL,
    // CommonJS dependencies (cross-spawn, debug, ...) call require() for Node's built-ins, which an
    // ES module does not have.
    banner: { js: "import { createRequire as __bqCreateRequire } from 'node:module'; const require = __bqCreateRequire(import.meta.url);" },
    logLevel: 'warning',
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = new URL('..', import.meta.url);
  await build(bundleOptions(fileURLToPath(new URL('lib/cli/entry.js', root)), fileURLToPath(new URL('lib/cli/entry.bundle.js', root))));
}
