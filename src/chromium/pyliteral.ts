import { PythonSubsetSyntaxError, SubsetReader, type Expr, type Position, type ReadOptions } from '../util/python-subset.js';

/**
 * The evaluator for the Python-literal subset that DEPS files are written in, on the shared reader
 * (util/python-subset.ts): top-level assignments of dicts, lists, tuples, strings, numbers,
 * True/False/None, `+` concatenation and calls to helper functions such as Var() and Str(). Anything
 * else is a PyLiteralError with line and column, never a guess.
 */

export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

export type PyFunctions = Record<string, (...args: PyValue[]) => PyValue>;

/** A DEPS file outside the subset (`line L, column C: ...`); a ConfigError. */
export class PyLiteralError extends PythonSubsetSyntaxError {
  constructor(detail: string, at: Position) {
    super(detail, at);
  }
}

const CONSTANTS: Record<string, PyValue> = { True: true, False: false, None: null };

// Python keeps an escape it does not know (`\d`) as written.
const READ: ReadOptions = { unknownEscapes: 'keep', error: (detail, at) => new PyLiteralError(detail, at) };

function fail(at: Position, detail: string): never {
  throw new PyLiteralError(detail, at);
}

function typeName(value: PyValue): string {
  if (value === null) return 'None';
  if (Array.isArray(value)) return 'list';
  return typeof value === 'object' ? 'dict' : typeof value;
}

function evaluate(expr: Expr, functions: PyFunctions): PyValue {
  switch (expr.kind) {
    case 'string':
    case 'int':
    case 'float':
      return expr.value;
    case 'ident':
      if (expr.name in CONSTANTS) return CONSTANTS[expr.name]!;
      return fail(expr.at, `unknown name ${expr.name} (only literals and calls are allowed)`);
    case 'list':
    case 'tuple':
      return expr.items.map((item) => evaluate(item, functions));
    case 'dict': {
      const out: Record<string, PyValue> = {};
      for (const entry of expr.entries) {
        const key = evaluate(entry.key, functions);
        if (typeof key !== 'string') fail(entry.key.at, 'dict keys must be strings');
        out[key] = evaluate(entry.value, functions);
      }
      return out;
    }
    case 'call': {
      const fn = Object.hasOwn(functions, expr.callee) ? functions[expr.callee] : undefined;
      if (!fn) return fail(expr.at, `unknown function ${expr.callee}()`);
      if (expr.kwargs.size) fail(expr.at, `${expr.callee}() takes no keyword arguments`);
      return fn(...expr.args.map((arg) => evaluate(arg, functions)));
    }
    case 'add': {
      const left = evaluate(expr.left, functions);
      const right = evaluate(expr.right, functions);
      if (typeof left === 'string' && typeof right === 'string') return left + right;
      if (typeof left === 'number' && typeof right === 'number') return left + right;
      if (Array.isArray(left) && Array.isArray(right)) return [...left, ...right];
      return fail(expr.at, `cannot add ${typeName(left)} and ${typeName(right)}`);
    }
  }
}

/** Evaluate a file of `name = literal` statements into a scope object. */
export function evaluatePyLiteralModule(source: string, functions: PyFunctions = {}): Record<string, PyValue> {
  const scope: Record<string, PyValue> = {};
  SubsetReader.of(source, READ).statements((statement) => {
    if (statement.kind !== 'assign') fail(statement.at, 'expected an assignment such as `vars = {...}`');
    scope[statement.name] = evaluate(statement.value, functions);
  });
  return scope;
}

/** Evaluate a single expression (used for tests and `gclient getdep`-like lookups). */
export function evaluatePyLiteral(source: string, functions: PyFunctions = {}): PyValue {
  return evaluate(SubsetReader.of(source, READ).only(), functions);
}
