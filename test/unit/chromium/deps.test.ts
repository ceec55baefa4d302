import { describe, expect, it } from 'vitest';
import { evaluateCondition, resolveDeps, DepsError } from '../../../src/chromium/deps.js';
import { evaluatePyLiteral, evaluatePyLiteralModule } from '../../../src/chromium/pyliteral.js';

const DEPS = `
# Copied shape of chromium/src DEPS: comments, Var(), Str(), conditions, cipd and gcs deps.
use_relative_paths = False
git_dependencies = 'SYNC'
gclient_gn_args_file = 'src/build/config/gclient_args.gni'
vars = {
  "chromium_git": "https://chromium.googlesource.com",
  'quiche_git': 'https://quiche.googlesource.com',
  'quiche_revision': '1ba0d99a5c2fec4f4dbb7f98f251b05dcf4e2968',
  'gn_version': 'git_revision:' + '5e19d2fb166fbd4f6f32147fbb2f497091a54ad8',
  'checkout_nacl': True,
  'checkout_configuration': Str('default'),
  'non_git_source': True,
  "ratio": 1.5,
}
deps = {
  'src/net/third_party/quiche/src':
    Var('quiche_git') + '/quiche.git' + '@' +  Var('quiche_revision'),
  'src/third_party/depot_tools':
    Var('chromium_git') + '/chromium/tools/depot_tools.git' + '@' + 'aabbccddeeff00112233445566778899aabbccdd',
  'src/third_party/nacl': {
    'url': '{chromium_git}/native_client.git@0123',
    'condition': 'checkout_nacl and checkout_linux',
  },
  'src/buildtools/linux64': {
    'packages': [{'package': 'gn/gn/linux-amd64', 'version': Var('gn_version')}],
    'dep_type': 'cipd',
    'condition': 'host_os == "linux" and non_git_source',
  },
  'src/third_party/llvm-build/Release+Asserts': {
    'dep_type': 'gcs',
    'bucket': 'chromium-browser-clang',
    'objects': [{'object_name': 'Linux_x64/clang.tar.xz', 'sha256sum': 'ab', 'size_bytes': 1, 'generation': 2,},],
  },
  'src/unpinned': Var('chromium_git') + '/unpinned.git',
}
hooks = [
  {'name': 'lastchange', 'pattern': '.', 'action': ['python3', 'src/build/util/lastchange.py', '-o', 'src/build/util/LASTCHANGE']},
  {'name': 'configure_siso', 'pattern': '.', 'condition': 'not (host_os == "win")', 'action': ['python3', 'x']},
]
`;

describe('python literal evaluator', () => {
  it('evaluates every literal form DEPS uses', () => {
    expect(evaluatePyLiteral(`{'a': [1, 2,], "b": (True, None), 'c': 'x' "y" '''z''', 'd': r'\\n', 'e': -3, 'f': 'a\\tb'}`)).toEqual({
      a: [1, 2],
      b: [true, null],
      c: 'xyz',
      d: '\\n',
      e: -3,
      f: 'a\tb',
    });
  });

  it('reports the line and column of a syntax error', () => {
    expect(() => evaluatePyLiteralModule('vars = {\n  "a": 1\n  "b": 2\n}')).toThrow(/line 3, column 3/);
  });

  it('refuses names that are not literals or known functions', () => {
    expect(() => evaluatePyLiteralModule('x = os')).toThrow(/unknown name os/);
    expect(() => evaluatePyLiteralModule('x = Eval("1")')).toThrow(/unknown function Eval/);
  });
});

describe('DEPS resolution', () => {
  it('resolves git deps with Var() expansion and pins', () => {
    const deps = resolveDeps(DEPS, { targetOs: ['linux'], targetOsOnly: true });
    expect(deps.gitDeps.find((d) => d.path === 'src/net/third_party/quiche/src')).toEqual({
      path: 'src/net/third_party/quiche/src',
      url: 'https://quiche.googlesource.com/quiche.git',
      revision: '1ba0d99a5c2fec4f4dbb7f98f251b05dcf4e2968',
    });
    expect(deps.vars.gn_version).toBe('git_revision:5e19d2fb166fbd4f6f32147fbb2f497091a54ad8');
    expect(deps.gitDependencies).toBe('SYNC');
    expect(deps.hooks.map((h) => h.name)).toEqual(['lastchange', 'configure_siso']);
  });

  it('lets custom_vars override DEPS vars, like a mirror does', () => {
    const deps = resolveDeps(DEPS, { customVars: { quiche_git: 'http://127.0.0.1:9/q', checkout_nacl: false, quiche_revision: 'abc' } });
    const quiche = deps.gitDeps.find((d) => d.path.endsWith('quiche/src'))!;
    expect(quiche.url).toBe('http://127.0.0.1:9/q/quiche.git');
    expect(quiche.revision).toBe('abc');
    expect(deps.gitDeps.some((d) => d.path === 'src/third_party/nacl')).toBe(false);
  });

  it('keeps cipd and gcs deps out of the git deps and says why', () => {
    const deps = resolveDeps(DEPS);
    expect(deps.other.map((d) => [d.path, d.type])).toEqual([
      ['src/buildtools/linux64', 'cipd'],
      ['src/third_party/llvm-build/Release+Asserts', 'gcs'],
    ]);
    expect(deps.gitDeps.find((d) => d.path === 'src/unpinned')?.revision).toBeUndefined();
  });

  it('evaluates conditions with and/or/not, comparisons and parentheses', () => {
    const vars = { checkout_linux: true, checkout_nacl: false, host_os: 'linux' };
    expect(evaluateCondition('checkout_linux and not checkout_nacl', vars)).toBe(true);
    expect(evaluateCondition('(host_os == "win" or checkout_nacl) and checkout_linux', vars)).toBe(false);
    expect(evaluateCondition("host_os != 'mac'", vars)).toBe(true);
    expect(() => evaluateCondition('checkout_unknown', vars)).toThrow(DepsError);
  });
});

describe('custom_deps', () => {
  it('drop a dep with null and re-pin one with url@rev, like gclient', async () => {
    const { applyCustomDeps } = await import('../../../src/pins/resolve-pin.js');
    const deps = resolveDeps(DEPS).gitDeps;
    const custom = applyCustomDeps(deps, {
      'src/third_party/depot_tools': null,
      'src/net/third_party/quiche/src': 'http://mirror/quiche.git@0123456789012345678901234567890123456789',
    });
    expect(custom.some((d) => d.path === 'src/third_party/depot_tools')).toBe(false);
    expect(custom.find((d) => d.path.endsWith('quiche/src'))).toEqual({
      path: 'src/net/third_party/quiche/src',
      url: 'http://mirror/quiche.git',
      revision: '0123456789012345678901234567890123456789',
    });
  });
});
