import { ConfigError } from '../errors.js';
import { evaluatePyLiteralModule, PyLiteralError, type PyValue } from './pyliteral.js';

/**
 * DEPS semantics on top of the literal evaluator: Var()/Str(), custom_vars overriding vars,
 * `{var}` expansion in URLs, conditions, and the three dep types (git, cipd, gcs). Mirrors what
 * gclient does (gclient_eval.py), limited to what build-quiche needs to pin and verify deps.
 */

export type VarValue = string | boolean | number;

export interface GitDep {
  /** Path relative to the gclient root, e.g. `src/net/third_party/quiche/src`. */
  path: string;
  url: string;
  /** Pinned revision (a commit hash, or a ref); undefined when the DEPS entry is unpinned. */
  revision: string | undefined;
  condition?: string;
}

export interface SkippedDep {
  path: string;
  type: 'git' | 'cipd' | 'gcs';
  reason: string;
}

export interface ResolvedDeps {
  vars: Record<string, VarValue>;
  gitDeps: GitDep[];
  /** Deps whose condition is false here, or that are not git (cipd/gcs: fetched by gclient itself). */
  other: SkippedDep[];
  hooks: Array<{ name: string; condition?: string }>;
  gitDependencies: string | undefined;
}

export interface DepsContext {
  customVars?: Record<string, VarValue>;
  targetOs?: string[];
  targetOsOnly?: boolean;
  hostOs?: string;
  hostCpu?: string;
}

/** A DEPS file build-quiche cannot read or evaluate (a ConfigError: the pin names it). */
export class DepsError extends ConfigError {}

/** Var('x') stays a `{x}` placeholder until expansion, exactly as gclient's Var does. */
const DEPS_FUNCTIONS = {
  Var: (name: PyValue) => `{${pyText(name)}}`,
  Str: (value: PyValue) => pyText(value),
};

/** Python's str() for the literal subset: lists and dicts as JSON rather than "[object Object]". */
function pyText(value: PyValue): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

export function parseDepsFile(source: string): Record<string, PyValue> {
  try {
    return evaluatePyLiteralModule(source, DEPS_FUNCTIONS);
  } catch (error) {
    if (error instanceof PyLiteralError) throw new DepsError(`DEPS does not parse: ${error.message}`);
    throw error;
  }
}

const OSES = ['linux', 'android', 'mac', 'win', 'ios', 'chromeos', 'fuchsia'];
const CPUS = ['x64', 'x86', 'arm', 'arm64'];

function builtinVars(ctx: DepsContext): Record<string, VarValue> {
  const hostOs = ctx.hostOs ?? 'linux';
  const targets = new Set(ctx.targetOs ?? ['linux']);
  if (!ctx.targetOsOnly) targets.add(hostOs);
  const hostCpu = ctx.hostCpu ?? 'x64';
  const vars: Record<string, VarValue> = { host_os: hostOs, host_cpu: hostCpu };
  for (const os of OSES) vars[`checkout_${os}`] = targets.has(os);
  for (const cpu of CPUS) vars[`checkout_${cpu}`] = cpu === hostCpu;
  return vars;
}

export function expandVars(text: string, vars: Record<string, VarValue>): string {
  return text.replace(/\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (match, name: string | undefined) => {
    if (match === '{{') return '{';
    if (match === '}}') return '}';
    if (!(name! in vars)) throw new DepsError(`DEPS uses undefined variable "${name}"`);
    return String(vars[name!]);
  });
}

/** Final variable values: DEPS vars (with their own Var() references expanded), then custom_vars. */
export function effectiveVars(scope: Record<string, PyValue>, ctx: DepsContext): Record<string, VarValue> {
  const declared = (scope.vars ?? {}) as Record<string, PyValue>;
  const vars: Record<string, VarValue> = { ...builtinVars(ctx) };
  for (const [name, value] of Object.entries(declared)) {
    if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') vars[name] = value;
  }
  Object.assign(vars, ctx.customVars ?? {});
  for (const [name, value] of Object.entries(vars)) {
    if (typeof value === 'string' && value.includes('{')) vars[name] = expandVars(value, vars);
  }
  return vars;
}

export function resolveDeps(source: string, ctx: DepsContext = {}): ResolvedDeps {
  const scope = parseDepsFile(source);
  const vars = effectiveVars(scope, ctx);
  const gitDeps: GitDep[] = [];
  const other: SkippedDep[] = [];
  const deps = (scope.deps ?? {}) as Record<string, PyValue>;
  for (const [rawPath, entry] of Object.entries(deps)) {
    const path = expandVars(rawPath, vars);
    const spec = typeof entry === 'string' ? { url: entry } : (entry as Record<string, PyValue> | null);
    if (!spec) continue;
    const type = (spec.dep_type as string | undefined) ?? 'git';
    const condition = typeof spec.condition === 'string' ? spec.condition : undefined;
    if (type !== 'git') {
      other.push({ path, type: type === 'cipd' ? 'cipd' : 'gcs', reason: `${type} dep` });
      continue;
    }
    if (condition && !evaluateCondition(condition, vars)) {
      other.push({ path, type: 'git', reason: `condition false: ${condition}` });
      continue;
    }
    if (typeof spec.url !== 'string') continue; // url: None means "not checked out here"
    const url = expandVars(spec.url, vars);
    const at = url.lastIndexOf('@');
    const slash = url.lastIndexOf('/');
    gitDeps.push({
      path,
      url: at > slash ? url.slice(0, at) : url,
      revision: at > slash ? url.slice(at + 1) : undefined,
      ...(condition ? { condition } : {}),
    });
  }
  const hooks = ((scope.hooks ?? []) as Array<Record<string, PyValue>>).map((hook) => ({
    name: pyText(hook.name ?? '(unnamed)'),
    ...(typeof hook.condition === 'string' ? { condition: hook.condition } : {}),
  }));
  return {
    vars,
    gitDeps,
    other,
    hooks,
    gitDependencies: typeof scope.git_dependencies === 'string' ? scope.git_dependencies : undefined,
  };
}

// ---- conditions: `checkout_linux and not (host_os == "win" or checkout_nacl)` ----

type CondToken = { kind: 'name' | 'string' | 'op'; value: string };

function tokenizeCondition(text: string): CondToken[] {
  const tokens: CondToken[] = [];
  const re = /\s*(?:(==|!=|\(|\))|'([^']*)'|"([^"]*)"|([A-Za-z_][A-Za-z0-9_]*))/y;
  let index = 0;
  while (index < text.length) {
    if (/^\s*$/.test(text.slice(index))) break;
    re.lastIndex = index;
    const m = re.exec(text);
    if (!m) throw new DepsError(`bad condition ${JSON.stringify(text)} at ${index}`);
    index = re.lastIndex;
    if (m[1]) tokens.push({ kind: 'op', value: m[1] });
    else if (m[2] !== undefined || m[3] !== undefined) tokens.push({ kind: 'string', value: m[2] ?? m[3]! });
    else tokens.push({ kind: 'name', value: m[4]! });
  }
  return tokens;
}

export function evaluateCondition(text: string, vars: Record<string, VarValue>): boolean {
  const tokens = tokenizeCondition(text);
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (why: string): never => {
    throw new DepsError(`condition ${JSON.stringify(text)}: ${why}`);
  };
  const value = (): VarValue => {
    const token = tokens[pos++] ?? fail('unexpected end');
    if (token.kind === 'op' && token.value === '(') {
      const inner = or();
      if (tokens[pos++]?.value !== ')') fail('missing ")"');
      return inner;
    }
    if (token.kind === 'string') return token.value;
    if (token.kind === 'name') {
      if (token.value === 'True') return true;
      if (token.value === 'False') return false;
      if (token.value === 'not') return !truthy(comparison());
      if (!(token.value in vars)) fail(`undefined variable "${token.value}"`);
      return vars[token.value]!;
    }
    return fail(`unexpected "${token.value}"`);
  };
  const comparison = (): VarValue => {
    const left = value();
    const op = peek();
    if (op?.kind === 'op' && (op.value === '==' || op.value === '!=')) {
      pos++;
      const right = value();
      return op.value === '==' ? left === right : left !== right;
    }
    return left;
  };
  const and = (): VarValue => {
    let result = comparison();
    while (peek()?.kind === 'name' && peek()!.value === 'and') {
      pos++;
      const right = comparison();
      result = truthy(result) && truthy(right);
    }
    return result;
  };
  const or = (): VarValue => {
    let result = and();
    while (peek()?.kind === 'name' && peek()!.value === 'or') {
      pos++;
      const right = and();
      result = truthy(result) || truthy(right);
    }
    return result;
  };
  const result = or();
  if (pos !== tokens.length) fail(`unexpected "${tokens[pos]!.value}"`);
  return truthy(result);
}

const truthy = (value: VarValue) => value !== false && value !== '' && value !== 0;
