/**
 * `--docker`: run build-quiche's pipeline inside the builder image (Dockerfile.builder) with docker
 * or podman. See docs/docker.md.
 */
export { runContainerized, runInContainer, type ContainerRunResult, type RunInContainerOptions } from './run.js';
export { findEngine, type ContainerEngine, type EngineKind, type EnginePreference } from './engine.js';
export {
  ensureImage,
  imageHash,
  imageTag,
  IMAGE_INPUTS,
  IMAGE_LABEL,
  IMAGE_REPOSITORY,
  type ImageResult,
  type ImageSpec,
} from './image.js';
export { detectCaBundle, planContainer, stripHostOnlyArgs, type ContainerPlan, type Mount } from './plan.js';
export { chooseContainerUser, invokingUser, rootSwapMap, type ContainerUser } from './user.js';
export { ContainerEngineNotFoundError, ContainerRunError, ImageBuildError, ImagePullNetworkError, PODMAN_RECIPE } from './errors.js';
