# Fake depot_tools (build-quiche test fixture): finding the checkout, as
# depot_tools' gclient_paths.py does.

import os
import subprocess

GCLIENT_FILE = '.gclient'


def FindGclientRoot(from_dir, filename=GCLIENT_FILE):
    """Returns the directory holding .gclient above from_dir, or None."""
    path = os.path.abspath(from_dir)
    while True:
        if os.path.exists(os.path.join(path, filename)):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def GetGClientPrimarySolutionName(gclient_root_dir_path):
    scope = {}
    try:
        with open(os.path.join(gclient_root_dir_path, GCLIENT_FILE)) as f:
            exec(f.read(), scope)
    except (OSError, SyntaxError):
        return None
    solutions = scope.get('solutions') or []
    return solutions[0].get('name') if solutions else None


def GetPrimarySolutionPath(from_dir=None):
    """The src directory: the enclosing git checkout if it has buildtools/,
    else <gclient root>/<first solution>."""
    from_dir = os.path.abspath(from_dir or os.getcwd())
    while not os.path.isdir(from_dir):
        from_dir = os.path.dirname(from_dir)
    top_dir = from_dir
    try:
        top_dir = subprocess.check_output(
            ['git', 'rev-parse', '--show-toplevel'], cwd=from_dir,
            stderr=subprocess.DEVNULL, text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    if os.path.exists(os.path.join(top_dir, 'buildtools')):
        return top_dir
    root = FindGclientRoot(from_dir)
    if not root:
        return None
    return os.path.join(root, GetGClientPrimarySolutionName(root) or 'src')


def GetBuildtoolsPath(from_dir=None):
    primary = GetPrimarySolutionPath(from_dir)
    if not primary:
        return None
    buildtools = os.path.join(primary, 'buildtools')
    return buildtools if os.path.exists(buildtools) else None


def GetBuildtoolsPlatformBinaryPath(from_dir=None):
    buildtools = GetBuildtoolsPath(from_dir)
    if not buildtools:
        return None
    return os.path.join(buildtools, 'linux64')


def FindOutDir(args):
    """The -C directory of a ninja-style command line ('.' if none)."""
    out_dir = '.'
    for i, arg in enumerate(args):
        if arg == '-C' and i + 1 < len(args):
            out_dir = args[i + 1]
        elif arg.startswith('-C') and len(arg) > 2:
            out_dir = arg[2:]
    return out_dir
