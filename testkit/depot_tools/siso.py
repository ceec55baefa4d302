#!/usr/bin/env python3
# Fake depot_tools (build-quiche test fixture): siso.
#
# In Chromium, depot_tools/siso.py runs the siso binary of the checkout
# (third_party/siso/cipd/siso, a CIPD dep). The test world has no CIPD, so this
# file is both the wrapper and a stand-in siso:
#
# The wrapper part does what depot_tools/siso.py does: it needs
# build/config/siso/.sisoenv (written by the configure_siso hook) and loads it
# over the environment; when build/config/siso/backend_config exists it needs
# backend_config/backend.star there too.
#
# The siso part: `siso ninja -C out/X` runs the system ninja on the same
# build.ninja, keeps its own state (.siso_deps, .siso_metadata,
# .siso_fake_ninja/) instead of ninja's, and prints siso-style progress:
# `[N/M] 1.23s CXX obj/...`. It takes siso's flags (-local_jobs,
# -remote_jobs, -re_exec_enable, -strict_remote, -reapi_*) with siso's
# environment defaults (SISO_REAPI_ADDRESS, SISO_REAPI_INSTANCE, SISO_PROJECT,
# SISO_CREDENTIAL_HELPER, RBE_service_no_security, RBE_tls_*).
#
# With use_remoteexec=true (no --offline) it checks what real siso would need
# to reach a REAPI service and fails the way siso does when something is
# missing: credentials for Google's RBE ("need to login"), a TLS client
# certificate without its key, unreadable certificate files, a credential
# helper that fails or answers without headers (it is run, per the Bazel
# credential helper spec), a backend.star without platform_properties. It also
# refuses -j there (the real siso warns and ignores it, so a remote build
# would silently run with siso's default -remote_jobs). No REAPI service runs
# in the test world, so it then builds locally and records what it would have
# sent in out/X/siso_fake_remote.json.

import hashlib
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import time

import gclient_paths

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
STATE_DIR = '.siso_fake_ninja'
REPORT = 'siso_fake_remote.json'
STATUS_LINE = re.compile(r'^\[(\d+)/(\d+)\] (.*)$')
GOOGLE_RBE_ADDRESS = 'remotebuildexecution.googleapis.com:443'

# `siso ninja` flags that take a value (Go flag syntax: -f v, -f=v, --f=v).
VALUE_FLAGS = {
    'C', 'j', 'k', 'l', 'f', 'project', 'reapi_address', 'reapi_cas_address',
    'reapi_instance', 'reapi_tls_client_auth_cert', 'reapi_tls_client_auth_key',
    'reapi_tls_ca_cert', 'credential_helper', 'local_jobs', 'remote_jobs',
    'load', 'config', 'metrics_labels', 'log_dir', 'cache_dir',
    'output_local_strategy', 'action_salt', 'reapi_priority',
    'reapi_grpc_conn_pool', 'reapi_compress_blob', 't', 'd', 'w',
}
BOOL_FLAGS = {
    'n', 'dry_run', 'offline', 'o', 'reapi_insecure', 'reapi_keep_exec_stream',
    're_exec_enable', 're_cache_enable_read', 're_cache_enable_write',
    'strict_remote', 'v', 'verbose', 'clobber', 'batch', 'quiet',
}


class SisoError(Exception):
    pass


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


def parse_flags(args):
    """Go-style flags of `siso ninja`, and the targets."""
    flags = {}
    targets = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == '--':
            targets += args[i + 1:]
            break
        if not arg.startswith('-') or arg == '-':
            targets.append(arg)
            i += 1
            continue
        name = arg.lstrip('-')
        value = None
        if '=' in name:
            name, value = name.split('=', 1)
        elif name.startswith('C') and len(name) > 1 and name not in VALUE_FLAGS | BOOL_FLAGS:
            name, value = 'C', name[1:]
        elif name.startswith('j') and len(name) > 1 and name[1:].isdigit():
            name, value = 'j', name[1:]
        if name in BOOL_FLAGS:
            flags[name] = value is None or value.lower() in ('1', 't', 'true')
        elif name in VALUE_FLAGS:
            if value is None:
                if i + 1 >= len(args):
                    raise SisoError('flag needs an argument: -%s' % name)
                value = args[i + 1]
                i += 1
            flags[name] = value
        else:
            flags[name] = True if value is None else value
        i += 1
    return flags, targets


def load_sisoenv(primary):
    """depot_tools/siso.py: .sisoenv's KEY=VALUE lines go over the environment."""
    sisoenv = os.path.join(primary or '.', 'build', 'config', 'siso', '.sisoenv')
    if not primary or not os.path.exists(sisoenv):
        print('depot_tools/siso.py: Could not find .sisoenv under build/config/siso of '
              'the current project. Did you run gclient hook / gclient runhooks in the '
              'correct directory?', file=sys.stderr)
        return None
    loaded = {}
    with open(sisoenv) as f:
        for line in f:
            line = line.rstrip('\n')
            if '=' in line:
                key, value = line.split('=', 1)
                loaded[key] = value
    os.environ.update(loaded)
    return loaded


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
                if m.group(3).startswith(('CXX ', 'CC ')):
                    counters['compiles'] += 1
                print('[%s/%s] %.2fs %s' % (m.group(1), m.group(2), time.time() - start, m.group(3)), flush=True)
            else:
                print(line.replace('ninja: ', 'siso: '), flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        proc.wait()
        raise


def positive_int(flags, name):
    value = flags.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise SisoError('invalid value %r for flag -%s: parse error' % (value, name))


def read_pem(path, what):
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise SisoError('failed to read %s %r: open %s: %s' % (what, path, path, (e.strerror or str(e)).lower()))
    if '-----BEGIN ' not in text:
        raise SisoError('failed to read %s %r: no PEM data' % (what, path))
    return text


def run_credential_helper(helper, address):
    """The Bazel credential helper protocol: `<helper> get`, {"uri": ...} on stdin, headers on stdout."""
    request = json.dumps({'uri': 'https://%s' % address})
    try:
        proc = subprocess.run([helper, 'get'], input=request, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise SisoError('failed to run credential helper %s: exec: "%s": executable file not found in $PATH' % (helper, helper))
    except PermissionError:
        raise SisoError('failed to run credential helper %s: permission denied' % helper)
    except subprocess.TimeoutExpired:
        raise SisoError('credential helper %s timed out' % helper)
    if proc.returncode != 0:
        raise SisoError('credential helper %s failed: exit status %d: %s' % (helper, proc.returncode, proc.stderr.strip()))
    try:
        response = json.loads(proc.stdout)
    except ValueError as e:
        raise SisoError('credential helper %s returned invalid JSON: %s' % (helper, e))
    headers = response.get('headers') if isinstance(response, dict) else None
    if not isinstance(headers, dict) or not headers or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(x, str) for x in v)
            for k, v in headers.items()):
        raise SisoError('credential helper %s returned no headers: want {"headers": {"name": ["value", ...]}}' % helper)
    return sorted(headers)


def remote_settings(flags, out_dir, sisoenv, primary, gn_args):
    """What real siso needs before it talks to the service; a SisoError names what is missing."""
    if 'j' in flags:
        raise SisoError('-j is not supported. use -remote_jobs and -local_jobs instead')
    env = os.environ
    address = flags.get('reapi_address') or env.get('SISO_REAPI_ADDRESS') or GOOGLE_RBE_ADDRESS
    instance = flags.get('reapi_instance', env.get('SISO_REAPI_INSTANCE', 'default_instance'))
    project = flags.get('project', env.get('SISO_PROJECT', ''))
    insecure = flags.get('reapi_insecure', env.get('RBE_service_no_security') == 'true')
    cert = flags.get('reapi_tls_client_auth_cert', env.get('RBE_tls_client_auth_cert', ''))
    key = flags.get('reapi_tls_client_auth_key', env.get('RBE_tls_client_auth_key', ''))
    ca = flags.get('reapi_tls_ca_cert', env.get('RBE_tls_ca_cert', ''))
    helper = flags.get('credential_helper', env.get('SISO_CREDENTIAL_HELPER', ''))
    google = address.endswith('.googleapis.com:443')

    if insecure and google:
        raise SisoError('insecure mode is not supported for RBE')
    if google and not instance:
        raise SisoError('no reapi instance')
    if cert and not key:
        raise SisoError('tls_client_auth_cert is set, but tls_client_auth_key is not set')
    if key and not cert:
        raise SisoError('tls_client_auth_key is set, but tls_client_auth_cert is not set')
    if not insecure:
        if ca:
            read_pem(ca, 'CA cert')
        if cert:
            try:
                read_pem(cert, 'cert')
                read_pem(key, 'key')
            except SisoError as e:
                raise SisoError('failed to read mTLS cert pair (%r, %r): %s' % (cert, key, e))
            helper = 'mTLS'
    header_names = []
    if insecure:
        helper_used = None
    elif helper == 'mTLS':
        helper_used = 'mTLS'
    elif helper:
        header_names = run_credential_helper(helper, address)
        helper_used = helper
    elif google:
        raise SisoError('need to login: run `siso login` (no credentials for %s)' % address)
    else:
        helper_used = None  # TLS without per-RPC credentials: siso sends none to a non-Google service

    backend_star = os.path.join(primary, 'build', 'config', 'siso', 'backend_config', 'backend.star')
    try:
        with open(backend_star, 'rb') as f:
            star = f.read()
    except FileNotFoundError:
        raise SisoError('failed to load @config//main.star: @config//backend_config/backend.star: not found')
    if b'platform_properties' not in star:
        raise SisoError('failed to load @config//backend_config/backend.star: backend.platform_properties is not defined')

    return {
        'address': address,
        'instance': instance,
        'project': project if google else '',
        'insecure': bool(insecure),
        'tls_ca_cert': '' if insecure else ca,
        'tls_client_auth_cert': '' if insecure else cert,
        'tls_client_auth_key': '' if insecure else key,
        'credential_helper': helper_used,
        'credential_header_names': header_names,
        'remote_jobs': positive_int(flags, 'remote_jobs'),
        'local_jobs': positive_int(flags, 'local_jobs'),
        're_exec_enable': flags.get('re_exec_enable', True),
        'strict_remote': flags.get('strict_remote', False),
        'reapi_keep_exec_stream': flags.get('reapi_keep_exec_stream', False),
        'backend_star_sha256': hashlib.sha256(star).hexdigest(),
        'sisoenv': sisoenv,
        'gn_args': {k: gn_args.get(k) for k in ('use_remoteexec', 'use_siso', 'use_reclient')},
    }


def cmd_ninja(args):
    try:
        flags, targets = parse_flags(args)
    except SisoError as e:
        print('siso: %s' % e, file=sys.stderr)
        return 2
    out_dir = flags.get('C', '.')
    dry_run = flags.get('n') or flags.get('dry_run')
    offline = flags.get('offline') or flags.get('o')

    if os.path.exists(os.path.join(out_dir, '.ninja_deps')):
        print('depot_tools/siso.py: %s contains Ninja state file.\n'
              'Use `autoninja` to use reclient,\n'
              'or run `gn clean %s` to switch from ninja to siso\n' % (out_dir, out_dir),
              file=sys.stderr)
        return 1
    primary = gclient_paths.GetPrimarySolutionPath(out_dir)
    sisoenv = load_sisoenv(primary)
    if sisoenv is None:
        return 1
    backend_config = os.path.join(primary, 'build', 'config', 'siso', 'backend_config')
    if os.path.isdir(backend_config) and not os.path.exists(os.path.join(backend_config, 'backend.star')):
        print('build/config/siso/backend_config/backend.star does not exist.\n'
              'See build/config/siso/backend_config/README.md', file=sys.stderr)
        return 1

    gn_args = read_args_gn(out_dir)
    remote = None
    if gn_args.get('use_remoteexec') and not offline and not dry_run:
        try:
            remote = remote_settings(flags, out_dir, sisoenv, primary, gn_args)
        except SisoError as e:
            print('siso: failed to start remote execution: %s' % e, file=sys.stderr)
            return 1
    elif 'j' in flags:
        print('siso: -j is not supported. use -remote_jobs and -local_jobs instead', file=sys.stderr)

    if not os.path.exists(os.path.join(out_dir, 'build.ninja')):
        print('siso: failed to load build.ninja: open %s: no such file or directory' %
              os.path.join(out_dir, 'build.ninja'), file=sys.stderr)
        return 1
    ninja = find_ninja()
    if not ninja:
        print('siso: cannot run: the test fake needs ninja on PATH', file=sys.stderr)
        return 1

    try:
        local_jobs = positive_int(flags, 'local_jobs')
    except SisoError as e:
        print('siso: %s' % e, file=sys.stderr)
        return 2
    jobs = local_jobs if local_jobs and local_jobs > 0 else multiprocessing.cpu_count()
    passthrough = ['-k', flags['k']] if 'k' in flags else []

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
    counters = {'steps': 0, 'compiles': 0}
    base = [ninja, '-C', out_dir, '-f', manifest] + (['-n'] if dry_run else [])
    code = run_ninja(base + ['build.ninja'], start, counters)
    if code == 0:
        code = run_ninja(base + ['-j', str(jobs)] + passthrough + targets, start, counters)
    if remote is not None:
        would_be_remote = counters['compiles'] if remote['re_exec_enable'] else 0
        remote['steps'] = {'run': counters['steps'], 'would_run_remotely': would_be_remote,
                           'local': counters['steps'] - would_be_remote}
        remote['exit_code'] = code
        with open(os.path.join(out_dir, REPORT), 'w') as f:
            json.dump(remote, f, indent=2, sort_keys=True)
    if code != 0:
        print('build failed', flush=True)
        return 1
    if counters['steps'] == 0:
        print('everything is up-to-date', flush=True)
    print('build finished', flush=True)
    if remote is None:
        print('local:%d remote:0 cache:0 fallback:0 retry:0 skip:0' % counters['steps'], flush=True)
    else:
        steps = remote['steps']
        print('local:%d remote:%d cache:0 fallback:0 retry:0 skip:0' % (steps['local'], steps['would_run_remotely']), flush=True)
        print('siso (build-quiche test fake): no REAPI service runs here; the %d step(s) that would have '
              'run on %s ran locally (see %s)' % (steps['would_run_remotely'], remote['address'],
                                                  os.path.join(out_dir, REPORT)), flush=True)
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
