import { PythonSubsetSyntaxError, SubsetReader, describeExpr, type CallExpr, type Expr, type Position } from '../util/python-subset.js';

/**
 * The small subset of Starlark that quiche's MODULE.bazel and BUILD.bazel files (and those of googleurl
 * and quic-trace) use, on the shared reader (util/python-subset.ts): top-level calls and assignments
 * whose values are strings, numbers, identifiers (with `.attr`), lists, tuples, dicts, calls with
 * positional and keyword arguments, and `+`. Reading these files as data (rather than with regular
 * expressions) is what lets a new quiche revision that reshapes them fail with a line and column
 * instead of silently yielding a wrong dependency. Anything outside the subset (def, if,
 * comprehensions, ...) is a StarlarkSyntaxError at its position.
 */

export type { CallExpr, Expr, Position };

export type Statement = { kind: 'call'; call: CallExpr } | { kind: 'assign'; name: string; value: Expr; at: Position };

/** `file:line:column: detail`; a ConfigError, which the readers of each file wrap with what to do. */
export class StarlarkSyntaxError extends PythonSubsetSyntaxError {
  declare readonly file: string;

  constructor(file: string, at: Position, detail: string) {
    super(detail, at, file);
  }
}

/** Parses a whole file into its top-level statements. `file` only labels error messages. */
export function parseStarlark(text: string, file = '<starlark>'): Statement[] {
  const reader = SubsetReader.of(text, { error: (detail, at) => new StarlarkSyntaxError(file, at, detail) });
  return reader.statements((statement): Statement => {
    if (statement.kind === 'assign') return statement;
    if (statement.value.kind !== 'call') return reader.fail(statement.at, 'expected a call or an assignment at the top level');
    return { kind: 'call', call: statement.value };
  });
}

/** A keyword argument that must be a string literal; `undefined` when absent. */
export function stringArg(call: CallExpr, key: string, file: string): string | undefined {
  const value = call.kwargs.get(key);
  if (value === undefined) return undefined;
  if (value.kind !== 'string') {
    throw new StarlarkSyntaxError(file, value.at, `${call.callee}(${key} = ...) must be a string, found ${describeExpr(value)}`);
  }
  return value.value;
}

/** A keyword argument that must be a list of string literals; `undefined` when absent. */
export function stringListArg(call: CallExpr, key: string, file: string): string[] | undefined {
  const value = call.kwargs.get(key);
  if (value === undefined) return undefined;
  if (value.kind !== 'list') {
    throw new StarlarkSyntaxError(file, value.at, `${call.callee}(${key} = ...) must be a list, found ${describeExpr(value)}`);
  }
  return value.items.map((item) => {
    if (item.kind !== 'string') {
      throw new StarlarkSyntaxError(file, item.at, `${call.callee}(${key} = [...]) must hold strings, found ${describeExpr(item)}`);
    }
    return item.value;
  });
}
