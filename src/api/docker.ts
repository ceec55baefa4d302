/** `--docker`: the same command, run whole in the builder image with docker or podman (docs/docker.md). */
export { runInContainer } from '../docker/index.js';
