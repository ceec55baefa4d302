#!/usr/bin/env python3
# Fixture stand-in for Chromium's build/config/siso/configure_siso.py: writes
# build/config/siso/.sisoenv, which autoninja requires before it runs siso.

import argparse
import os
import sys

THIS_DIR = os.path.abspath(os.path.dirname(__file__))


def main():
    parser = argparse.ArgumentParser(description='configure siso')
    parser.add_argument('--rbe_instance', help='RBE instance to use for Siso')
    parser.add_argument('--reapi_instance', help='REAPI instance to use')
    args = parser.parse_args()

    instance = args.reapi_instance or args.rbe_instance or 'default_instance'
    project = None
    if instance.startswith('projects/'):
        parts = instance.split('/')
        project = parts[1]
        instance = parts[-1]
    content = ''
    if project:
        content += 'SISO_PROJECT=%s\n' % project
    content += 'SISO_REAPI_INSTANCE=%s\n' % instance
    path = os.path.join(THIS_DIR, '.sisoenv')
    try:
        with open(path) as f:
            if f.read() == content:
                return 0
    except FileNotFoundError:
        pass
    with open(path, 'w') as f:
        f.write(content)
    return 0


if __name__ == '__main__':
    sys.exit(main())
