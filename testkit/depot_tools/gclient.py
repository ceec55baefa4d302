#!/usr/bin/env python3
# Fake depot_tools (build-quiche test fixture): gclient.
#
# Not Chromium's gclient: a small reimplementation of the parts build-quiche uses,
# written to behave like the real one, including its observed failure modes (each
# one is marked "QUIRK n" below; the numbers follow CHROMIUM.md's "How the real
# gclient behaves"). See README.md for the environment knobs.
"""Meta checkout dependency manager for Git (build-quiche test fake)."""

import ast
import json
import optparse
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time

__version__ = '0.7'

DEPS_FILE = 'DEPS'
GCLIENT_FILE = '.gclient'
ENTRIES_FILE = '.gclient_entries'

RETRIES = int(os.environ.get('FAKE_GCLIENT_RETRIES', '3'))
RETRY_SLEEP = float(os.environ.get('FAKE_GCLIENT_RETRY_SLEEP', '0.05'))
PAUSE_IN_CLONE = [
    p.strip().rstrip('/')
    for p in os.environ.get('FAKE_GCLIENT_PAUSE_IN_CLONE', '').split(',')
    if p.strip()
]
PAUSE_SECONDS = float(os.environ.get('FAKE_GCLIENT_PAUSE_SECONDS', '600'))

DEP_TYPES = ('git', 'cipd', 'gcs')


class Error(Exception):
    """An error gclient reports and exits 1 for."""


class HookError(Error):
    """A hook failed: gclient exits 2."""


def out(text=''):
    print(text, flush=True)


def err(text):
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# git helpers


def quote_cmd(args):
    return ' '.join(shlex.quote(a) for a in args)


def git_capture(args, cwd, check=True):
    """Runs git and returns its stdout (stripped); raises Error when check fails."""
    proc = subprocess.run(['git'] + args, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True)
    if check and proc.returncode != 0:
        raise Error("Command '%s' returned non-zero exit status %d in %s\n%s" %
                    (quote_cmd(['git'] + args), proc.returncode, cwd,
                     proc.stderr.strip()))
    return proc.stdout.strip() if proc.returncode == 0 else None


def git_stream(args, cwd):
    """Runs git with its output passed through. Returns (returncode, output)."""
    proc = subprocess.Popen(['git'] + args, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            errors='replace')
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            sys.stdout.write(line)
            sys.stdout.flush()
        proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc.returncode, ''.join(lines)


def git_with_retries(args, cwd):
    """Runs a network git command, retrying like gclient_utils.CheckCallAndFilter.

    QUIRK 8: git's own messages (RPC failed; curl 56, early EOF, HTTP 5xx...) pass
    through; then 'will retry after a short nap'; after the retries, exit 1.
    QUIRK 6: a missing tag or commit is retried the same way before failing.
    """
    full = ['-c', 'core.deltaBaseCacheLimit=2g'] + args
    sleep = RETRY_SLEEP
    for attempt in range(RETRIES + 1):
        code, output = git_stream(full, cwd)
        if code == 0:
            return
        if attempt < RETRIES:
            out("WARNING: subprocess '%s' in %s failed; will retry after a short nap..." %
                (' '.join('"%s"' % a for a in ['git'] + full), cwd))
            time.sleep(sleep)
            sleep *= 2
    raise Error("Command '%s' returned non-zero exit status %d in %s\n%s" %
                (quote_cmd(['git'] + full), code, cwd, output.strip()))


def head_revision(path):
    return git_capture(['rev-parse', '--verify', '-q', 'HEAD'], path, check=False)


def current_branch(path):
    return git_capture(['symbolic-ref', '-q', '--short', 'HEAD'], path, check=False)


def has_commit(path, sha):
    return git_capture(['cat-file', '-e', sha + '^{commit}'], path, check=False) is not None


def is_hash(revision):
    return (revision is not None and len(revision) == 40 and
            all(c in '0123456789abcdef' for c in revision))


def tracked_changes(path):
    """Modified or staged tracked files (untracked files do not count)."""
    status = git_capture(['status', '--porcelain', '--untracked-files=no',
                          '--ignore-submodules=all'], path) or ''
    return [line for line in status.splitlines() if line.strip()]


# ---------------------------------------------------------------------------
# .gclient and DEPS


def find_root(start):
    path = os.path.abspath(start)
    while True:
        if os.path.exists(os.path.join(path, GCLIENT_FILE)):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def read_gclient(root):
    scope = {}
    with open(os.path.join(root, GCLIENT_FILE)) as f:
        content = f.read()
    try:
        exec(compile(content, GCLIENT_FILE, 'exec'), scope)
    except SyntaxError as e:
        raise Error('%s:%s: %s' % (GCLIENT_FILE, e.lineno, e.msg))
    if not scope.get('solutions'):
        raise Error('No solution specified in %s' % GCLIENT_FILE)
    return scope


def require_root():
    root = find_root(os.getcwd())
    if not root:
        raise Error("client not configured; see 'gclient config'")
    return root


def exec_deps(path):
    """Evaluates a DEPS file the way gclient does: exec with Var() and Str()."""
    with open(path) as f:
        content = f.read()
    scope = {
        'Var': lambda name: '{%s}' % name,
        'Str': lambda value: value,
    }
    try:
        exec(compile(content, path, 'exec'), scope)
    except SyntaxError as e:
        raise Error('%s:%s: %s' % (path, e.lineno, e.msg))
    return scope


def host_os():
    return {'linux': 'linux', 'darwin': 'mac', 'win32': 'win'}.get(sys.platform, sys.platform)


def host_cpu():
    machine = platform.machine().lower()
    return {'x86_64': 'x64', 'amd64': 'x64', 'aarch64': 'arm64', 'i686': 'x86'}.get(machine, machine)


def builtin_vars(gclient_scope):
    target_os = list(gclient_scope.get('target_os', []))
    if not gclient_scope.get('target_os_only'):
        target_os.append(host_os())
    target_cpu = list(gclient_scope.get('target_cpu', []))
    if not gclient_scope.get('target_cpu_only'):
        target_cpu.append(host_cpu())
    result = {'host_os': host_os(), 'host_cpu': host_cpu()}
    for os_name in ('android', 'chromeos', 'fuchsia', 'ios', 'linux', 'mac', 'win'):
        result['checkout_' + os_name] = os_name in target_os
    for cpu in ('arm', 'arm64', 'x86', 'x64', 'mips', 'mips64', 'ppc', 's390', 'riscv64', 'loong64'):
        result['checkout_' + cpu] = cpu in target_cpu
    return result


def eval_condition(condition, variables):
    try:
        return bool(eval(condition, {'__builtins__': {}}, dict(variables)))
    except Exception as e:
        raise Error('invalid "condition": %s while evaluating %r' % (e, condition))


def format_var(value, variables):
    """Substitutes Var() placeholders: Var('x') evaluated to '{x}'; '{{' stays a brace."""
    if isinstance(value, str):
        try:
            value = value.format(**variables)
        except (KeyError, IndexError, ValueError) as e:
            raise Error('DEPS: undefined var %s in %r' % (e, value))
    return value


class Dep:
    def __init__(self, path, dep_type, url=None, revision=None, condition=None, raw=None):
        self.path = path
        self.dep_type = dep_type
        self.url = url
        self.revision = revision
        self.condition = condition
        self.raw = raw or {}


class Solution:
    """One solution of .gclient and the DEPS it points to."""

    def __init__(self, root, spec, gclient_scope):
        self.root = root
        self.name = spec['name']
        self.url = spec.get('url')
        self.managed = spec.get('managed', True)
        self.deps_file = spec.get('deps_file') or DEPS_FILE
        self.custom_deps = spec.get('custom_deps') or {}
        self.custom_vars = spec.get('custom_vars') or {}
        self.gclient_scope = gclient_scope
        self.path = os.path.join(root, self.name)
        self.deps_scope = None
        self.variables = {}

    def load_deps(self):
        deps_path = os.path.join(self.path, self.deps_file)
        if not os.path.exists(deps_path):
            self.deps_scope = {}
            self.variables = dict(builtin_vars(self.gclient_scope))
            return
        self.deps_scope = exec_deps(deps_path)
        variables = dict(builtin_vars(self.gclient_scope))
        deps_vars = dict(self.deps_scope.get('vars', {}))
        variables.update(deps_vars)
        # custom_vars override DEPS vars; custom_vars DEPS does not declare are ignored.
        for name, value in self.custom_vars.items():
            if name in deps_vars:
                variables[name] = value
        self.variables = variables

    def git_dependencies(self):
        return (self.deps_scope or {}).get('git_dependencies', 'DEPS')

    def deps(self):
        result = []
        for path, value in sorted((self.deps_scope or {}).get('deps', {}).items()):
            if path in self.custom_deps:
                value = self.custom_deps[path]
                if value is None:
                    continue
            if isinstance(value, str):
                dep = Dep(path, 'git', raw={'url': value})
                url = format_var(value, self.variables)
            else:
                dep = Dep(path, value.get('dep_type', 'git'), condition=value.get('condition'), raw=value)
                url = format_var(value.get('url'), self.variables) if value.get('url') else None
            if url and '@' in url.split('://', 1)[-1]:
                url, revision = url.rsplit('@', 1)
                dep.url, dep.revision = url, revision
            else:
                dep.url = url
            result.append(dep)
        for path, value in sorted(self.custom_deps.items()):
            if value is not None and path not in (self.deps_scope or {}).get('deps', {}):
                url, _, revision = format_var(value, self.variables).rpartition('@')
                result.append(Dep(path, 'git', url=url or value, revision=revision or None))
        return result

    def active(self, dep):
        if not dep.condition:
            return True
        return eval_condition(dep.condition, self.variables)

    def hooks(self):
        result = []
        for hook in (self.deps_scope or {}).get('hooks', []):
            if hook.get('condition') and not eval_condition(hook['condition'], self.variables):
                continue
            result.append(hook)
        return result

    def write_gn_args(self):
        scope = self.deps_scope or {}
        args_file = scope.get('gclient_gn_args_file')
        if not args_file:
            return
        lines = ['# Generated from %r' % self.deps_file]
        for name in scope.get('gclient_gn_args', []):
            value = self.variables.get(name)
            if isinstance(value, bool):
                text = 'true' if value else 'false'
            elif isinstance(value, str):
                text = '"%s"' % value.replace('"', '\\"')
            else:
                text = str(value)
            lines.append('%s = %s' % (name, text))
        content = '\n'.join(lines)
        path = os.path.join(self.root, args_file)
        # Like current gclient: rewrite only when the content changes, so that a
        # no-op sync does not make gn regenerate the build.
        try:
            with open(path) as f:
                if f.read() == content:
                    return
        except FileNotFoundError:
            pass
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(content)


def read_entries(root):
    path = os.path.join(root, ENTRIES_FILE)
    if not os.path.exists(path):
        return {}
    scope = {}
    with open(path) as f:
        exec(f.read(), scope)
    return scope.get('entries', {})


def write_entries(root, entries):
    lines = ['entries = {']
    for path in sorted(entries):
        lines.append('  %r: %r,' % (path, entries[path]))
    lines.append('}')
    with open(os.path.join(root, ENTRIES_FILE), 'w') as f:
        f.write('\n'.join(lines) + '\n')


# ---------------------------------------------------------------------------
# syncing one git checkout


def fetch_spec(revision):
    """What to fetch for a revision: (refspec, name to resolve afterwards)."""
    if revision is None:
        return '+refs/heads/main:refs/remotes/origin/main', 'refs/remotes/origin/main'
    if is_hash(revision):
        return revision, revision
    if revision.startswith('refs/tags/'):
        return '+%s:%s' % (revision, revision), revision
    if revision.startswith('refs/heads/'):
        branch = revision[len('refs/heads/'):]
        return '+%s:refs/remotes/origin/%s' % (revision, branch), 'refs/remotes/origin/' + branch
    if revision.startswith('refs/'):
        return '+%s:%s' % (revision, revision), revision
    if revision.startswith('origin/'):
        branch = revision[len('origin/'):]
        return '+refs/heads/%s:refs/remotes/origin/%s' % (branch, branch), 'refs/remotes/origin/' + branch
    # A bare name: a tag (Chromium versions) or a branch, as the remote has it.
    return None, revision


def resolve_bare_name(path, name):
    listing = git_capture(['ls-remote', 'origin', 'refs/tags/' + name, 'refs/heads/' + name], path, check=False) or ''
    refs = [line.split('\t')[1] for line in listing.splitlines() if '\t' in line]
    for ref in ('refs/tags/' + name, 'refs/heads/' + name):
        if ref in refs:
            return fetch_spec(ref)
    # Let the fetch fail (and retry) the way git fails for an unknown ref.
    return '+refs/tags/%s:refs/tags/%s' % (name, name), 'refs/tags/' + name


def maybe_pause(relpath):
    if relpath.rstrip('/') in PAUSE_IN_CLONE:
        out('[fake gclient] paused in first clone of %s (pid %d)' % (relpath, os.getpid()))
        time.sleep(PAUSE_SECONDS)


class SyncResult:
    def __init__(self, relpath, url, reported_revision, moved):
        self.relpath = relpath
        self.url = url
        self.reported_revision = reported_revision
        self.moved = moved


def first_clone(path, relpath, url, revision, options):
    """Clones into an empty (or missing) directory, as gclient_scm's _Clone does.

    `git init` comes first, so a clone that dies half way leaves a .git behind;
    see QUIRK 2 in sync_existing.
    """
    out('\n________ running \'git clone %s\' for %s' % (url, relpath))
    os.makedirs(path, exist_ok=True)
    git_capture(['init', '-q', path], os.path.dirname(path))
    git_capture(['remote', 'add', 'origin', url], path)
    refspec, target = fetch_spec(revision)
    if refspec is None:
        refspec, target = resolve_bare_name(path, revision)
    if options.no_history:
        # QUIRK 3: --no-history only shapes this first clone.
        git_with_retries(['fetch', '--depth=1', 'origin', refspec], path)
        maybe_pause(relpath)
        git_capture(['checkout', '-q', '--detach', 'FETCH_HEAD' if is_hash(target) else target], path)
        return
    # Like `git clone` + `git reset --hard HEAD`: the default branch first, on a local branch.
    git_with_retries(['fetch', 'origin',
                      '+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'], path)
    git_capture(['remote', 'set-head', 'origin', '-a'], path, check=False)
    default = git_capture(['symbolic-ref', '-q', '--short', 'refs/remotes/origin/HEAD'], path, check=False) or 'origin/main'
    git_capture(['checkout', '-q', '-b', default.split('/', 1)[-1], '--track', default], path)
    maybe_pause(relpath)
    if is_hash(target) and not has_commit(path, target):
        git_with_retries(['fetch', 'origin', target], path)
    elif not is_hash(target) and git_capture(['rev-parse', '-q', '--verify', target + '^{commit}'], path, check=False) is None:
        git_with_retries(['fetch', 'origin', refspec], path)
    git_capture(['checkout', '-q', '--detach', target], path)


def scrub(path, options, nested):
    """--reset: throw away tracked changes; with --force and -D also untracked files."""
    git_capture(['reset', '-q', '--hard', 'HEAD'], path)
    if options.force and options.delete_unversioned_trees:
        excludes = []
        for dep_path in nested:
            excludes += ['-e', '/' + dep_path]
        git_capture(['clean', '-q', '-f', '-f', '-d'] + excludes, path)


def sync_existing(path, relpath, url, revision, options, nested):
    lock = os.path.join(path, '.git', 'index.lock')
    if os.path.exists(lock):
        # QUIRK 5: a stale lock stops the sync; gclient never removes it.
        raise Error('\n____ %s at %s\n'
                    '\tYour repo is locked, possibly due to a concurrent git process.\n'
                    '\tIf no git executable is running, then clean up %r and try again.\n'
                    % (relpath, revision, lock))
    head = head_revision(path)
    if head is None:
        # QUIRK 2: the first clone died after `git init` (killed, or the pinned revision
        # was missing). The real gclient takes the .git for a working checkout and
        # reports success; --reset/--force reset to a HEAD that does not exist. The dep
        # stays empty until its directory is deleted.
        out('________ %s: nothing to update' % relpath)
        return False
    current_url = git_capture(['config', '--get', 'remote.origin.url'], path, check=False)
    if current_url != url:
        out('_____ switching %s from %s to new upstream %s' % (relpath, current_url, url))
        git_capture(['remote', 'set-url', 'origin', url], path)
    if options.reset:
        scrub(path, options, nested)
    branch = current_branch(path)
    if branch is not None:
        # QUIRK 2 (full clone): the killed clone left the dep on its default branch.
        # gclient does not detach a checkout that is on a local branch, so it stays
        # at the wrong commit and the sync succeeds.
        out('________ %s is on branch %s; not moving it to %s' % (relpath, branch, revision))
        return False
    refspec, target = fetch_spec(revision)
    if refspec is None:
        refspec, target = resolve_bare_name(path, revision)
    if is_hash(target):
        if target == head:
            # QUIRK 4: the pin did not change, so nothing is checked: local edits are kept.
            return False
        if not has_commit(path, target):
            fetch_history(path, [target])
    else:
        if remote_commit(path, target) == head:
            return False
        fetch_history(path, [refspec])
        target = git_capture(['rev-parse', '-q', '--verify', target + '^{commit}'], path)
        if target == head:
            return False
    changes = tracked_changes(path)
    if changes:
        # QUIRK 4: a dirty tree that has to move is refused.
        raise Error('\n____ %s at %s\n'
                    '\tYou have uncommitted changes.\n'
                    '\tcommit, stash or reset and try again.\n%s'
                    % (relpath, revision, '\n'.join('\t' + c for c in changes)))
    git_capture(['checkout', '-q', '--detach', target], path)
    return True


def remote_commit(path, ref):
    """The commit a ref names on the remote (peeled), without fetching; None if unknown."""
    remote_ref = ref
    if ref.startswith('refs/remotes/origin/'):
        remote_ref = 'refs/heads/' + ref[len('refs/remotes/origin/'):]
    listing = git_capture(['ls-remote', 'origin', remote_ref, remote_ref + '^{}'], path, check=False) or ''
    found = {}
    for line in listing.splitlines():
        sha, _, name = line.partition('\t')
        found[name] = sha
    return found.get(remote_ref + '^{}') or found.get(remote_ref)


def fetch_history(path, refspecs):
    # QUIRK 3: once the first clone exists, moving it fetches full history.
    shallow = os.path.exists(os.path.join(path, '.git', 'shallow'))
    git_with_retries(['fetch'] + (['--unshallow'] if shallow else []) +
                     ['origin'] + refspecs, path)


def sync_checkout(root, relpath, url, revision, options, nested=()):
    path = os.path.join(root, relpath)
    before = head_revision(path) if os.path.isdir(os.path.join(path, '.git')) else None
    if not os.path.isdir(os.path.join(path, '.git')):
        if os.path.isdir(path) and os.listdir(path):
            if options.force:
                shutil.rmtree(path)
            else:
                bad = os.path.join(root, '_bad_scm', relpath.replace('/', '_') + '_%d' % int(time.time()))
                os.makedirs(os.path.dirname(bad), exist_ok=True)
                out('WARNING: %s is not a git checkout; moving it to %s' % (relpath, bad))
                shutil.move(path, bad)
        first_clone(path, relpath, url, revision, options)
        moved = True
    else:
        moved = sync_existing(path, relpath, url, revision, options, nested)
    # QUIRK 1: what gclient reports is the revision from before this sync (the
    # requested revision, for a fresh clone), not what is checked out now.
    reported = before or revision
    out('%s: Checked out revision %s' % (relpath, reported))
    return SyncResult(relpath, url, reported, moved)


# ---------------------------------------------------------------------------
# commands


def load_solutions(root):
    scope = read_gclient(root)
    if scope.get('cache_dir'):
        # The git cache (cache_dir) is not implemented: deps are cloned from their URLs.
        pass
    return [Solution(root, spec, scope) for spec in scope['solutions']], scope


def parse_revisions(values, solutions):
    overrides = {}
    for value in values or []:
        if '@' in value:
            name, revision = value.split('@', 1)
        else:
            name, revision = solutions[0].name, value
        overrides[name.rstrip('/')] = revision
    return overrides


def run_hooks(solutions, root):
    hooks = [(hook, solution.variables) for solution in solutions for hook in solution.hooks()]
    for hook, solution_vars in hooks:
        shown = [format_var(a, solution_vars) for a in hook['action']]
        action = list(shown)
        if action and action[0] in ('python', 'python3', 'vpython', 'vpython3'):
            action[0] = sys.executable
        out('________ running %r in %r' % (quote_cmd(shown), root))
        started = time.time()
        proc = subprocess.run(action, cwd=root)
        if proc.returncode != 0:
            raise HookError("Command '%s' returned non-zero exit status %d in %s" %
                            (quote_cmd(shown), proc.returncode, root))
        out('Hook \'%s\' took %.2f secs' % (quote_cmd(shown), time.time() - started))
    if hooks:
        out('Running hooks: 100%% (%d/%d), done.' % (len(hooks), len(hooks)))


def cmd_sync(args):
    parser = optparse.OptionParser(usage='%prog sync [options]', prog='gclient')
    parser.add_option('-f', '--force', action='store_true')
    parser.add_option('--reset', action='store_true')
    parser.add_option('-D', '--delete_unversioned_trees', action='store_true')
    parser.add_option('-r', '--revision', action='append', default=[])
    parser.add_option('--no-history', dest='no_history', action='store_true')
    parser.add_option('--nohooks', action='store_true')
    parser.add_option('--noprehooks', action='store_true')
    parser.add_option('--output-json', dest='output_json')
    parser.add_option('-j', '--jobs', type='int', default=8)
    parser.add_option('--ignore-dep-type', dest='ignore_dep_type', action='append', default=[])
    parser.add_option('-v', '--verbose', action='count', default=0)
    parser.add_option('--with_branch_heads', action='store_true')
    parser.add_option('--with_tags', action='store_true')
    parser.add_option('--shallow', action='store_true')
    parser.add_option('--upstream', action='store_true')
    parser.add_option('-m', '--merge', action='store_true')
    parser.add_option('-n', '--no-bootstrap', dest='no_bootstrap', action='store_true')
    options, rest = parser.parse_args(args)
    if rest:
        parser.error('Unused arguments: %s' % ' '.join(rest))
    ignored = set()
    for value in options.ignore_dep_type:
        for item in value.split(','):
            if item not in DEP_TYPES:
                parser.error('--ignore-dep-type must be one of %s' % ', '.join(DEP_TYPES))
            ignored.add(item)

    root = require_root()
    solutions, _ = load_solutions(root)
    overrides = parse_revisions(options.revision, solutions)
    previous = read_entries(root)
    entries = {}
    results = []
    out('Syncing projects:   0%% (0/%d)' % len(solutions))
    for solution in solutions:
        revision = overrides.get(solution.name)
        exists = os.path.isdir(os.path.join(solution.path, '.git'))
        if exists and not solution.managed and revision is None:
            # QUIRK 7: an unmanaged solution is never moved without -r.
            out('________ unmanaged solution; skipping %s' % solution.name)
            head = head_revision(solution.path)
            results.append(SyncResult(solution.name, solution.url, head, False))
        else:
            results.append(sync_checkout(root, solution.name, solution.url, revision, options))
        entries[solution.name] = solution.url
        solution.load_deps()
        git_dependencies = solution.git_dependencies()
        if git_dependencies in ('SYNC', 'SUBMODULES'):
            git_capture(['config', 'diff.ignoreSubmodules', 'dirty'], solution.path, check=False)
            git_capture(['config', 'fetch.recurseSubmodules', 'false'], solution.path, check=False)
        deps = solution.deps()
        active = [dep for dep in deps if solution.active(dep)]
        git_deps = [dep for dep in active if dep.dep_type == 'git']
        nested = [dep.path[len(solution.name) + 1:] for dep in git_deps]
        if 'git' not in ignored:
            for dep in git_deps:
                revision = overrides.get(dep.path, dep.revision)
                if git_dependencies == 'SUBMODULES':
                    revision = gitlink_revision(solution, dep) or revision
                results.append(sync_checkout(root, dep.path, dep.url, revision, options))
                entries[dep.path] = '%s@%s' % (dep.url, revision)
        for dep in active:
            if dep.dep_type in ('cipd', 'gcs') and dep.dep_type not in ignored:
                fail_non_git_dep(root, dep, solution.variables)
        solution.write_gn_args()
        for path, url in sorted(previous.items()):
            if path in entries:
                continue
            orphan = os.path.join(root, path)
            if not os.path.isdir(orphan):
                continue
            if options.delete_unversioned_trees:
                out('Deleting orphaned dependency %s' % path)
                shutil.rmtree(orphan)
            else:
                out("\nWARNING: '%s' is no longer part of this client.\n"
                    "It is recommended that you manually remove it or use 'gclient sync -D' next time." % path)
                # Remembered, so that a later sync with -D deletes it.
                entries[path] = url
    write_entries(root, entries)
    out('Syncing projects: 100%% (%d/%d), done.' % (len(results), len(results)))
    if not options.nohooks:
        run_hooks(solutions, root)
    if options.output_json:
        write_output_json(options.output_json, results)
    return 0


def gitlink_revision(solution, dep):
    relative = dep.path[len(solution.name) + 1:]
    line = git_capture(['ls-tree', 'HEAD', relative], solution.path, check=False)
    if line and line.split()[1] == 'commit':
        return line.split()[2]
    return None


def fail_non_git_dep(root, dep, variables):
    if dep.dep_type == 'cipd':
        packages = dep.raw.get('packages', [])
        lines = ['  failed to resolve %s@%s: prpc: when sending request: Post '
                 '"https://chrome-infra-packages.appspot.com/prpc/cipd.Repository/ResolveVersion": '
                 'dial tcp: lookup chrome-infra-packages.appspot.com: no such host'
                 % (format_var(p.get('package', '?'), variables), format_var(p.get('version', '?'), variables))
                 for p in packages]
        raise Error("Command 'cipd ensure -log-level error -root %s -ensure-file "
                    "/tmp/gclient-cipd-ensure' returned non-zero exit status 1 in %s\n"
                    "Errors:\n%s" % (root, root, '\n'.join(lines)))
    objects = dep.raw.get('objects', [])
    names = ', '.join('gs://%s/%s' % (dep.raw.get('bucket', '?'), o.get('object_name', '?')) for o in objects)
    raise Error('Failed to fetch %s for %s: Could not resolve host: storage.googleapis.com' % (names, dep.path))


def write_output_json(path, results):
    data = {'solutions': {}}
    for result in results:
        data['solutions'][result.relpath + '/'] = {
            'revision': result.reported_revision,
            'scm': 'git',
            'url': result.url,
            'was_processed': True,
            'was_synced': True,
        }
    with open(path, 'w') as f:
        json.dump(data, f, indent=2, sort_keys=True)


def cmd_runhooks(args):
    parser = optparse.OptionParser(usage='%prog runhooks [options]', prog='gclient')
    parser.add_option('-f', '--force', action='store_true')
    parser.add_option('-v', '--verbose', action='count', default=0)
    parser.add_option('-j', '--jobs', type='int', default=8)
    options, rest = parser.parse_args(args)
    if rest:
        parser.error('Unused arguments: %s' % ' '.join(rest))
    root = require_root()
    solutions, _ = load_solutions(root)
    for solution in solutions:
        if not os.path.isdir(solution.path):
            raise Error('%s does not exist; run gclient sync first' % solution.name)
        solution.load_deps()
        solution.write_gn_args()
    run_hooks(solutions, root)
    return 0


def cmd_revinfo(args):
    parser = optparse.OptionParser(usage='%prog revinfo [options]', prog='gclient')
    parser.add_option('-a', '--actual', action='store_true')
    parser.add_option('-s', '--snapshot', action='store_true')
    parser.add_option('--filter', action='append', default=[])
    parser.add_option('--ignore-dep-type', dest='ignore_dep_type', action='append', default=[])
    options, rest = parser.parse_args(args)
    if rest:
        parser.error('Unused arguments: %s' % ' '.join(rest))
    root = require_root()
    solutions, _ = load_solutions(root)
    failed = False
    for solution in solutions:
        entries = [(solution.name, solution.url, None, 'git')]
        solution.load_deps()
        for dep in solution.deps():
            if solution.active(dep):
                entries.append((dep.path, dep.url, dep.revision, dep.dep_type))
        for path, url, revision, dep_type in entries:
            if options.filter and path not in options.filter:
                continue
            if dep_type != 'git':
                for package in dep_type == 'cipd' and solution.deps_scope['deps'][path].get('packages', []) or []:
                    out('%s:%s: %s' % (path, format_var(package['package'], solution.variables),
                                       format_var(package['version'], solution.variables)))
                continue
            if options.actual:
                checkout = os.path.join(root, path)
                head = None
                if os.path.isdir(os.path.join(checkout, '.git')):
                    head = head_revision(checkout)
                if head is None:
                    # An empty dep (QUIRK 2) cannot report a revision.
                    err("Error: Command 'git rev-parse HEAD' returned non-zero exit status 128 in %s\n"
                        "fatal: ambiguous argument 'HEAD': unknown revision or path not in the working tree." % checkout)
                    failed = True
                    continue
                out('%s: %s@%s' % (path, url, head))
            elif revision:
                out('%s: %s@%s' % (path, url, revision))
            else:
                out('%s: %s' % (path, url))
    return 1 if failed else 0


def cmd_status(args):
    parser = optparse.OptionParser(usage='%prog status [options]', prog='gclient')
    parser.add_option('-v', '--verbose', action='count', default=0)
    options, rest = parser.parse_args(args)
    root = require_root()
    solutions, _ = load_solutions(root)
    failed = False
    for solution in solutions:
        paths = [solution.name]
        solution.load_deps()
        paths += [dep.path for dep in solution.deps() if solution.active(dep) and dep.dep_type == 'git']
        for path in paths:
            checkout = os.path.join(root, path)
            if not os.path.isdir(os.path.join(checkout, '.git')):
                continue
            proc = subprocess.run(['git', 'status', '--porcelain', '--ignore-submodules=all'], cwd=checkout,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if proc.returncode != 0 or head_revision(checkout) is None:
                err('Error: %s: %s' % (path, proc.stderr.strip() or "HEAD does not point to a commit"))
                failed = True
                continue
            if proc.stdout.strip():
                out('\n________ running \'git status\' in \'%s\'\n%s' % (checkout, proc.stdout.rstrip()))
    return 1 if failed else 0


def cmd_getdep(args):
    parser = optparse.OptionParser(usage='%prog getdep [options]', prog='gclient')
    parser.add_option('--var', action='append', dest='vars', default=[])
    parser.add_option('-r', '--revision', action='append', dest='revisions', default=[])
    parser.add_option('--deps-file', default=DEPS_FILE)
    options, rest = parser.parse_args(args)
    if rest:
        parser.error('Unused arguments: %s' % ' '.join(rest))
    if not os.path.isfile(options.deps_file):
        raise Error('DEPS file %s does not exist.' % options.deps_file)
    scope = exec_deps(options.deps_file)
    variables = dict(scope.get('vars', {}))
    for name in options.vars:
        if name not in variables:
            raise Error('Could not find a variable named %s' % name)
        value = variables[name]
        out(format_var(value, variables) if isinstance(value, str) else str(value))
    for name in options.revisions:
        path, _, package = name.partition(':')
        dep = scope.get('deps', {}).get(path)
        if dep is None:
            raise Error('Could not find any dependency called %s.' % path)
        if isinstance(dep, dict) and dep.get('dep_type') == 'cipd':
            for p in dep.get('packages', []):
                if format_var(p.get('package'), variables) == package or not package:
                    out(format_var(p['version'], variables))
            continue
        url = dep if isinstance(dep, str) else dep.get('url', '')
        url = format_var(url, variables)
        out(url.rsplit('@', 1)[1] if '@' in url.split('://', 1)[-1] else '')
    return 0


def cmd_config(args):
    parser = optparse.OptionParser(usage='%prog config [options] [url]', prog='gclient')
    parser.add_option('--spec')
    parser.add_option('--name')
    parser.add_option('--deps-file', default=DEPS_FILE)
    parser.add_option('--unmanaged', action='store_true')
    parser.add_option('--cache-dir')
    parser.add_option('--custom-var', action='append', dest='custom_vars', default=[])
    options, rest = parser.parse_args(args)
    if options.spec:
        if rest:
            parser.error('Inconsistent arguments. Use either --spec or one or 2 args')
        content = options.spec
        if options.cache_dir:
            content += '\ncache_dir = %r\n' % options.cache_dir
    else:
        if len(rest) < 1:
            parser.error('Inconsistent arguments. Use either --spec or one or 2 args')
        url = rest[0]
        name = options.name or url.rstrip('/').rsplit('/', 1)[-1]
        if name.endswith('.git'):
            name = name[:-4]
        custom_vars = {}
        for arg in options.custom_vars:
            key, sep, value = arg.partition('=')
            if not sep:
                parser.error('Invalid --custom-var argument: %r' % arg)
            try:
                custom_vars[key] = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                custom_vars[key] = value
        content = ('solutions = [\n'
                   '  { "name"        : %r,\n'
                   '    "url"         : %r,\n'
                   '    "deps_file"   : %r,\n'
                   '    "managed"     : %r,\n'
                   '    "custom_deps" : {\n'
                   '    },\n'
                   '    "custom_vars": %r,\n'
                   '  },\n'
                   ']\n') % (name, url, options.deps_file, not options.unmanaged, custom_vars)
        if options.cache_dir:
            content += 'cache_dir = %r\n' % options.cache_dir
    with open(GCLIENT_FILE, 'w') as f:
        f.write(content if content.endswith('\n') else content + '\n')
    return 0


def cmd_root(args):
    root = find_root(os.getcwd())
    if root:
        out(root)
    return 0


COMMANDS = {
    'config': cmd_config,
    'sync': cmd_sync,
    'update': cmd_sync,
    'runhooks': cmd_runhooks,
    'revinfo': cmd_revinfo,
    'getdep': cmd_getdep,
    'status': cmd_status,
    'root': cmd_root,
}


def usage():
    out('Usage: gclient <command> [options]\n\n'
        'Meta checkout dependency manager for Git (build-quiche test fake).\n\n'
        'Commands: %s' % ', '.join(sorted(COMMANDS)))


def main(argv):
    if not argv or argv[0] in ('help', '-h', '--help'):
        usage()
        return 0
    if argv[0] == '--version':
        out('gclient.py %s' % __version__)
        return 0
    command = COMMANDS.get(argv[0])
    if command is None:
        err('gclient: error: unknown command %r' % argv[0])
        usage()
        return 2
    try:
        return command(argv[1:])
    except HookError as e:
        err('Error: %s' % e)
        return 2
    except Error as e:
        err('Error: %s' % e)
        return 1


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        err('interrupted')
        sys.exit(130)
