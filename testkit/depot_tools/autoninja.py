#!/usr/bin/env python3
# Fake depot_tools (build-quiche test fixture): autoninja.
#
# Picks the builder the way current autoninja does: `use_siso` from
# out/X/args.gn; if absent, the builder whose state is already in the out dir;
# else the `use_siso = true` default of //.gn. Siso builds go to siso.py
# (`siso ninja --offline`), ninja builds to ninja.py. Neither will take over an
# out dir the other one built: `gn clean` first. Exit codes pass through.

import os
import re
import subprocess
import sys

import gclient_paths

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))


def read_args_gn(out_dir):
    values = {}
    try:
        with open(os.path.join(out_dir, 'args.gn')) as f:
            for line in f:
                m = re.match(r'^\s*(use_siso|use_remoteexec|use_reclient)\s*=\s*(true|false)\s*(#.*)?$', line)
                if m:
                    values[m.group(1)] = m.group(2) == 'true'
    except FileNotFoundError:
        pass
    return values


def use_siso_default(out_dir):
    if os.path.exists(os.path.join(out_dir, '.siso_deps')):
        return True
    if os.path.exists(os.path.join(out_dir, '.ninja_deps')):
        return False
    primary = gclient_paths.GetPrimarySolutionPath(out_dir)
    if not primary:
        return False
    try:
        with open(os.path.join(primary, '.gn')) as f:
            return re.search(r'^\s*use_siso\s*=\s*true', f.read(), re.M) is not None
    except FileNotFoundError:
        return False


def main(args):
    input_args = args[1:]
    out_dir = gclient_paths.FindOutDir(input_args)
    j_specified = any(a.startswith('-j') for a in input_args)
    t_specified = any(a.startswith('-t') for a in input_args)
    gn_args = read_args_gn(out_dir)
    use_remoteexec = gn_args.get('use_remoteexec', False)
    use_siso = gn_args.get('use_siso')
    if use_siso is None:
        use_siso = use_siso_default(out_dir)

    if use_siso:
        cmd = [sys.executable, os.path.join(SCRIPT_DIR, 'siso.py'), 'ninja']
        if not use_remoteexec:
            cmd.append('--offline')
        cmd += input_args
        if not j_specified and not t_specified:
            cmd += ['-j', str(os.cpu_count() or 2)]
    else:
        if use_remoteexec:
            print('depot_tools/autoninja.py: use_remoteexec=true needs use_siso=true: '
                  'reclient is no longer supported.', file=sys.stderr)
            return 1
        cmd = [sys.executable, os.path.join(SCRIPT_DIR, 'ninja.py')] + input_args
        if not j_specified and not t_specified:
            cmd += ['-j', str((os.cpu_count() or 2) + 2)]
    return subprocess.call(cmd)


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        sys.exit(130)
