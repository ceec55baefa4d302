/**
 * A parser for the small subset of Starlark that quiche's MODULE.bazel and BUILD.bazel files (and those
 * of googleurl and quic-trace) use: top-level calls and assignments whose values are strings, integers,
 * identifiers (with `.attr`), lists, dicts, calls with positional and keyword arguments, and `+`.
 * Reading these files as data (rather than with regular expressions) is what lets a new quiche revision
 * that reshapes them fail with a line and column instead of silently yielding a wrong dependency.
 * Anything outside the subset (def, if, comprehensions, ...) is a StarlarkSyntaxError at its position.
 */

export interface Position {
  line: number;
  column: number;
}

export type Expr =
  | { kind: 'string'; value: string; at: Position }
  | { kind: 'int'; value: number; at: Position }
  | { kind: 'ident'; name: string; at: Position }
  | { kind: 'list'; items: Expr[]; at: Position }
  | { kind: 'dict'; entries: Array<{ key: Expr; value: Expr }>; at: Position }
  | { kind: 'call'; callee: string; args: Expr[]; kwargs: Map<string, Expr>; at: Position }
  | { kind: 'add'; left: Expr; right: Expr; at: Position };

export type CallExpr = Extract<Expr, { kind: 'call' }>;

export type Statement = { kind: 'call'; call: CallExpr } | { kind: 'assign'; name: string; value: Expr; at: Position };

export class StarlarkSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly at: Position,
    detail: string,
  ) {
    super(`${file}:${at.line}:${at.column}: ${detail}`);
    this.name = 'StarlarkSyntaxError';
  }
}

type Token =
  | { type: 'ident'; text: string; at: Position }
  | { type: 'string'; text: string; at: Position }
  | { type: 'int'; text: string; at: Position }
  | { type: 'punct'; text: string; at: Position }
  | { type: 'eof'; text: ''; at: Position };

const PUNCT = new Set(['(', ')', '[', ']', '{', '}', ',', '=', ':', '+', '.']);
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };

function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const here = (): Position => ({ line, column: i - lineStart + 1 });
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '"' || c === "'") {
      const at = here();
      const triple = text.startsWith(c.repeat(3), i);
      const quote = triple ? c.repeat(3) : c;
      i += quote.length;
      let value = '';
      for (;;) {
        if (i >= text.length) throw new StarlarkSyntaxError(file, at, 'unterminated string');
        if (text.startsWith(quote, i)) break;
        const ch = text[i]!;
        if (ch === '\n') {
          if (!triple) throw new StarlarkSyntaxError(file, at, 'newline in a string');
          line++;
          lineStart = i + 1;
        }
        if (ch === '\\') {
          const next = text[i + 1] ?? '';
          const escaped = ESCAPES[next];
          if (escaped === undefined) throw new StarlarkSyntaxError(file, here(), `unsupported escape \\${next}`);
          value += escaped;
          i += 2;
        } else {
          value += ch;
          i++;
        }
      }
      i += quote.length;
      tokens.push({ type: 'string', text: value, at });
    } else if (/[A-Za-z_]/.test(c)) {
      const at = here();
      const start = i;
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i]!)) i++;
      tokens.push({ type: 'ident', text: text.slice(start, i), at });
    } else if (/[0-9]/.test(c)) {
      const at = here();
      const start = i;
      while (i < text.length && /[0-9]/.test(text[i]!)) i++;
      tokens.push({ type: 'int', text: text.slice(start, i), at });
    } else if (PUNCT.has(c)) {
      tokens.push({ type: 'punct', text: c, at: here() });
      i++;
    } else {
      throw new StarlarkSyntaxError(file, here(), `unexpected character ${JSON.stringify(c)}`);
    }
  }
  tokens.push({ type: 'eof', text: '', at: here() });
  return tokens;
}

/** Parses a whole file into its top-level statements. `file` only labels error messages. */
export function parseStarlark(text: string, file = '<starlark>'): Statement[] {
  const tokens = tokenize(text, file);
  let pos = 0;
  const peek = () => tokens[pos]!;
  const fail = (token: Token, detail: string): never => {
    throw new StarlarkSyntaxError(file, token.at, detail);
  };
  const describe = (token: Token) => (token.type === 'eof' ? 'end of file' : JSON.stringify(token.text));
  const isPunct = (text: string) => peek().type === 'punct' && peek().text === text;
  const expect = (text: string) => {
    const token = peek();
    if (token.type !== 'punct' || token.text !== text) fail(token, `expected "${text}" but found ${describe(token)}`);
    pos++;
  };

  // Comma-separated items up to `close`; a trailing comma is allowed, as in Starlark.
  const sequence = (close: string, item: () => void) => {
    while (!isPunct(close)) {
      item();
      if (!isPunct(close)) expect(',');
    }
    expect(close);
  };

  const primary = (): Expr => {
    const token = peek();
    pos++;
    if (token.type === 'string') {
      // Adjacent string literals concatenate (used for long URLs).
      let value = token.text;
      while (peek().type === 'string') value += tokens[pos++]!.text;
      return { kind: 'string', value, at: token.at };
    }
    if (token.type === 'int') return { kind: 'int', value: Number(token.text), at: token.at };
    if (token.type === 'punct' && token.text === '[') {
      const items: Expr[] = [];
      sequence(']', () => items.push(expression()));
      return { kind: 'list', items, at: token.at };
    }
    if (token.type === 'punct' && token.text === '{') {
      const entries: Array<{ key: Expr; value: Expr }> = [];
      sequence('}', () => {
        const key = expression();
        expect(':');
        entries.push({ key, value: expression() });
      });
      return { kind: 'dict', entries, at: token.at };
    }
    if (token.type === 'ident') {
      let name = token.text;
      while (isPunct('.')) {
        pos++;
        const attr = peek();
        if (attr.type !== 'ident') fail(attr, `expected an attribute name after "." but found ${describe(attr)}`);
        name += `.${attr.text}`;
        pos++;
      }
      if (isPunct('(')) {
        pos++;
        return callArguments(name, token.at);
      }
      return { kind: 'ident', name, at: token.at };
    }
    return fail(token, `expected a value but found ${describe(token)}`);
  };

  const callArguments = (callee: string, at: Position): CallExpr => {
    const args: Expr[] = [];
    const kwargs = new Map<string, Expr>();
    sequence(')', () => {
      const token = peek();
      const next = tokens[pos + 1]!;
      if (token.type === 'ident' && next.type === 'punct' && next.text === '=') {
        if (kwargs.has(token.text)) fail(token, `keyword argument "${token.text}" repeated`);
        pos += 2;
        kwargs.set(token.text, expression());
      } else {
        if (kwargs.size > 0) fail(token, 'positional argument after keyword arguments');
        args.push(expression());
      }
    });
    return { kind: 'call', callee, args, kwargs, at };
  };

  const expression = (): Expr => {
    let left = primary();
    while (isPunct('+')) {
      const at = peek().at;
      pos++;
      left = { kind: 'add', left, right: primary(), at };
    }
    return left;
  };

  const statements: Statement[] = [];
  while (peek().type !== 'eof') {
    const token = peek();
    const next = tokens[pos + 1]!;
    if (token.type === 'ident' && next.type === 'punct' && next.text === '=') {
      pos += 2;
      statements.push({ kind: 'assign', name: token.text, value: expression(), at: token.at });
      continue;
    }
    const value = expression();
    if (value.kind !== 'call') fail(token, 'expected a call or an assignment at the top level');
    else statements.push({ kind: 'call', call: value });
  }
  return statements;
}

/** The top-level calls of a file, optionally only those to `callee`. */
export function topLevelCalls(statements: readonly Statement[], callee?: string): CallExpr[] {
  return statements.flatMap((s) => (s.kind === 'call' && (callee === undefined || s.call.callee === callee) ? [s.call] : []));
}

export function describeExpr(expr: Expr): string {
  return expr.kind === 'ident' || expr.kind === 'call' ? `${expr.kind} ${expr.kind === 'ident' ? expr.name : expr.callee}` : expr.kind;
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
