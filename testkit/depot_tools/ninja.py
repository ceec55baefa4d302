#!/usr/bin/env python3
# Fake depot_tools (build-quiche test fixture): ninja.py. Runs the checkout's
# third_party/ninja/ninja (a CIPD dep in Chromium) or else a ninja from PATH
# that is not this wrapper; refuses an out dir that siso built.

import os
import shutil
import subprocess
import sys

import gclient_paths

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))


def find_ninja():
    primary = gclient_paths.GetPrimarySolutionPath()
    if primary:
        candidate = os.path.join(primary, 'third_party', 'ninja', 'ninja')
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    path = os.pathsep.join(
        p for p in os.environ.get('PATH', '').split(os.pathsep)
        if p and os.path.abspath(p) != SCRIPT_DIR)
    return shutil.which('ninja', path=path)


def check_outdir(ninja_args):
    tool = ''
    for i, arg in enumerate(ninja_args):
        if arg == '-t' and i + 1 < len(ninja_args):
            tool = ninja_args[i + 1]
        elif arg.startswith('-t'):
            tool = arg[2:]
    if tool in ('list', 'commands', 'inputs', 'targets'):
        return True
    out_dir = gclient_paths.FindOutDir(ninja_args)
    if os.path.exists(os.path.join(out_dir, '.siso_deps')):
        print('depot_tools/ninja.py: %s contains Siso state file.\n'
              'Use `autoninja` to choose appropriate build tool,\n'
              'or run `gn clean %s` to switch from siso to ninja\n' % (out_dir, out_dir),
              file=sys.stderr)
        return False
    return True


def main(args):
    if not check_outdir(args[1:]):
        return 1
    ninja = find_ninja()
    if not ninja:
        print('depot_tools/ninja.py: Could not find Ninja in the third_party of '
              'the current project, nor in your PATH.\n'
              'Please take one of the following actions to install Ninja:\n'
              '- If your project has DEPS, add a CIPD Ninja dependency to DEPS.\n'
              '- Otherwise, add Ninja to your PATH *after* depot_tools.',
              file=sys.stderr)
        return 1
    return subprocess.call([ninja] + args[1:])


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        sys.exit(130)
