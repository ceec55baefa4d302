#!/usr/bin/env python3
# Fixture stand-in for Chromium's build/config/siso/configure_siso.py (the
# configure_siso hook in DEPS). It does what the real script does:
#   - writes build/config/siso/.sisoenv, which autoninja needs before it runs
#     siso: SISO_PROJECT (only for an RBE instance projects/<p>/instances/<i>
#     without a non-RBE address), SISO_REAPI_INSTANCE, SISO_REAPI_ADDRESS and
#     SISO_CREDENTIAL_HELPER when they are set;
#   - copies the backend config to backend_config/backend.star: google.star
#     for Google's known RBE projects, else the file named by
#     --reapi_backend_config_path (relative to backend_config/, or absolute);
#   - fails when no backend.star results, with Chromium's message.

import argparse
import os
import shutil
import sys

THIS_DIR = os.path.abspath(os.path.dirname(__file__))

SISO_PROJECT_CFG = 'SISO_PROJECT'
SISO_ENV = os.path.join(THIS_DIR, '.sisoenv')
BACKEND_CONFIG_DIR = os.path.join(THIS_DIR, 'backend_config')
BACKEND_STAR = os.path.join(BACKEND_CONFIG_DIR, 'backend.star')
GOOGLE_STAR = os.path.join(BACKEND_CONFIG_DIR, 'google.star')
KNOWN_GOOGLE_PROJECTS = (
    'rbe-chrome-official',
    'rbe-chrome-trusted',
    'rbe-chrome-untrusted',
    'rbe-chromium-trusted',
    'rbe-chromium-untrusted',
    'rbe-webrtc-developer',
    'rbe-webrtc-trusted',
    'rbe-webrtc-untrusted',
)


def main():
    parser = argparse.ArgumentParser(description='configure siso')
    parser.add_argument('--rbe_instance',
                        help='RBE instance to use for Siso. Ignored if '
                        '--reapi_address is set for a non-RBE address.')
    parser.add_argument('--reapi_instance', default='',
                        help='REAPI instance to use for Siso.')
    parser.add_argument('--reapi_address',
                        help='REAPI address to use for Siso. If set for a '
                        'non-RBE address, rbe_instance is ignored.')
    parser.add_argument('--reapi_backend_config_path',
                        help='REAPI backend config path, relative to the '
                        'backend_config dir, or an absolute path.')
    # credential helper (newest DEPS): start
    parser.add_argument('--credential-helper', dest='credential_helper',
                        help='credential helper for Siso: a program on PATH, '
                        'or an absolute path.')
    # credential helper (newest DEPS): end
    args = parser.parse_args()

    project = None
    reapi_instance = args.reapi_instance
    reapi_address = args.reapi_address
    if not reapi_address or (
            reapi_address.endswith('remotebuildexecution.googleapis.com:443')
            and args.rbe_instance):
        elems = (args.rbe_instance or '').split('/')
        if len(elems) == 4 and elems[0] == 'projects':
            project = elems[1]
            reapi_instance = elems[-1]

    content = ''
    if project:
        content += '%s=%s\n' % (SISO_PROJECT_CFG, project)
    content += 'SISO_REAPI_INSTANCE=%s\n' % reapi_instance
    if reapi_address:
        content += 'SISO_REAPI_ADDRESS=%s\n' % reapi_address
    if getattr(args, 'credential_helper', None):
        content += 'SISO_CREDENTIAL_HELPER=%s\n' % args.credential_helper
    with open(SISO_ENV, 'w') as f:
        f.write(content)

    backend_config_path = args.reapi_backend_config_path
    if project and not backend_config_path and project in KNOWN_GOOGLE_PROJECTS:
        backend_config_path = GOOGLE_STAR
    if backend_config_path:
        if not os.path.isabs(backend_config_path):
            backend_config_path = os.path.join(BACKEND_CONFIG_DIR, backend_config_path)
        if os.path.exists(BACKEND_STAR):
            os.remove(BACKEND_STAR)
        shutil.copy2(backend_config_path, BACKEND_STAR)

    if not os.path.exists(BACKEND_STAR):
        print(('Need to provide {} (by reapi_backend_config_path custom_var) '
               'for your backend {} instance={}').format(
                   BACKEND_STAR, reapi_address, reapi_instance),
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
