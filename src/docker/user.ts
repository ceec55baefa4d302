import type { ContainerEngine } from './engine.js';

/** The image's default user: Dockerfile.builder's UID/GID build args. */
export const DEFAULT_CONTAINER_ID = 1000;

export interface Ids {
  uid: number;
  gid: number;
}

/** Who runs build-quiche inside the container, and who owns what it writes on the host. */
export interface ContainerUser {
  /** The user inside the container (never root: depot_tools refuses to run as root). */
  container: Ids;
  /** The owner of the files it writes to the mounted cache and dist dirs, as the host sees them. */
  hostOwner: Ids;
  /** Engine options that make that so: --user, --userns, --uidmap/--gidmap. */
  runArgs: string[];
  /** Set when the engine cannot give the files to the invoking user. */
  warning?: string;
}

export interface ChooseUserOptions {
  engine: Pick<ContainerEngine, 'kind' | 'rootless'>;
  /** The invoking process's ids. */
  uid: number;
  gid: number;
  /** SUDO_UID/SUDO_GID name the user behind `sudo`. */
  env: NodeJS.ProcessEnv;
}

/** The user the run is for: the caller, or the one behind sudo when the caller is root. */
export function invokingUser({ uid, gid, env }: Pick<ChooseUserOptions, 'uid' | 'gid' | 'env'>): Ids {
  if (uid !== 0) return { uid, gid };
  const sudoUid = Number(env.SUDO_UID);
  const sudoGid = Number(env.SUDO_GID);
  if (Number.isInteger(sudoUid) && sudoUid > 0 && Number.isInteger(sudoGid) && sudoGid >= 0) return { uid: sudoUid, gid: sudoGid };
  return { uid, gid };
}

/**
 * Container id `inner` seen as host id 0, every other id of 0..65535 kept apart from the host's
 * root: 0..inner-1 -> 1..inner, inner -> 0, the rest unchanged. One contiguous host range (0..65535):
 * podman 4.3's overlay storage cannot mount layers for a mapping with gaps in it.
 */
export function rootSwapMap(inner: number): string[] {
  const ranges = [`0:1:${inner}`, `${inner}:0:1`];
  if (inner + 1 < 65536) ranges.push(`${inner + 1}:${inner + 1}:${65536 - inner - 1}`);
  return ranges;
}

/**
 * How the container user is chosen:
 * - a regular user (or root via sudo): the container runs as that uid/gid (the image is built with
 *   them), so files in the mounts are theirs; rootless podman needs --userns=keep-id for that;
 * - root itself, with podman: the container runs as uid 1000, mapped to host root by a user
 *   namespace, so files are root's and nothing in the container is root;
 * - root itself, with docker (no per-container user namespaces): uid 1000, and the files are
 *   1000's; the warning says so.
 */
export function chooseContainerUser(options: ChooseUserOptions): ContainerUser {
  const owner = invokingUser(options);
  const { engine } = options;
  if (owner.uid !== 0) {
    const runArgs = ['--user', `${owner.uid}:${owner.gid}`];
    if (engine.kind === 'podman' && engine.rootless) runArgs.unshift('--userns=keep-id');
    return { container: owner, hostOwner: owner, runArgs };
  }
  const inner: Ids = { uid: DEFAULT_CONTAINER_ID, gid: DEFAULT_CONTAINER_ID };
  const user = ['--user', `${inner.uid}:${inner.gid}`];
  if (engine.kind === 'podman' && !engine.rootless) {
    const maps = [
      ...rootSwapMap(inner.uid).flatMap((range) => ['--uidmap', range]),
      ...rootSwapMap(inner.gid).flatMap((range) => ['--gidmap', range]),
    ];
    return { container: inner, hostOwner: { uid: 0, gid: 0 }, runArgs: [...maps, ...user] };
  }
  return {
    container: inner,
    hostOwner: inner,
    runArgs: user,
    warning: `${engine.kind} cannot map the container user to root: files in the cache and dist dirs will belong to uid ${inner.uid}. Run as a regular user, or with podman, to own them.`,
  };
}
