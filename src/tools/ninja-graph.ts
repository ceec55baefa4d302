import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Enough of ninja's manifest and deps log to list every file a build of some targets looks at: the
 * manifests themselves, every node of the targets' edges (outputs and all kinds of inputs), the
 * headers each compile was found to read (the deps log, `deps = gcc`), and the depfile of an edge
 * that has no `deps` (gn's build.ninja.d). Paths are as ninja keeps them: relative to the out dir,
 * canonical (`./a` -> `a`, `a/../b` -> `b`). Used by tools/up-to-date.ts, which stats those files
 * instead of asking the builder; it never decides what to build.
 */

export interface NinjaEdge {
  rule: string;
  /** Explicit and implicit outputs. */
  outputs: string[];
  /** Explicit, implicit and order-only inputs and validations: everything ninja visits. */
  inputs: string[];
  /** `$in`: the explicit inputs only. */
  explicitInputs: number;
  /** The edge's own bindings, evaluated (ninja evaluates them where the edge is declared). */
  bindings: Map<string, string>;
  scope: Scope;
}

interface Rule {
  /** Unevaluated: a rule's bindings are evaluated per edge. */
  bindings: Map<string, string>;
}

class Scope {
  readonly vars = new Map<string, string>();
  readonly rules = new Map<string, Rule>();
  constructor(readonly parent?: Scope) {}
  lookup(name: string): string {
    return this.vars.get(name) ?? this.parent?.lookup(name) ?? '';
  }
  rule(name: string): Rule | undefined {
    return this.rules.get(name) ?? this.parent?.rule(name);
  }
}

export interface NinjaGraph {
  outDir: string;
  edges: NinjaEdge[];
  /** Node -> the index of the edge that produces it. */
  producer: Map<string, number>;
  /** Every manifest file read (build.ninja, subninjas, includes), relative to the out dir. */
  manifests: string[];
}

export class NinjaParseError extends Error {}

/** ninja's CanonicalizePath, for the cases gn writes (most paths are canonical already: checked first). */
export function canonicalPath(p: string): string {
  let i = 0;
  while (p.startsWith('../', i)) i += 3;
  const rest = i ? p.slice(i) : p;
  const canonical =
    rest !== '' &&
    rest !== '.' &&
    rest !== '..' &&
    !rest.startsWith('./') &&
    !rest.includes('/./') &&
    !rest.includes('/../') &&
    !rest.includes('//') &&
    !rest.endsWith('/') &&
    !rest.endsWith('/.') &&
    !rest.endsWith('/..');
  if (canonical) return p;
  const normal = path.posix.normalize(p);
  return normal.endsWith('/') && normal.length > 1 ? normal.slice(0, -1) : normal;
}

const PHONY = 'phony';
const SIMPLE_VAR = /[a-zA-Z0-9_-]/;

/** Evaluates a ninja string: `$$`, `$ `, `$:`, `$\n` (already joined), `${name}` and `$name`. */
function evaluate(text: string, lookup: (name: string) => string): string {
  if (!text.includes('$')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '$') {
      out += c;
      continue;
    }
    const next = text[i + 1];
    if (next === '$' || next === ' ' || next === ':') {
      out += next;
      i++;
    } else if (next === '{') {
      const end = text.indexOf('}', i + 2);
      if (end < 0) throw new NinjaParseError(`unterminated \${ in ${JSON.stringify(text)}`);
      out += lookup(text.slice(i + 2, end));
      i = end;
    } else {
      let j = i + 1;
      while (j < text.length && SIMPLE_VAR.test(text[j]!)) j++;
      if (j === i + 1) throw new NinjaParseError(`bad $-escape in ${JSON.stringify(text)}`);
      out += lookup(text.slice(i + 1, j));
      i = j - 1;
    }
  }
  return out;
}

/** Splits a build line's path list at unescaped spaces, keeping the escapes for evaluate(). */
function splitPaths(text: string): string[] {
  if (!text.includes('$')) return text.split(' ').filter((t) => t !== '');
  const tokens: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '$' && i + 1 < text.length) {
      current += c + text[i + 1];
      i++;
    } else if (c === ' ') {
      if (current) tokens.push(current);
      current = '';
    } else current += c;
  }
  if (current) tokens.push(current);
  return tokens;
}

/** The index of the first unescaped `:` (the end of a build line's outputs). */
function unescapedColon(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '$') i++;
    else if (text[i] === ':') return i;
  }
  return -1;
}

/** Logical lines: `$` at the end of a line joins the next one (its leading spaces dropped). */
function* logicalLines(text: string): Generator<string> {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    while (line.endsWith('$') && trailingDollars(line) % 2 === 1 && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i]!.replace(/^ +/, '');
    }
    yield line;
  }
}

function trailingDollars(line: string): number {
  let n = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '$'; i--) n++;
  return n;
}

/** Parses `build.ninja` in outDir with every subninja and include. Throws NinjaParseError on what it cannot read. */
export async function readNinjaGraph(outDir: string): Promise<NinjaGraph> {
  const graph: NinjaGraph = { outDir, edges: [], producer: new Map(), manifests: [] };
  await parseFile(graph, 'build.ninja', new Scope());
  return graph;
}

async function parseFile(graph: NinjaGraph, file: string, scope: Scope): Promise<void> {
  const rel = canonicalPath(file);
  graph.manifests.push(rel);
  const text = await readFile(path.join(graph.outDir, rel), 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new NinjaParseError(`cannot read ${rel}: ${error.code ?? error.message}`);
  });
  // What indented lines bind to: the last rule or build (a pool's bindings are of no interest).
  let block: { kind: 'rule'; rule: Rule } | { kind: 'edge'; edge: NinjaEdge } | { kind: 'other' } = { kind: 'other' };
  for (const line of logicalLines(text)) {
    if (line === '' || line.trimStart().startsWith('#')) continue;
    if (line.startsWith(' ')) {
      const eq = line.indexOf('=');
      if (eq < 0) throw new NinjaParseError(`${rel}: expected a binding: ${JSON.stringify(line.slice(0, 120))}`);
      const name = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).replace(/^ +/, '');
      if (block.kind === 'rule') block.rule.bindings.set(name, value);
      else if (block.kind === 'edge') {
        const { edge } = block;
        edge.bindings.set(
          name,
          evaluate(value, (n) => edge.scope.lookup(n)),
        );
      }
      continue;
    }
    const space = line.indexOf(' ');
    const keyword = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? '' : line.slice(space + 1).trim();
    if (keyword === 'build') {
      const edge = parseBuild(rest, scope, rel);
      const index = graph.edges.push(edge) - 1;
      for (const output of edge.outputs) graph.producer.set(output, index);
      block = { kind: 'edge', edge };
    } else if (keyword === 'rule') {
      const rule: Rule = { bindings: new Map() };
      scope.rules.set(rest, rule);
      block = { kind: 'rule', rule };
    } else if (keyword === 'subninja' || keyword === 'include') {
      const target = evaluate(rest, (n) => scope.lookup(n));
      await parseFile(graph, target, keyword === 'subninja' ? new Scope(scope) : scope);
      block = { kind: 'other' };
    } else if (keyword === 'pool' || keyword === 'default') {
      block = { kind: 'other' };
    } else {
      const eq = line.indexOf('=');
      if (eq < 0) throw new NinjaParseError(`${rel}: unexpected line: ${JSON.stringify(line.slice(0, 120))}`);
      // Top-level variables are evaluated where they are declared.
      scope.vars.set(
        line.slice(0, eq).trim(),
        evaluate(line.slice(eq + 1).replace(/^ +/, ''), (n) => scope.lookup(n)),
      );
      block = { kind: 'other' };
    }
  }
}

function parseBuild(rest: string, scope: Scope, file: string): NinjaEdge {
  const colon = unescapedColon(rest);
  if (colon < 0) throw new NinjaParseError(`${file}: build line without ':': ${JSON.stringify(rest.slice(0, 120))}`);
  const evalPath = (token: string) => canonicalPath(evaluate(token, (n) => scope.lookup(n)));
  const outputs = splitPaths(rest.slice(0, colon))
    .filter((t) => t !== '|')
    .map(evalPath);
  const [rule, ...inputTokens] = splitPaths(rest.slice(colon + 1));
  if (!rule) throw new NinjaParseError(`${file}: build line without a rule: ${JSON.stringify(rest.slice(0, 120))}`);
  if (rule !== PHONY && !scope.rule(rule)) throw new NinjaParseError(`${file}: unknown rule ${rule}`);
  const inputs: string[] = [];
  let explicitInputs = 0;
  let explicit = true;
  for (const token of inputTokens) {
    if (token === '|' || token === '||' || token === '|@') {
      explicit = false;
      continue;
    }
    inputs.push(evalPath(token));
    if (explicit) explicitInputs++;
  }
  return { rule, outputs, inputs, explicitInputs, bindings: new Map(), scope };
}

/** A binding of an edge as ninja sees it: the edge's own, else its rule's evaluated for this edge. */
export function edgeBinding(edge: NinjaEdge, name: string): string {
  const own = edge.bindings.get(name);
  if (own !== undefined) return own;
  const rule = edge.scope.rule(edge.rule);
  const raw = rule?.bindings.get(name);
  if (raw === undefined) return '';
  const lookup = (n: string): string => {
    if (n === 'in') return edge.inputs.slice(0, edge.explicitInputs).join(' ');
    if (n === 'out') return edge.outputs.join(' ');
    const bound = edge.bindings.get(n);
    if (bound !== undefined) return bound;
    const ruleValue = rule?.bindings.get(n);
    // A rule binding may refer to another one of the same rule (not to itself).
    if (ruleValue !== undefined && n !== name) return edgeBinding(edge, n);
    return edge.scope.lookup(n);
  };
  return evaluate(raw, lookup);
}

export const isPhony = (edge: NinjaEdge) => edge.rule === PHONY;

/**
 * ninja's deps log (`.ninja_deps`, format version 4, ninja >= 1.10): every output built with
 * `deps = gcc|msvc` -> the inputs its compile read. A later record of an output replaces an earlier
 * one; a torn last record (a killed build) is ignored, as ninja does.
 */
export async function readDepsLog(file: string): Promise<Map<string, string[]>> {
  const buffer = await readFile(file);
  const magic = '# ninjadeps\n';
  if (buffer.length < magic.length + 4 || buffer.toString('latin1', 0, magic.length) !== magic) {
    throw new NinjaParseError(`${file} is not a ninja deps log`);
  }
  const version = buffer.readInt32LE(magic.length);
  if (version !== 4) throw new NinjaParseError(`${file}: deps log version ${version} (only version 4 is read)`);
  const paths: string[] = [];
  const deps = new Map<string, string[]>();
  let offset = magic.length + 4;
  while (offset + 4 <= buffer.length) {
    const header = buffer.readUInt32LE(offset);
    const isDeps = (header & 0x80000000) !== 0;
    const size = header & 0x7fffffff;
    if (offset + 4 + size > buffer.length) break;
    const start = offset + 4;
    if (isDeps) {
      if (size < 12 || size % 4 !== 0) break;
      const out = paths[buffer.readInt32LE(start)];
      const inputs: string[] = [];
      for (let at = start + 12; at < start + size; at += 4) {
        const input = paths[buffer.readInt32LE(at)];
        if (input === undefined) throw new NinjaParseError(`${file}: a deps record names an unknown path`);
        inputs.push(input);
      }
      if (out === undefined) throw new NinjaParseError(`${file}: a deps record names an unknown output`);
      deps.set(out, inputs);
    } else {
      if (size < 4) break;
      let end = start + size - 4;
      while (end > start && buffer[end - 1] === 0) end--;
      const checksum = buffer.readUInt32LE(start + size - 4);
      // ninja writes ~id after each path: a mismatch is a torn or foreign record; stop, as ninja does.
      if (checksum !== ~paths.length >>> 0) break;
      paths.push(buffer.toString('utf8', start, end));
    }
    offset = start + size;
  }
  return deps;
}

/** A Makefile-style depfile (`out: in1 in2 \` ...): the inputs, canonical. */
export async function readDepfile(file: string): Promise<string[]> {
  const text = (await readFile(file, 'utf8')).replace(/\\\r?\n/g, ' ');
  const inputs: string[] = [];
  for (const line of text.split('\n')) {
    const colon = line.search(/:(\s|$)/);
    if (colon < 0) continue;
    const tokens = line
      .slice(colon + 1)
      .replace(/\\ /g, '\0')
      .replace(/\$\$/g, '$')
      .split(/\s+/)
      .filter(Boolean);
    for (const token of tokens) inputs.push(canonicalPath(token.replace(/\0/g, ' ')));
  }
  return inputs;
}
