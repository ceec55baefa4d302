import { ConfigError } from '../errors.js';

/**
 * One tokenizer and one expression reader for the Python-syntax subset that two kinds of upstream files
 * are written in: Chromium's DEPS (chromium/pyliteral.ts evaluates them to values) and Bazel's
 * MODULE.bazel / BUILD.bazel (standalone/starlark.ts hands their calls to the domain code). Starlark is
 * a Python dialect: the strings, brackets, `+`, calls and statements are the same. Reading stays
 * inside the subset: top-level assignments and expressions; strings (all quote styles, raw, adjacent
 * literal concatenation); integers and floats; names with `.attr`; lists, tuples, dicts; calls with
 * positional and keyword arguments; `+`. Anything else (def, if, comprehensions, operators) is a syntax
 * error with line and column, never a guess.
 */

export interface Position {
  line: number;
  /** 1-based. */
  column: number;
}

/**
 * A file outside the subset, at a position. A ConfigError (exit 2): the files come from the pin the
 * config chooses, and the domains that read them catch their own subclass to add what to do about it.
 */
export class PythonSubsetSyntaxError extends ConfigError {
  constructor(
    readonly detail: string,
    readonly at: Position,
    /** Labels the message `file:line:column: ...`; without it, `line L, column C: ...`. */
    readonly file?: string,
  ) {
    super(`${file === undefined ? `line ${at.line}, column ${at.column}` : `${file}:${at.line}:${at.column}`}: ${detail}`);
  }
}

/** How a domain builds its syntax errors (its own subclass of PythonSubsetSyntaxError). */
export type SyntaxErrorFactory = (detail: string, at: Position) => Error;

export interface ReadOptions {
  /** Labels the default errors' messages. */
  file?: string;
  /** Builds every syntax error thrown; default a PythonSubsetSyntaxError labelled with `file`. */
  error?: SyntaxErrorFactory;
  /**
   * An escape the subset does not know, such as `\d`: Python keeps it as written ('keep', DEPS);
   * Starlark refuses it ('refuse', the default).
   */
  unknownEscapes?: 'keep' | 'refuse';
}

export type TokenKind = 'name' | 'string' | 'number' | 'op' | 'newline' | 'eof';

/** `text` is the decoded value for strings, the source text otherwise. */
export interface Token {
  kind: TokenKind;
  text: string;
  at: Position;
}

/** One-character operators. Newlines inside brackets continue the statement; elsewhere they end it. */
const OPERATORS = '{}[](),:=+.';

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '0': '\0',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
};

// Sticky: each matches exactly at lastIndex.
const NUMBER = /-?(?:0[xX][0-9a-fA-F]+|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/y;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
/** A string's prefix: raw and unicode (`r`, `u`, `ur`, ...); bytes (`b`) are outside the subset. */
const STRING_PREFIX = /[rRuU]{0,2}(?=['"])/y;

function matchAt(pattern: RegExp, source: string, index: number): string | undefined {
  pattern.lastIndex = index;
  return pattern.exec(source)?.[0];
}

function errorFactory(options: ReadOptions): SyntaxErrorFactory {
  return options.error ?? ((detail, at) => new PythonSubsetSyntaxError(detail, at, options.file));
}

export function tokenize(source: string, options: ReadOptions = {}): Token[] {
  const error = errorFactory(options);
  const keepUnknownEscapes = options.unknownEscapes === 'keep';
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let depth = 0;
  const here = (): Position => ({ line, column: i - lineStart + 1 });
  const newLine = (next: number) => {
    i = next;
    line++;
    lineStart = i;
  };

  const readString = (prefix: string): string => {
    const start = here();
    const raw = /r/i.test(prefix);
    i += prefix.length;
    const quote = source[i]!;
    const delimiter = source.startsWith(quote.repeat(3), i) ? quote.repeat(3) : quote;
    const triple = delimiter.length === 3;
    i += delimiter.length;
    let value = '';
    for (;;) {
      if (i >= source.length) throw error('unterminated string', start);
      if (source.startsWith(delimiter, i)) {
        i += delimiter.length;
        return value;
      }
      const c = source[i]!;
      if (c === '\n') {
        if (!triple) throw error('newline in a string', start);
        value += c;
        newLine(i + 1);
        continue;
      }
      if (c !== '\\') {
        value += c;
        i++;
        continue;
      }
      const next = source[i + 1] ?? '';
      if (raw) {
        // A raw string keeps the backslash and what follows it, even its quote: r"a\"b" is a\"b.
        value += c + next;
        if (next === '\n') newLine(i + 2);
        else i += 2;
        continue;
      }
      if (next === '\n') {
        newLine(i + 2);
        continue;
      }
      if (next === 'x' || next === 'u') {
        const digits = next === 'x' ? 2 : 4;
        const hex = source.slice(i + 2, i + 2 + digits);
        if (hex.length !== digits || !/^[0-9a-fA-F]+$/.test(hex)) throw error(`bad escape \\${next}${hex}`, here());
        value += String.fromCharCode(parseInt(hex, 16));
        i += 2 + digits;
        continue;
      }
      const escaped = ESCAPES[next];
      if (escaped === undefined && !keepUnknownEscapes) throw error(`unsupported escape \\${next}`, here());
      value += escaped ?? `\\${next}`;
      i += 2;
    }
  };

  while (i < source.length) {
    const c = source[i]!;
    if (c === '\n') {
      if (depth === 0) tokens.push({ kind: 'newline', text: '\n', at: here() });
      newLine(i + 1);
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
    } else if (c === '\\' && source[i + 1] === '\n') {
      newLine(i + 2);
    } else if (c === '#') {
      while (i < source.length && source[i] !== '\n') i++;
    } else {
      const at = here();
      const prefix = matchAt(STRING_PREFIX, source, i);
      const number = prefix === undefined ? matchAt(NUMBER, source, i) : undefined;
      const name = prefix === undefined && number === undefined ? matchAt(NAME, source, i) : undefined;
      if (prefix !== undefined) {
        tokens.push({ kind: 'string', text: readString(prefix), at });
      } else if (number !== undefined) {
        tokens.push({ kind: 'number', text: number, at });
        i += number.length;
      } else if (name !== undefined) {
        tokens.push({ kind: 'name', text: name, at });
        i += name.length;
      } else if (OPERATORS.includes(c)) {
        if ('{[('.includes(c)) depth++;
        else if ('}])'.includes(c)) depth = Math.max(0, depth - 1);
        tokens.push({ kind: 'op', text: c, at });
        i++;
      } else {
        throw error(`unexpected character ${JSON.stringify(c)}`, at);
      }
    }
  }
  tokens.push({ kind: 'eof', text: '', at: here() });
  return tokens;
}

export type Expr =
  | { kind: 'string'; value: string; at: Position }
  | { kind: 'int'; value: number; at: Position }
  | { kind: 'float'; value: number; at: Position }
  /** A name, dotted when it has attributes: `True`, `native.glob`. */
  | { kind: 'ident'; name: string; at: Position }
  | { kind: 'list'; items: Expr[]; at: Position }
  | { kind: 'tuple'; items: Expr[]; at: Position }
  | { kind: 'dict'; entries: Array<{ key: Expr; value: Expr }>; at: Position }
  | { kind: 'call'; callee: string; args: Expr[]; kwargs: Map<string, Expr>; at: Position }
  /** `left + right`; `at` is the `+`. */
  | { kind: 'add'; left: Expr; right: Expr; at: Position };

export type CallExpr = Extract<Expr, { kind: 'call' }>;

/** A top-level statement: `name = value`, or an expression on its own (a call, in the files read). */
export type Statement = { kind: 'assign'; name: string; value: Expr; at: Position } | { kind: 'expression'; value: Expr; at: Position };

function numberExpr(text: string, at: Position): Expr {
  const negative = text.startsWith('-');
  const digits = negative ? text.slice(1) : text;
  const magnitude = Number(digits);
  const value = negative ? -magnitude : magnitude;
  return /^0[xX]/.test(digits) || /^\d+$/.test(digits) ? { kind: 'int', value, at } : { kind: 'float', value, at };
}

const describe = (token: Token) =>
  token.kind === 'eof' ? 'end of file' : token.kind === 'newline' ? 'end of line' : JSON.stringify(token.text);

/** Reads expressions and statements from tokens; every error goes through the domain's factory. */
export class SubsetReader {
  private pos = 0;
  private readonly error: SyntaxErrorFactory;

  constructor(
    private readonly tokens: readonly Token[],
    options: ReadOptions = {},
  ) {
    this.error = errorFactory(options);
  }

  static of(source: string, options: ReadOptions = {}): SubsetReader {
    return new SubsetReader(tokenize(source, options), options);
  }

  fail(at: Position, detail: string): never {
    throw this.error(detail, at);
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)]!;
  }

  private isOp(text: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token.kind === 'op' && token.text === text;
  }

  private expect(text: string): void {
    const token = this.peek();
    if (!this.isOp(text)) this.fail(token.at, `expected "${text}" but found ${describe(token)}`);
    this.pos++;
  }

  /** Skips blank lines; true at the end of the file. */
  atEnd(): boolean {
    while (this.peek().kind === 'newline') this.pos++;
    return this.peek().kind === 'eof';
  }

  /**
   * Every top-level statement, each handed to `accept` (which checks it is one the domain allows)
   * before the reader requires the statement to end there.
   */
  statements<T>(accept: (statement: Statement) => T): T[] {
    const out: T[] = [];
    while (!this.atEnd()) {
      const token = this.peek();
      let statement: Statement;
      if (token.kind === 'name' && this.isOp('=', 1)) {
        this.pos += 2;
        statement = { kind: 'assign', name: token.text, value: this.expression(), at: token.at };
      } else {
        statement = { kind: 'expression', value: this.expression(), at: token.at };
      }
      out.push(accept(statement));
      this.endOfStatement();
    }
    return out;
  }

  /** A single expression that must be all the source holds. */
  only(): Expr {
    this.atEnd();
    const value = this.expression();
    if (!this.atEnd()) this.fail(this.peek().at, `expected the end of the expression but found ${describe(this.peek())}`);
    return value;
  }

  private endOfStatement(): void {
    const token = this.peek();
    if (token.kind === 'newline') this.pos++;
    else if (token.kind !== 'eof') this.fail(token.at, `expected the end of the statement but found ${describe(token)}`);
  }

  expression(): Expr {
    let left = this.primary();
    while (this.isOp('+')) {
      const at = this.peek().at;
      this.pos++;
      left = { kind: 'add', left, right: this.primary(), at };
    }
    return left;
  }

  /** Comma-separated items up to `close`; a trailing comma is allowed. Returns whether a comma was seen. */
  private sequence(close: string, item: () => void): boolean {
    let comma = false;
    while (!this.isOp(close)) {
      item();
      if (this.isOp(close)) break;
      this.expect(',');
      comma = true;
    }
    this.pos++;
    return comma;
  }

  private primary(): Expr {
    const token = this.peek();
    this.pos++;
    switch (token.kind) {
      case 'string': {
        // Adjacent string literals concatenate (long URLs, DEPS entries).
        let value = token.text;
        while (this.peek().kind === 'string') value += this.tokens[this.pos++]!.text;
        return { kind: 'string', value, at: token.at };
      }
      case 'number':
        return numberExpr(token.text, token.at);
      case 'name':
        return this.name(token);
      case 'op':
        if (token.text === '[') {
          const items: Expr[] = [];
          this.sequence(']', () => items.push(this.expression()));
          return { kind: 'list', items, at: token.at };
        }
        if (token.text === '(') {
          // A parenthesised single expression is that expression; with a comma (or empty) it is a tuple.
          const items: Expr[] = [];
          const comma = this.sequence(')', () => items.push(this.expression()));
          return items.length === 1 && !comma ? items[0]! : { kind: 'tuple', items, at: token.at };
        }
        if (token.text === '{') {
          const entries: Array<{ key: Expr; value: Expr }> = [];
          this.sequence('}', () => {
            const key = this.expression();
            this.expect(':');
            entries.push({ key, value: this.expression() });
          });
          return { kind: 'dict', entries, at: token.at };
        }
        break;
      default:
        break;
    }
    return this.fail(token.at, `expected a value but found ${describe(token)}`);
  }

  private name(token: Token): Expr {
    let name = token.text;
    while (this.isOp('.')) {
      this.pos++;
      const attr = this.peek();
      if (attr.kind !== 'name') this.fail(attr.at, `expected an attribute name after "." but found ${describe(attr)}`);
      name += `.${attr.text}`;
      this.pos++;
    }
    if (!this.isOp('(')) return { kind: 'ident', name, at: token.at };
    this.pos++;
    const args: Expr[] = [];
    const kwargs = new Map<string, Expr>();
    this.sequence(')', () => {
      const argument = this.peek();
      if (argument.kind === 'name' && this.isOp('=', 1)) {
        if (kwargs.has(argument.text)) this.fail(argument.at, `keyword argument "${argument.text}" repeated`);
        this.pos += 2;
        kwargs.set(argument.text, this.expression());
      } else {
        if (kwargs.size > 0) this.fail(argument.at, 'positional argument after keyword arguments');
        args.push(this.expression());
      }
    });
    return { kind: 'call', callee: name, args, kwargs, at: token.at };
  }
}

/** What an expression is, for messages: `string`, `call glob`, `ident True`. */
export function describeExpr(expr: Expr): string {
  return expr.kind === 'ident' || expr.kind === 'call' ? `${expr.kind} ${expr.kind === 'ident' ? expr.name : expr.callee}` : expr.kind;
}
