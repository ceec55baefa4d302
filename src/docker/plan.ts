import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { BUNDLED_SERIES, type ResolvedConfig } from '../config/load.js';

/** Where things live inside the image (Dockerfile.builder). */
export const CONTAINER_CACHE = '/cache';
export const CONTAINER_DIST = '/dist';
export const CONTAINER_TOOLKIT = '/opt/build-quiche';
export const CONTAINER_BUNDLED_SERIES = `${CONTAINER_TOOLKIT}/patches/series`;
export const CONTAINER_CA_BUNDLE = '/etc/build-quiche/ca-certificates.crt';
/** Host paths that cannot keep their own path inside (they would hide the image's) go below this. */
export const CONTAINER_HOST_PREFIX = '/host';

export interface Mount {
  host: string;
  container: string;
  readOnly: boolean;
}

export interface ContainerPlan {
  mounts: Mount[];
  /** The build-quiche arguments inside: the host's, without --docker and --config, after ours. */
  argv: string[];
  /** Environment set inside (-e NAME=value). */
  env: Record<string, string>;
  /** Host variables passed by name (-e NAME), so their values stay out of the command line. */
  passEnv: string[];
  /** Host dirs the container writes to: created, and checked for ownership, before the run. */
  writableDirs: string[];
}

/** Container directories a same-path mount must not hide or sit inside. */
const IMAGE_DIRS = [
  '/bin',
  '/sbin',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/usr',
  '/etc',
  '/opt/build-quiche',
  '/home/builder',
  '/proc',
  '/sys',
  '/dev',
  '/run',
  '/var',
  '/tmp',
  CONTAINER_CACHE,
  CONTAINER_DIST,
  CONTAINER_HOST_PREFIX,
];
/** Of those, the ones a host path may sit below (a bind mount under /tmp or /var/tmp hides nothing needed). */
const MOUNTABLE_BELOW = ['/tmp', '/var/tmp', '/run/user'];

const isInside = (child: string, parent: string) => child === parent || child.startsWith(parent === '/' ? '/' : `${parent}/`);

/**
 * The path a host file or dir gets inside: the same path where that is safe (so relative paths in
 * a config file resolve the same, and error messages name paths the user knows), else below /host.
 */
export function sameOrHostPath(hostPath: string): string {
  const clashes = IMAGE_DIRS.some(
    (dir) => isInside(dir, hostPath) || (isInside(hostPath, dir) && !MOUNTABLE_BELOW.some((below) => isInside(hostPath, below))),
  );
  return clashes ? path.posix.join(CONTAINER_HOST_PREFIX, hostPath).replace(/\/$/, '') : hostPath;
}

/** Options that carry a value and name a host path: removed from the argv, passed again translated. */
const CONFIG_OPTIONS = new Set(['-c', '--config']);
/** Config fields the plan sets itself with --set; a user's --set of them is already in `config`. */
const PLANNED_FIELDS = new Set(['cacheDir', 'distDir', 'patches.series', 'checkout.srcDir', 'gclient.cacheDir', 'publish', 'patches']);

/** The host argv without --docker, --config and --set of the fields the plan translates. */
export function stripHostOnlyArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (arg === '--docker') continue;
    if (CONFIG_OPTIONS.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('--config=') || /^-c.+/.test(arg)) continue;
    if (arg === '--set' || arg.startsWith('--set=')) {
      const assignment = arg === '--set' ? argv[++i] : arg.slice('--set='.length);
      const key = assignment?.slice(0, Math.max(0, assignment.indexOf('=')));
      if (key !== undefined && PLANNED_FIELDS.has(key)) continue;
      out.push('--set', assignment ?? '');
      continue;
    }
    out.push(arg);
  }
  return out;
}

export interface PlanOptions {
  config: ResolvedConfig;
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  /** A host CA bundle to trust inside (see detectCaBundle). */
  caBundle?: string;
}

/** Variables the inner run needs from the host, by name. */
const PASSED_ENV = [
  'TERM',
  'COLORTERM',
  'NO_COLOR',
  'FORCE_COLOR',
  'CI',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
];

/**
 * What the container sees: the cache dir at /cache and the dist dir at /dist (read-write); the
 * config file's dir and the patch series' dir read-only at their own paths; an adopted checkout,
 * a gclient git cache and directory stores read-write; and the argv and env that point the inner
 * build-quiche at them. Pure: nothing is created or run here.
 */
export function planContainer({ config, argv, env, caBundle }: PlanOptions): ContainerPlan {
  const mounts: Mount[] = [
    { host: config.cacheDir, container: CONTAINER_CACHE, readOnly: false },
    { host: config.distDir, container: CONTAINER_DIST, readOnly: false },
  ];
  const writableDirs = [config.cacheDir, config.distDir];
  const toContainer = (hostPath: string): string => {
    for (const mount of [...mounts].sort((a, b) => b.host.length - a.host.length)) {
      if (isInside(hostPath, mount.host)) return path.posix.join(mount.container, path.relative(mount.host, hostPath));
    }
    return sameOrHostPath(hostPath);
  };
  /** A dir below a mount that allows what it needs is seen through that mount; others get their own. */
  const mountDir = (hostDir: string, readOnly: boolean) => {
    if (mounts.some((mount) => isInside(hostDir, mount.host) && (readOnly || !mount.readOnly))) return;
    mounts.push({ host: hostDir, container: toContainer(hostDir), readOnly });
  };

  const sets: string[] = [`cacheDir=${CONTAINER_CACHE}`, `distDir=${CONTAINER_DIST}`];
  const inner: string[] = [];
  if (config.configFile) {
    mountDir(path.dirname(config.configFile), true);
    inner.push('--config', toContainer(config.configFile));
  }
  if (config.patches.series === BUNDLED_SERIES) {
    // The image holds the same series: its hash covers patches/.
    sets.push(`patches.series=${CONTAINER_BUNDLED_SERIES}`);
  } else {
    mountDir(path.dirname(config.patches.series), true);
    sets.push(`patches.series=${toContainer(config.patches.series)}`);
  }
  if (config.checkout.srcDir) {
    if (existsSync(config.checkout.srcDir)) {
      mountDir(config.checkout.srcDir, false);
      writableDirs.push(config.checkout.srcDir);
    }
    sets.push(`checkout.srcDir=${toContainer(config.checkout.srcDir)}`);
  }
  if (config.gclient.cacheDir) {
    mountDir(config.gclient.cacheDir, false);
    writableDirs.push(config.gclient.cacheDir);
    sets.push(`gclient.cacheDir=${toContainer(config.gclient.cacheDir)}`);
  }
  const stores = config.publish.map((store) => {
    if (store.type !== 'dir') return store;
    mountDir(store.path, false);
    if (!isInside(store.path, config.distDir)) writableDirs.push(store.path);
    return { ...store, path: toContainer(store.path) };
  });
  sets.push(`publish=${JSON.stringify(stores)}`);

  const passEnv = PASSED_ENV.filter((name) => env[name] !== undefined);
  for (const name of Object.keys(env).sort()) {
    if (name.startsWith('BUILD_QUICHE_') && name !== 'BUILD_QUICHE_CONFIG') passEnv.push(name);
  }
  for (const store of config.publish) if (store.type === 'github' && env[store.tokenEnv] !== undefined) passEnv.push(store.tokenEnv);

  const innerEnv: Record<string, string> = {};
  if (caBundle) {
    mounts.push({ host: caBundle, container: CONTAINER_CA_BUNDLE, readOnly: true });
    for (const name of ['SSL_CERT_FILE', 'NODE_EXTRA_CA_CERTS', 'GIT_SSL_CAINFO', 'CURL_CA_BUNDLE', 'REQUESTS_CA_BUNDLE'])
      innerEnv[name] = CONTAINER_CA_BUNDLE;
  }

  for (const assignment of sets) inner.push('--set', assignment);
  return {
    // Parents before children, so a nested mount is not hidden by its parent's.
    mounts: mounts.sort((a, b) => a.container.split('/').length - b.container.split('/').length),
    argv: [...inner, ...stripHostOnlyArgs(argv)],
    env: innerEnv,
    passEnv: [...new Set(passEnv)],
    writableDirs: [...new Set(writableDirs)],
  };
}

/**
 * The CA bundle the host's tools are told to trust (a TLS-intercepting proxy's CA, typically), so
 * the image build and the run inside reach the same hosts: SSL_CERT_FILE, else NODE_EXTRA_CA_CERTS.
 */
export function detectCaBundle(env: NodeJS.ProcessEnv): string | undefined {
  for (const name of ['SSL_CERT_FILE', 'NODE_EXTRA_CA_CERTS']) {
    const file = env[name];
    if (file && path.isAbsolute(file) && existsSync(file) && statSync(file).isFile()) return file;
  }
  return undefined;
}
