import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { PythonSubsetSyntaxError, SubsetReader, tokenize, type Token } from '../../../src/util/python-subset.js';

const kinds = (tokens: Token[]) => tokens.map((t) => (t.kind === 'op' || t.kind === 'name' ? t.text : t.kind));

describe('tokenize', () => {
  it('ends statements at newlines outside brackets only, and skips comments and backslash continuations', () => {
    const tokens = tokenize('a = [1,\n  2]  # two\nb = \\\n  c\n');
    expect(kinds(tokens)).toEqual(['a', '=', '[', 'number', ',', 'number', ']', 'newline', 'b', '=', 'c', 'newline', 'eof']);
  });

  it('places every token at its line and 1-based column', () => {
    const tokens = tokenize('x = {\n  "k": v,\n}');
    expect(tokens.find((t) => t.text === 'k')?.at).toEqual({ line: 2, column: 3 });
    expect(tokens.find((t) => t.text === 'v')?.at).toEqual({ line: 2, column: 8 });
    expect(tokens.at(-1)).toMatchObject({ kind: 'eof', at: { line: 3, column: 2 } });
  });

  it('reads every quote style, raw and unicode prefixes, and the escapes', () => {
    const strings = (source: string) => tokenize(source, { unknownEscapes: 'keep' }).flatMap((t) => (t.kind === 'string' ? [t.text] : []));
    expect(strings(`'a' "b" '''c\nd''' """e"""`)).toEqual(['a', 'b', 'c\nd', 'e']);
    expect(strings(String.raw`r'\n' R"\d" u'x' ur"\"q"`)).toEqual([String.raw`\n`, String.raw`\d`, 'x', String.raw`\"q`]);
    expect(strings(String.raw`'\t\\\'\x41\u00e9\0' '\d'`)).toEqual(["\t\\'A\u00e9\0", String.raw`\d`]);
    expect(strings("'a\\\nb'")).toEqual(['ab']);
  });

  it('refuses an unknown escape unless told to keep it (Starlark refuses, Python keeps)', () => {
    expect(() => tokenize(String.raw`x = "\d"`)).toThrow(/line 1, column 6: unsupported escape \\d/);
    expect(() => tokenize(String.raw`x = "\xZZ"`, { unknownEscapes: 'keep' })).toThrow(/bad escape \\xZZ/);
  });

  it('reads integers, hex, floats and negative numbers as numbers, and names next to them as names', () => {
    const tokens = tokenize('-3 0x1F 1.5e3 x1 _y');
    expect(tokens.map((t) => [t.kind, t.text])).toEqual([
      ['number', '-3'],
      ['number', '0x1F'],
      ['number', '1.5e3'],
      ['name', 'x1'],
      ['name', '_y'],
      ['eof', ''],
    ]);
  });

  it('stops at a character outside the subset, a newline in a one-line string, or an unterminated string', () => {
    expect(() => tokenize('x = 1 * 2')).toThrow(/line 1, column 7: unexpected character "\*"/);
    expect(() => tokenize('x = "abc\n"')).toThrow(/line 1, column 5: newline in a string/);
    expect(() => tokenize("x = '''abc")).toThrow(/unterminated string/);
  });
});

describe('syntax errors', () => {
  it('are ConfigErrors (exit 2) that carry the position, labelled with the file when there is one', () => {
    const error = (() => {
      try {
        tokenize('ok = 1\nx = ?', { file: 'MODULE.bazel' });
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(PythonSubsetSyntaxError);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({
      exitCode: 2,
      at: { line: 2, column: 5 },
      file: 'MODULE.bazel',
      message: 'MODULE.bazel:2:5: unexpected character "?"',
    });
  });

  it("go through the domain's factory, from the tokenizer and the reader alike", () => {
    class DomainError extends Error {}
    const error = (detail: string) => new DomainError(detail);
    expect(() => SubsetReader.of('x = ?', { error }).only()).toThrow(DomainError);
    expect(() => SubsetReader.of('f(', { error }).only()).toThrow(DomainError);
  });
});

describe('SubsetReader', () => {
  it('reads calls with positional and keyword arguments, dotted names, dicts, lists and +', () => {
    const expr = SubsetReader.of('native.f("a" "b", k = {"x": [1, 2.5]} + y,)').only();
    expect(expr).toMatchObject({ kind: 'call', callee: 'native.f', args: [{ kind: 'string', value: 'ab' }] });
    if (expr.kind !== 'call') return;
    expect(expr.kwargs.get('k')).toMatchObject({
      kind: 'add',
      at: { line: 1, column: 39 },
      left: {
        kind: 'dict',
        entries: [
          {
            key: { kind: 'string', value: 'x' },
            value: {
              kind: 'list',
              items: [
                { kind: 'int', value: 1 },
                { kind: 'float', value: 2.5 },
              ],
            },
          },
        ],
      },
      right: { kind: 'ident', name: 'y' },
    });
  });

  it('reads a parenthesised expression as itself, and a comma or nothing inside parentheses as a tuple', () => {
    expect(SubsetReader.of('(1)').only()).toMatchObject({ kind: 'int', value: 1 });
    expect(SubsetReader.of('(1,)').only()).toMatchObject({ kind: 'tuple', items: [{ kind: 'int', value: 1 }] });
    expect(SubsetReader.of('()').only()).toMatchObject({ kind: 'tuple', items: [] });
  });

  it('hands each statement to the domain before requiring its end, and skips blank lines', () => {
    const seen: string[] = [];
    SubsetReader.of('\n\na = 1\n\nf(a)\n').statements((s) => seen.push(`${s.kind}@${s.at.line}`));
    expect(seen).toEqual(['assign@3', 'expression@5']);
    expect(() => SubsetReader.of('a = 1 b = 2').statements(() => undefined)).toThrow(
      /line 1, column 7: expected the end of the statement but found "b"/,
    );
  });

  it('names what it expected and what it found', () => {
    expect(() => SubsetReader.of('[1 2]').only()).toThrow(/line 1, column 4: expected "," but found "2"/);
    expect(() => SubsetReader.of('f(a = )').only()).toThrow(/line 1, column 7: expected a value but found "\)"/);
    expect(() => SubsetReader.of('{"a" 1}').only()).toThrow(/expected ":" but found "1"/);
    expect(() => SubsetReader.of('a.').only()).toThrow(/expected an attribute name after "." but found end of file/);
    expect(() => SubsetReader.of('f(k = 1, k = 2)').only()).toThrow(/keyword argument "k" repeated/);
    expect(() => SubsetReader.of('f(k = 1, 2)').only()).toThrow(/positional argument after keyword arguments/);
    expect(() => SubsetReader.of('1 2').only()).toThrow(/expected the end of the expression but found "2"/);
  });
});
