#!/usr/bin/env python3
# Fixture stand-in for Chromium's build/util/lastchange.py: writes
# LASTCHANGE (and LASTCHANGE.committime) for the src checkout's HEAD, and
# leaves the files untouched when their content would not change, so that a
# no-op `gclient runhooks` does not trigger rebuilds.

import argparse
import os
import subprocess
import sys


def write_if_changed(path, content):
    try:
        with open(path) as f:
            if f.read() == content:
                return
    except FileNotFoundError:
        pass
    with open(path, 'w') as f:
        f.write(content)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('-o', '--output', required=True)
    parser.add_argument('-s', '--source-dir')
    args = parser.parse_args()
    source_dir = args.source_dir or os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        log = subprocess.check_output(
            ['git', '-c', 'core.quotePath=false', 'log', '-1',
             '--format=%H %ct'], cwd=source_dir, text=True).split()
    except (OSError, subprocess.CalledProcessError) as e:
        print('lastchange.py: cannot read the git revision of %s: %s' %
              (source_dir, e), file=sys.stderr)
        return 1
    revision, commit_time = log[0], log[1]
    write_if_changed(args.output,
                     'LASTCHANGE=%s-refs/heads/main@{#0}\n' % revision)
    write_if_changed(args.output + '.committime', commit_time)
    return 0


if __name__ == '__main__':
    sys.exit(main())
