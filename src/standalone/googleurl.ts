/**
 * googleurl's translation units, read from its own Bazel BUILD files (url/BUILD, base/BUILD) rather than
 * a hand-kept list, so an override to another googleurl commit brings its own file list.
 *
 * `select()` takes the `//conditions:default` branch. For url/BUILD that means url_idna_ascii_only.cc
 * instead of the ICU variant: quiche never converts internationalized host names, and linking ICU
 * (-licuuc) would add a system dependency for nothing.
 */
import { ConfigError } from '../errors.js';
import { parseStarlark, StarlarkSyntaxError, type Expr } from './starlark.js';

/** The cc_library targets quiche's `@com_google_googleurl//url` pulls in, by BUILD file. */
export const GOOGLEURL_LIBRARIES = [
  { buildFile: 'url/BUILD', target: 'url' },
  { buildFile: 'base/BUILD', target: 'base' },
] as const;

const HINT = 'Point quiche.dependencies.googleurl at a googleurl commit with Bazel BUILD files for url and base.';

/** The .cc files of one cc_library in a BUILD file, relative to the repository root. */
export function librarySources(buildText: string, buildFile: string, target: string): string[] {
  try {
    const statements = parseStarlark(buildText, buildFile);
    const variables = new Map<string, Expr>();
    for (const s of statements) if (s.kind === 'assign') variables.set(s.name, s.value);
    const library = statements.find(
      (s) => s.kind === 'call' && s.call.callee === 'cc_library' && nameOf(s.call.kwargs.get('name')) === target,
    );
    if (!library || library.kind !== 'call')
      throw new ConfigError(`googleurl's ${buildFile} has no cc_library "${target}".`, { hint: HINT });
    const srcs = library.call.kwargs.get('srcs');
    const dir = buildFile.slice(0, buildFile.lastIndexOf('/'));
    return (srcs ? strings(srcs, variables, buildFile) : [])
      .filter((f) => f.endsWith('.cc'))
      .map((f) => `${dir}/${f}`)
      .sort();
  } catch (error) {
    if (error instanceof StarlarkSyntaxError)
      throw new ConfigError(`Cannot read googleurl's ${buildFile}: ${error.message}`, { hint: HINT, cause: error });
    throw error;
  }
}

const nameOf = (expr: Expr | undefined) => (expr?.kind === 'string' ? expr.value : undefined);

function strings(expr: Expr, variables: ReadonlyMap<string, Expr>, file: string): string[] {
  switch (expr.kind) {
    case 'string':
      return [expr.value];
    case 'list':
      return expr.items.flatMap((item) => strings(item, variables, file));
    case 'add':
      return [...strings(expr.left, variables, file), ...strings(expr.right, variables, file)];
    case 'ident': {
      const value = variables.get(expr.name);
      if (!value) throw new StarlarkSyntaxError(file, expr.at, `unknown name ${expr.name} in srcs`);
      return strings(value, variables, file);
    }
    case 'call': {
      const branches = expr.callee === 'select' ? expr.args[0] : undefined;
      const fallback = branches?.kind === 'dict' ? branches.entries.find((e) => nameOf(e.key) === '//conditions:default') : undefined;
      if (!fallback)
        throw new StarlarkSyntaxError(
          file,
          expr.at,
          `only select() with a //conditions:default branch is understood in srcs, found ${expr.callee}()`,
        );
      return strings(fallback.value, variables, file);
    }
    default:
      throw new StarlarkSyntaxError(file, expr.at, `a ${expr.kind} is not understood in srcs`);
  }
}
