#!/usr/bin/env python3
# Fake depot_tools (build-quiche test fixture): gn.py. Runs the gn binary of
# the enclosing checkout (<src>/buildtools/linux64/gn, a CIPD dep in Chromium),
# with the real script's messages and exit codes when it is missing.

import os
import subprocess
import sys

import gclient_paths


def main(args):
    bin_path = gclient_paths.GetBuildtoolsPlatformBinaryPath()
    if not bin_path:
        print('gn.py: Could not find checkout in any parent of the current path.\n'
              'This must be run inside a checkout.', file=sys.stderr)
        return 1
    gn_path = os.path.join(bin_path, 'gn')
    if not os.path.exists(gn_path):
        print('gn.py: Could not find gn executable at: %s' % gn_path, file=sys.stderr)
        return 2
    return subprocess.call([gn_path] + args[1:])


if __name__ == '__main__':
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        sys.stderr.write('interrupted\n')
        sys.exit(1)
