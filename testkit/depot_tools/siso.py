#!/usr/bin/env python3
# Fake depot_tools (build-quiche test fixture): siso.
#
# In Chromium, depot_tools/siso.py runs the siso binary of the checkout
# (third_party/siso/cipd/siso, a CIPD dep). The test world has no CIPD, so this
# file is both the wrapper and a stand-in siso: `siso ninja -C out/X` runs the
# system ninja on the same build.ninja, keeps its own state (.siso_deps,
# .siso_metadata, .siso_fake_ninja/) instead of ninja's, and prints siso-style
# progress: `[N/M] 1.23s CXX obj/...`. It never talks to RBE: remote execution
# fails for lack of credentials.

import os
import re
import shutil
import subprocess
import sys
import time

import gclient_paths

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
STATE_DIR = '.siso_fake_ninja'
STATUS_LINE = re.compile(r'^\[(\d+)/(\d+)\] (.*)$')


def usage():
    print('usage: siso <command> [flags]\n\ncommands:\n  ninja    build like ninja\n  version  print the version')


def find_ninja():
    path = os.pathsep.join(
        p for p in os.environ.get('PATH', '').split(os.pathsep)
        if p and os.path.abspath(p) != SCRIPT_DIR)
    return shutil.which('ninja', path=path)


def read_args_gn(out_dir):
    values = {}
    try:
        with open(os.path.join(out_dir, 'args.gn')) as f:
            for line in f:
                m = re.match(r'^\s*(\w+)\s*=\s*(true|false)\s*(#.*)?$', line)
                if m:
                    values[m.group(1)] = m.group(2) == 'true'
    except FileNotFoundError:
        pass
    return values


def run_ninja(cmd, start, counters):
    """Runs ninja and rewrites its status lines in siso's style."""
    env = dict(os.environ, NINJA_STATUS='[%f/%t] ')
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors='replace', env=env)
    try:
        for line in proc.stdout:
            line = line.rstrip('\n')
            if line.startswith('ninja: Entering directory') or line == 'ninja: no work to do.':
                continue
            m = STATUS_LINE.match(line)
            if m:
                counters['steps'] += 1
                print('[%s/%s] %.2fs %s' % (m.group(1), m.group(2), time.time() - start, m.group(3)), flush=True)
            else:
                print(line.replace('ninja: ', 'siso: '), flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        proc.wait()
        raise


def cmd_ninja(args):
    out_dir = '.'
    dry_run = False
    offline = False
    jobs = None
    targets = []
    passthrough = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == '-C':
            out_dir = args[i + 1]
            i += 1
        elif arg.startswith('-C'):
            out_dir = arg[2:]
        elif arg in ('-n', '--dry_run', '-dry_run'):
            dry_run = True
        elif arg in ('--offline', '-offline', '-o'):
            offline = True
        elif arg == '-j':
            jobs = args[i + 1]
            i += 1
        elif arg.startswith('-j'):
            jobs = arg[2:]
        elif arg in ('-k', '-project', '--project', '-reapi_instance', '--reapi_instance', '--metrics_labels'):
            passthrough += [arg, args[i + 1]] if arg == '-k' else []
            i += 1
        elif arg.startswith('-'):
            pass
        else:
            targets.append(arg)
        i += 1

    if os.path.exists(os.path.join(out_dir, '.ninja_deps')):
        print('depot_tools/siso.py: %s contains Ninja state file.\n'
              'Use `autoninja` to use reclient,\n'
              'or run `gn clean %s` to switch from ninja to siso\n' % (out_dir, out_dir),
              file=sys.stderr)
        return 1
    primary = gclient_paths.GetPrimarySolutionPath(out_dir)
    sisoenv = os.path.join(primary or '.', 'build', 'config', 'siso', '.sisoenv')
    if not primary or not os.path.exists(sisoenv):
        print('depot_tools/siso.py: Could not find .sisoenv under build/config/siso of '
              'the current project. Did you run gclient hook / gclient runhooks in the '
              'correct directory?', file=sys.stderr)
        return 1
    if read_args_gn(out_dir).get('use_remoteexec') and not offline:
        print('siso: failed to start remote execution: need to login: '
              'run `siso login` (no credentials for remotebuildexecution.googleapis.com)',
              file=sys.stderr)
        return 1
    if not os.path.exists(os.path.join(out_dir, 'build.ninja')):
        print('siso: failed to load build.ninja: open %s: no such file or directory' %
              os.path.join(out_dir, 'build.ninja'), file=sys.stderr)
        return 1
    ninja = find_ninja()
    if not ninja:
        print('siso: cannot run: the test fake needs ninja on PATH', file=sys.stderr)
        return 1

    state = os.path.join(out_dir, STATE_DIR)
    os.makedirs(state, exist_ok=True)
    manifest = os.path.join(STATE_DIR, 'siso.ninja')
    with open(os.path.join(out_dir, manifest), 'w') as f:
        f.write('# Written by the fake siso: ninja state goes to %s.\n'
                'builddir = %s\ninclude build.ninja\n' % (STATE_DIR, STATE_DIR))
    if not dry_run:
        for marker in ('.siso_deps', '.siso_metadata'):
            with open(os.path.join(out_dir, marker), 'a'):
                pass

    start = time.time()
    counters = {'steps': 0}
    base = [ninja, '-C', out_dir, '-f', manifest] + (['-n'] if dry_run else [])
    code = run_ninja(base + ['build.ninja'], start, counters)
    if code == 0:
        code = run_ninja(base + (['-j', jobs] if jobs else []) + passthrough + targets, start, counters)
    if code != 0:
        print('build failed', flush=True)
        return 1
    if counters['steps'] == 0:
        print('everything is up-to-date', flush=True)
    print('build finished', flush=True)
    print('local:%d remote:0 cache:0 fallback:0 retry:0 skip:0' % counters['steps'], flush=True)
    return 0


def main(args):
    if len(args) < 2 or args[1] in ('help', '-h', '--help'):
        usage()
        return 0 if len(args) >= 2 else 2
    if args[1] == 'version':
        print('siso v1.4.0 (build-quiche test fake)')
        return 0
    if args[1] != 'ninja':
        print('siso: unknown command %r' % args[1], file=sys.stderr)
        return 2
    return cmd_ninja(args[2:])


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        sys.exit(130)
