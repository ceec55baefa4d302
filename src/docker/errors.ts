import { define } from '../errors.js';

/** What to do on a host without Docker: the podman recipe, short (docs/docker.md has it whole). */
export const PODMAN_RECIPE = [
  'Install Docker (with a running daemon) or podman. On Debian/Ubuntu without Docker:',
  '      apt-get install -y podman buildah runc',
  '    and where crun fails ("cgroups in hybrid mode not supported"), put in /etc/containers/containers.conf:',
  '      [engine]',
  '      runtime = "runc"',
  '      cgroup_manager = "cgroupfs"',
  '    Choose the engine with --set docker.engine=podman|docker. More in docs/docker.md.',
].join('\n');

/** Neither docker (with a daemon that answers) nor podman could be used. */
export class ContainerEngineNotFoundError extends define('tool', { hint: PODMAN_RECIPE }) {}

/** `docker build` / `podman build` of Dockerfile.builder failed; the log holds its whole output. */
export class ImageBuildError extends define('tool') {}

/** The engine could not create or start the container (exit 125-127 before build-quiche ran). */
export class ContainerRunError extends define('tool') {}

/**
 * What docker, podman and buildah print when they cannot reach a registry or a mirror (no network, no
 * DNS, a proxy that refuses): a network failure (exit 7, try again later), not a broken image recipe.
 */
const UNREACHABLE =
  /no such host|connection refused|i\/o timeout|network is unreachable|pinging container registry|TLS handshake timeout|Temporary failure in name resolution|Could not resolve/i;

export const showsNetworkFailure = (lines: readonly string[]): boolean => UNREACHABLE.test(lines.join('\n'));

/** The image build could not pull its base image or reach its mirrors. */
export class ImagePullNetworkError extends define('network') {}
