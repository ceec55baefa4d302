import { BuildQuicheError, type ErrorDetails } from '../errors.js';

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
export class ContainerEngineNotFoundError extends BuildQuicheError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('tool', message, { hint: PODMAN_RECIPE, ...details });
  }
}

/** `docker build` / `podman build` of Dockerfile.builder failed; the log holds its whole output. */
export class ImageBuildError extends BuildQuicheError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('tool', message, details);
  }
}

/** The engine could not create or start the container (exit 125-127 before build-quiche ran). */
export class ContainerRunError extends BuildQuicheError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('tool', message, details);
  }
}
