import { DEFAULT_GN_ARGS } from '../config/schema.js';

export type GnValue = string | number | boolean;

/** Defaults for small portable binaries, then the user's args, then what the builder requires. */
export function effectiveGnArgs(userArgs: Record<string, GnValue>, builder: 'autoninja' | 'ninja'): Record<string, GnValue> {
  const args: Record<string, GnValue> = { ...DEFAULT_GN_ARGS, ...userArgs };
  // Ninja works only with use_siso=false (CHROMIUM.md); autoninja keeps Chromium's default (siso).
  if (builder === 'ninja') args.use_siso = false;
  return args;
}

function gnLiteral(value: GnValue): string {
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

export function renderArgsGn(args: Record<string, GnValue>): string {
  const lines = Object.keys(args)
    .sort()
    .map((key) => `${key} = ${gnLiteral(args[key]!)}`);
  return `# Written by build-quiche from pipeline.config.ts (build.args); edit the config, not this file.\n${lines.join('\n')}\n`;
}

/** `git_revision:5e19d2fb...` (DEPS) vs `1000 (5e19d2f)` (gn --version): same commit? */
export function gnVersionMatches(depsVersion: string | undefined, gnVersionOutput: string): boolean | undefined {
  const pinned = depsVersion?.match(/git_revision:([0-9a-f]{7,40})/)?.[1];
  const actual = gnVersionOutput.match(/\(([0-9a-f]{7,40})\)/)?.[1];
  if (!pinned || !actual) return undefined;
  return pinned.startsWith(actual) || actual.startsWith(pinned);
}
