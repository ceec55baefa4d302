/**
 * A tokenizer and evaluator for the Python-literal subset that DEPS files are written in:
 * assignments at top level, dicts, lists, tuples, strings (all quote styles, raw, adjacent
 * literal concatenation), numbers, True/False/None, `+` concatenation and calls to helper
 * functions such as Var() and Str(). Anything else is an error with line and column, never a guess.
 */

export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

type TokenKind = 'name' | 'string' | 'number' | 'op' | 'newline' | 'eof';
interface Token {
  kind: TokenKind;
  value: string;
  line: number;
  col: number;
}

export class PyLiteralError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(`line ${line}, column ${col}: ${message}`);
    this.name = 'PyLiteralError';
  }
}

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

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let depth = 0; // newlines inside brackets are not statement ends
  const at = () => ({ line, col: i - lineStart + 1 });
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '\n') {
      if (depth === 0) tokens.push({ kind: 'newline', value: '\n', ...at() });
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f') {
      i++;
      continue;
    }
    if (ch === '\\' && source[i + 1] === '\n') {
      i += 2;
      line++;
      lineStart = i;
      continue;
    }
    if (ch === '#') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    const prefix = /^([rRuUbB]{0,2})(['"])/.exec(source.slice(i, i + 3));
    if (prefix && (prefix[1] === '' || /^[rRuU]+$/.test(prefix[1]!))) {
      const pos = at();
      const raw = /r/i.test(prefix[1]!);
      i += prefix[1]!.length;
      const quote = source[i]!;
      const triple = source.slice(i, i + 3) === quote.repeat(3);
      const delim = triple ? quote.repeat(3) : quote;
      i += delim.length;
      let value = '';
      for (;;) {
        if (i >= source.length) throw new PyLiteralError('unterminated string', pos.line, pos.col);
        if (source.startsWith(delim, i)) {
          i += delim.length;
          break;
        }
        const c = source[i]!;
        if (c === '\n') {
          if (!triple) throw new PyLiteralError('newline in string', pos.line, pos.col);
          line++;
          lineStart = i + 1;
        }
        if (c === '\\' && !raw) {
          const next = source[i + 1]!;
          if (next === '\n') {
            i += 2;
            line++;
            lineStart = i;
            continue;
          }
          if (next === 'x' || next === 'u') {
            const len = next === 'x' ? 2 : 4;
            value += String.fromCharCode(parseInt(source.slice(i + 2, i + 2 + len), 16));
            i += 2 + len;
            continue;
          }
          value += ESCAPES[next] ?? `\\${next}`;
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      tokens.push({ kind: 'string', value, ...pos });
      continue;
    }
    const number = /^-?(0[xX][0-9a-fA-F]+|\d+(\.\d+)?([eE][+-]?\d+)?)/.exec(source.slice(i));
    if (number && /[\d-]/.test(ch) && !(ch === '-' && !/\d/.test(source[i + 1] ?? ''))) {
      tokens.push({ kind: 'number', value: number[0], ...at() });
      i += number[0].length;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i));
    if (name) {
      tokens.push({ kind: 'name', value: name[0], ...at() });
      i += name[0].length;
      continue;
    }
    if ('{[('.includes(ch)) depth++;
    if ('}])'.includes(ch)) depth = Math.max(0, depth - 1);
    if ('{}[](),:=+'.includes(ch)) {
      tokens.push({ kind: 'op', value: ch, ...at() });
      i++;
      continue;
    }
    const pos = at();
    throw new PyLiteralError(`unexpected character ${JSON.stringify(ch)}`, pos.line, pos.col);
  }
  tokens.push({ kind: 'eof', value: '', ...at() });
  return tokens;
}

export type PyFunctions = Record<string, (...args: PyValue[]) => PyValue>;

class Parser {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly functions: PyFunctions,
  ) {}

  private peek(): Token {
    return this.tokens[this.pos]!;
  }
  private next(): Token {
    return this.tokens[this.pos++]!;
  }
  private fail(message: string, token = this.peek()): never {
    throw new PyLiteralError(message, token.line, token.col);
  }
  private expectOp(op: string): void {
    const token = this.next();
    if (token.kind !== 'op' || token.value !== op)
      this.fail(`expected "${op}", found ${JSON.stringify(token.value) || 'end of file'}`, token);
  }
  private isOp(op: string): boolean {
    const token = this.peek();
    return token.kind === 'op' && token.value === op;
  }

  module(): Record<string, PyValue> {
    const scope: Record<string, PyValue> = {};
    for (;;) {
      const token = this.peek();
      if (token.kind === 'eof') return scope;
      if (token.kind === 'newline') {
        this.next();
        continue;
      }
      if (token.kind !== 'name') this.fail('expected an assignment such as `vars = {...}`');
      this.next();
      this.expectOp('=');
      scope[token.value] = this.expression();
      const end = this.next();
      if (end.kind !== 'newline' && end.kind !== 'eof') this.fail('expected the end of the statement', end);
      if (end.kind === 'eof') return scope;
    }
  }

  expression(): PyValue {
    let value = this.atom();
    while (this.isOp('+')) {
      const op = this.next();
      const right = this.atom();
      if (typeof value === 'string' && typeof right === 'string') value = value + right;
      else if (typeof value === 'number' && typeof right === 'number') value = value + right;
      else if (Array.isArray(value) && Array.isArray(right)) value = [...value, ...right];
      else this.fail(`cannot add ${typeName(value)} and ${typeName(right)}`, op);
    }
    return value;
  }

  private atom(): PyValue {
    const token = this.next();
    switch (token.kind) {
      case 'string': {
        let value = token.value;
        while (this.peek().kind === 'string') value += this.next().value; // 'a' 'b' == 'ab'
        return value;
      }
      case 'number':
        return Number(token.value);
      case 'name': {
        if (token.value === 'True') return true;
        if (token.value === 'False') return false;
        if (token.value === 'None') return null;
        if (this.isOp('(')) return this.call(token);
        return this.fail(`unknown name ${token.value} (only literals and calls are allowed)`, token);
      }
      case 'op':
        if (token.value === '{') return this.dict();
        if (token.value === '[') return this.items(']').items;
        if (token.value === '(') {
          // A parenthesised single expression is that expression; with a comma it is a tuple.
          const { items, sawComma } = this.items(')');
          return items.length === 1 && !sawComma ? items[0]! : items;
        }
        return this.fail(`unexpected "${token.value}"`, token);
      default:
        return this.fail(token.kind === 'eof' ? 'unexpected end of file' : 'unexpected end of line', token);
    }
  }

  private call(name: Token): PyValue {
    const fn = this.functions[name.value];
    if (!fn) this.fail(`unknown function ${name.value}()`, name);
    this.expectOp('(');
    return fn(...this.items(')').items);
  }

  /** Comma-separated expressions up to and including `close`; trailing commas allowed. */
  private items(close: string): { items: PyValue[]; sawComma: boolean } {
    const items: PyValue[] = [];
    let sawComma = false;
    while (!this.isOp(close)) {
      items.push(this.expression());
      if (this.isOp(',')) {
        this.next();
        sawComma = true;
      } else if (!this.isOp(close)) this.fail(`expected "," or "${close}"`);
    }
    this.next();
    return { items, sawComma };
  }

  private dict(): Record<string, PyValue> {
    const out: Record<string, PyValue> = {};
    while (!this.isOp('}')) {
      const keyToken = this.peek();
      const key = this.expression();
      if (typeof key !== 'string') this.fail('dict keys must be strings', keyToken);
      this.expectOp(':');
      out[key] = this.expression();
      if (this.isOp(',')) this.next();
      else if (!this.isOp('}')) this.fail('expected "," or "}"');
    }
    this.next();
    return out;
  }
}

function typeName(value: PyValue): string {
  if (value === null) return 'None';
  if (Array.isArray(value)) return 'list';
  return typeof value === 'object' ? 'dict' : typeof value;
}

/** Evaluate a file of `name = literal` statements into a scope object. */
export function evaluatePyLiteralModule(source: string, functions: PyFunctions = {}): Record<string, PyValue> {
  return new Parser(tokenize(source), functions).module();
}

/** Evaluate a single expression (used for tests and `gclient getdep`-like lookups). */
export function evaluatePyLiteral(source: string, functions: PyFunctions = {}): PyValue {
  const parser = new Parser(tokenize(source), functions);
  return parser.expression();
}
