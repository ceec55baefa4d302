import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { configSchema } from './schema.js';

/**
 * BUILD_QUICHE_* environment variables and `--set a.b=value` flags, both mapped onto config paths
 * through the JSON Schema so that a new config field gets its override for free.
 */

type LeafKind = 'string' | 'number' | 'integer' | 'boolean' | 'string-list' | 'number-or-word' | 'json';

export interface ConfigLeaf {
  path: string[];
  kind: LeafKind;
  envName: string;
}

type JsonSchemaNode = {
  type?: string | string[];
  properties?: Record<string, JsonSchemaNode>;
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  additionalProperties?: unknown;
};

/** Env vars read by the CLI itself rather than mapped onto the config. */
export const RESERVED_ENV = new Set(['BUILD_QUICHE_CONFIG']);

const toEnvSegment = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

function kindOf(node: JsonSchemaNode): LeafKind {
  const type = Array.isArray(node.type) ? node.type[0] : node.type;
  if (node.anyOf) {
    if (node.anyOf.every((n) => n.type === 'string' || 'const' in n)) return 'string';
    // A number or a named setting (smoke.responseBytes: 'auto' or a size).
    if (node.anyOf.every((n) => 'const' in n || n.type === 'integer' || n.type === 'number')) return 'number-or-word';
    return 'json';
  }
  if (type === 'array') return node.items?.type === 'string' ? 'string-list' : 'json';
  if (type === 'number' || type === 'integer' || type === 'boolean' || type === 'string') return type;
  return 'json';
}

function collectLeaves(node: JsonSchemaNode, path: string[], out: ConfigLeaf[]): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    if (key === '$schema') continue;
    const childPath = [...path, key];
    if (child.properties && child.additionalProperties === false) {
      collectLeaves(child, childPath, out);
    } else {
      out.push({ path: childPath, kind: kindOf(child), envName: `BUILD_QUICHE_${childPath.map(toEnvSegment).join('_')}` });
    }
  }
}

let leavesCache: ConfigLeaf[] | undefined;
export function configLeaves(): ConfigLeaf[] {
  leavesCache ??= (() => {
    const out: ConfigLeaf[] = [];
    collectLeaves(z.toJSONSchema(configSchema, { io: 'input' }) as JsonSchemaNode, [], out);
    return out;
  })();
  return leavesCache;
}

function coerce(leaf: ConfigLeaf, raw: string, source: string): unknown {
  const field = leaf.path.join('.');
  const fail = (expected: string): never => {
    throw new ConfigError(`${source}: ${field} expects ${expected}, got ${JSON.stringify(raw)}.`, {
      hint: `Set ${source.startsWith('--set') ? `--set ${field}=<value>` : leaf.envName} to ${expected}.`,
    });
  };
  switch (leaf.kind) {
    case 'string':
      return raw;
    case 'number':
    case 'integer': {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value) || (leaf.kind === 'integer' && !Number.isInteger(value))) {
        return fail(leaf.kind === 'integer' ? 'a whole number' : 'a number');
      }
      return value;
    }
    case 'number-or-word': {
      // A number when it reads as one, else the word as it is (the schema says which words it takes).
      const value = Number(raw);
      return raw.trim() !== '' && Number.isFinite(value) ? value : raw;
    }
    case 'boolean': {
      const lowered = raw.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(lowered)) return true;
      if (['0', 'false', 'no', 'off'].includes(lowered)) return false;
      return fail('true or false');
    }
    case 'string-list': {
      // One rule for every list: a JSON list when it looks like one (as for json fields), else comma-separated.
      if (!raw.trim().startsWith('['))
        return raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      const list = parseJson(raw);
      return Array.isArray(list) && list.every((item) => typeof item === 'string')
        ? list
        : fail('a JSON list of strings or comma-separated text');
    }
    case 'json':
      try {
        return JSON.parse(raw);
      } catch {
        return fail('JSON');
      }
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    node = (typeof next === 'object' && next !== null ? next : (node[key] = {})) as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/** The partial config expressed by BUILD_QUICHE_* variables. Unknown ones are an error (typos). */
export function envOverrides(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const byName = new Map(configLeaves().map((leaf) => [leaf.envName, leaf]));
  const result: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('BUILD_QUICHE_') || RESERVED_ENV.has(name) || raw === undefined) continue;
    const leaf = byName.get(name);
    if (!leaf) {
      throw new ConfigError(`Unknown environment variable ${name}.`, {
        hint: `Known settings: ${[...byName.keys(), ...RESERVED_ENV].join(', ')}.`,
      });
    }
    setPath(result, leaf.path, coerce(leaf, raw, `environment ${name}`));
  }
  return result;
}

/**
 * `--set build.args.is_debug=true`: a known leaf is coerced by its type; below a record-valued leaf
 * (build.args, gclient.customVars, ...) the value is parsed as JSON when it can be, else kept as text.
 */
export function setOverrides(assignments: string[]): Record<string, unknown> {
  const leaves = configLeaves();
  const result: Record<string, unknown> = {};
  for (const assignment of assignments) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) {
      throw new ConfigError(`--set ${assignment}: expected key.path=value.`, { hint: 'Example: --set build.jobs=8' });
    }
    const path = assignment.slice(0, eq).split('.');
    const raw = assignment.slice(eq + 1);
    const exact = leaves.find((leaf) => leaf.path.join('.') === path.join('.'));
    if (exact) {
      setPath(result, path, coerce(exact, raw, `--set ${assignment}`));
      continue;
    }
    const parent = leaves.find(
      (leaf) => leaf.kind === 'json' && path.length > leaf.path.length && leaf.path.every((k, i) => path[i] === k),
    );
    if (!parent) {
      throw new ConfigError(`--set ${assignment}: ${path.join('.')} is not a config field.`, {
        hint: `Fields: ${leaves.map((leaf) => leaf.path.join('.')).join(', ')}.`,
      });
    }
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // plain text value, e.g. --set gclient.customVars.chromium_git=http://mirror
    }
    setPath(result, path, value);
  }
  return result;
}

/** Deep merge for plain objects; arrays and scalars from `over` replace those in `base`. */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = mergeConfig(base[key], value);
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
