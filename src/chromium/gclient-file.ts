import type { VarValue } from './deps.js';

export interface GclientSpec {
  srcUrl: string;
  customVars: Record<string, VarValue>;
  customDeps: Record<string, string | null>;
  targetOs: string[];
  cacheDir?: string;
}

/** Python literal for the values .gclient holds. JSON strings are valid Python string literals. */
function py(value: VarValue | null | Record<string, VarValue | string | null> | string[]): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number' || typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => py(v)).join(', ')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}: ${py(value[key]!)}`);
  return `{${entries.join(', ')}}`;
}

/** The .gclient of a //net-only Linux checkout (CHROMIUM.md, "Checkout"); sorted, so stable. */
export function renderGclientFile(spec: GclientSpec): string {
  return [
    '# Written by build-quiche; edits are overwritten on the next run (change pipeline.config.ts instead).',
    'solutions = [',
    '  {',
    '    "name": "src",',
    `    "url": ${py(spec.srcUrl)},`,
    '    "managed": False,',
    `    "custom_deps": ${py(spec.customDeps)},`,
    `    "custom_vars": ${py(spec.customVars)},`,
    '  },',
    ']',
    `target_os = ${py(spec.targetOs)}`,
    'target_os_only = True',
    ...(spec.cacheDir ? [`cache_dir = ${py(spec.cacheDir)}`] : []),
    '',
  ].join('\n');
}
