#!/usr/bin/env python3
# Fake depot_tools (build-quiche test fixture): autoninja.
#
# Picks the builder the way current autoninja does: `use_siso` from
# out/X/args.gn; if absent, the builder whose state is already in the out dir;
# else the `use_siso = true` default of //.gn. Siso builds go to siso.py
# (`siso ninja`, with --offline unless use_remoteexec=true), ninja builds to
# ninja.py. Neither will take over an out dir the other one built: `gn clean`
# first. Exit codes pass through.
#
# Like the real one, it turns ninja's -j into siso's flags (siso takes no -j):
# -remote_jobs=N with use_remoteexec=true, else -local_jobs=N (dropped with a
# warning when N exceeds the CPU count), and passes every other flag through.
# With use_remoteexec=true and use_reclient=true it would run siso with
# reclient; there is no reclient here, so that stops with an error.

import multiprocessing
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


def use_reclient_default(out_dir, use_remoteexec):
    """use_reclient when args.gn does not say: the tree's remoteexec_defaults.gni
    (2025 trees), else rbe.gni's default (2024 trees: it follows use_remoteexec
    when rbe.gni declares use_reclient), else false (a tree without reclient)."""
    if not use_remoteexec:
        return False
    primary = gclient_paths.GetPrimarySolutionPath(out_dir)
    if not primary:
        return False
    defaults = os.path.join(primary, 'build', 'toolchain', 'remoteexec_defaults.gni')
    if os.path.exists(defaults):
        with open(defaults) as f:
            m = re.search(r'^\s*use_reclient_on_siso\s*=\s*(true|false)', f.read(), re.M)
            if m:
                return m.group(1) == 'true'
    try:
        with open(os.path.join(primary, 'build', 'toolchain', 'rbe.gni')) as f:
            code = '\n'.join(line.split('#')[0] for line in f)
    except FileNotFoundError:
        return False
    return re.search(r'^\s*use_reclient\s*=', code, re.M) is not None


def convert_j(args, use_remoteexec):
    """Ninja's -j N becomes -remote_jobs=N or -local_jobs=N, as the real autoninja does."""
    out = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith('-j'):
            value = arg[2:]
            if not value and i + 1 < len(args):
                value = args[i + 1]
                i += 1
            if use_remoteexec:
                out.append('-remote_jobs=' + value)
            elif int(value) <= multiprocessing.cpu_count():
                out.append('-local_jobs=' + value)
            else:
                print('WARNING: Ignoring -j %s because it is larger than num_cpus=%d. '
                      'Use -local_jobs=%s instead if it\'s intentional.' %
                      (value, multiprocessing.cpu_count(), value), file=sys.stderr)
        else:
            out.append(arg)
        i += 1
    return out


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
        use_reclient = gn_args.get('use_reclient')
        if use_reclient is None:
            use_reclient = use_reclient_default(out_dir, use_remoteexec)
        if use_remoteexec and use_reclient and not t_specified:
            print('depot_tools/autoninja.py: use_remoteexec=true with use_reclient=true runs '
                  'siso with reclient (rewrapper and reproxy), which this checkout does not '
                  'have (buildtools/reclient). Set use_reclient=false in args.gn to use '
                  "Siso's built-in remote execution client.", file=sys.stderr)
            return 1
        cmd = [sys.executable, os.path.join(SCRIPT_DIR, 'siso.py'), 'ninja']
        if not use_remoteexec:
            cmd.append('--offline')
        cmd += convert_j(input_args, use_remoteexec)
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
