/**
 * What quiche's MODULE.bazel says about its dependencies at one revision: Bazel Central Registry
 * modules with versions (`bazel_dep`), archives fetched by URL (`http_archive` through
 * `use_repo_rule`), and git or archive overrides. Only declarations are read; nothing is fetched.
 */
import { ConfigError } from '../errors.js';
import { parseStarlark, StarlarkSyntaxError, stringArg, stringListArg, type CallExpr } from './starlark.js';

export interface BazelDep {
  name: string;
  version: string;
  /** The name quiche's BUILD files use for it (`@com_google_absl`), when it differs from `name`. */
  repoName?: string;
  devDependency: boolean;
}

export interface HttpArchive {
  name: string;
  urls: string[];
  stripPrefix?: string;
  sha256?: string;
  integrity?: string;
}

export interface GitRepository {
  name: string;
  remote: string;
  commit?: string;
  tag?: string;
}

export interface ModuleBazel {
  moduleName?: string;
  bazelDeps: BazelDep[];
  httpArchives: HttpArchive[];
  /** `git_override(module_name = ...)` and `git_repository` declared through `use_repo_rule`. */
  gitRepositories: GitRepository[];
  /** `archive_override(module_name = ...)`: the module comes from these URLs instead of the registry. */
  archiveOverrides: HttpArchive[];
}

const REPO_RULES = new Set(['http_archive', 'git_repository']);

export function parseModuleBazel(text: string, file = 'MODULE.bazel'): ModuleBazel {
  const result: ModuleBazel = { bazelDeps: [], httpArchives: [], gitRepositories: [], archiveOverrides: [] };
  try {
    const statements = parseStarlark(text, file);
    // `http_archive = use_repo_rule("@bazel_tools//...:http.bzl", "http_archive")`: any local name may be
    // bound to a repository rule, so calls are recognized by what their name was bound to.
    const ruleOf = new Map<string, string>();
    for (const statement of statements) {
      if (statement.kind === 'assign') {
        const value = statement.value;
        if (value.kind === 'call' && value.callee === 'use_repo_rule') {
          const rule = value.args[1];
          if (rule?.kind === 'string' && REPO_RULES.has(rule.value)) ruleOf.set(statement.name, rule.value);
        }
        continue;
      }
      const call = statement.call;
      const rule = ruleOf.get(call.callee) ?? call.callee;
      if (call.callee === 'module') result.moduleName = stringArg(call, 'name', file);
      else if (call.callee === 'bazel_dep') result.bazelDeps.push(bazelDep(call, file));
      else if (rule === 'http_archive' && ruleOf.has(call.callee)) result.httpArchives.push(archive(call, 'name', file));
      else if (call.callee === 'archive_override') result.archiveOverrides.push(archive(call, 'module_name', file));
      else if (call.callee === 'git_override') result.gitRepositories.push(gitRepository(call, 'module_name', file));
      else if (rule === 'git_repository' && ruleOf.has(call.callee)) result.gitRepositories.push(gitRepository(call, 'name', file));
    }
  } catch (error) {
    if (error instanceof StarlarkSyntaxError) {
      throw new ConfigError(`Cannot read quiche's ${file}: ${error.message}`, {
        hint: 'This quiche revision declares its dependencies in a form build-quiche does not understand; set every needed dependency with quiche.dependencies.<name> = { url, ref }, or pick another quiche.revision.',
        cause: error,
      });
    }
    throw error;
  }
  return result;
}

function required(call: CallExpr, key: string, file: string): string {
  const value = stringArg(call, key, file);
  if (value === undefined) throw new StarlarkSyntaxError(file, call.at, `${call.callee}(...) has no ${key}`);
  return value;
}

function bazelDep(call: CallExpr, file: string): BazelDep {
  const repoName = stringArg(call, 'repo_name', file);
  const dev = call.kwargs.get('dev_dependency');
  return {
    name: required(call, 'name', file),
    version: required(call, 'version', file),
    ...(repoName === undefined ? {} : { repoName }),
    devDependency: dev?.kind === 'ident' && dev.name === 'True',
  };
}

function archive(call: CallExpr, nameKey: string, file: string): HttpArchive {
  const url = stringArg(call, 'url', file);
  const urls = [...(stringListArg(call, 'urls', file) ?? []), ...(url === undefined ? [] : [url])];
  if (urls.length === 0) throw new StarlarkSyntaxError(file, call.at, `${call.callee}(...) has neither url nor urls`);
  const optional = { stripPrefix: 'strip_prefix', sha256: 'sha256', integrity: 'integrity' } as const;
  const result: HttpArchive = { name: required(call, nameKey, file), urls };
  for (const [field, key] of Object.entries(optional) as Array<[keyof typeof optional, string]>) {
    const value = stringArg(call, key, file);
    if (value !== undefined) result[field] = value;
  }
  return result;
}

function gitRepository(call: CallExpr, nameKey: string, file: string): GitRepository {
  const commit = stringArg(call, 'commit', file);
  const tag = stringArg(call, 'tag', file);
  if (commit === undefined && tag === undefined) {
    throw new StarlarkSyntaxError(file, call.at, `${call.callee}(...) pins neither a commit nor a tag`);
  }
  return {
    name: required(call, nameKey, file),
    remote: required(call, 'remote', file),
    ...(commit === undefined ? {} : { commit }),
    ...(tag === undefined ? {} : { tag }),
  };
}
