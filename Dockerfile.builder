# The build-quiche builder image: Chromium's host tools, Node.js and build-quiche itself, run as a
# non-root user whose UID/GID match the host user's (so files in the mounted cache and dist dirs
# belong to them). `build-quiche --docker` builds it from a checkout of build-quiche and runs it; by
# hand (see docs/docker.md):
#
#   docker build -f Dockerfile.builder --build-arg UID=$(id -u) --build-arg GID=$(id -g) -t build-quiche-builder .
#   docker run --rm -it -v "$PWD/cache:/cache" -v "$PWD/dist:/dist" build-quiche-builder build
#
# No registry other than the distribution's and npm's is needed: Node.js comes from the npm
# registry's node-linux-<arch> package (see the first stage).
ARG BASE_IMAGE=ubuntu:24.04

# --- Node.js and npm from the npm registry ----------------------------------------------------
# Neither Debian bookworm nor Ubuntu 24.04 ships Node >= 20.19, and the distributions' npm drags in
# hundreds of packages (minutes). So fetch two tarballs from the npm registry itself: the official
# node binary (npm package node-linux-<arch>) and npm, each checked against the sha512 the registry
# publishes for it (pinned here; `npm view <pkg>@<version> dist.integrity`, base64 -> hex). To use
# another version, pass NODE_VERSION / NPM_VERSION and their hashes as build args.
FROM ${BASE_IMAGE} AS node
ARG NPM_REGISTRY=https://registry.npmjs.org
ARG NODE_VERSION=22.23.3
ARG NODE_SHA512_X64=a879f3e6d16c1e88ff58cfae4443558d638d8b9855be6c2b82af00e15efa2a9b95340738fa3c0af31e20c1ba1b13d06d1cd83f00a476e7cdde628acb17f73b9e
ARG NODE_SHA512_ARM64=9770c01d9adeca5a3ea7d4170edb0eae31b625726a5736179c01a621034e50d01170ca694ced9c99ec1540ffb7ead8c99d213e773a4c36d816f9cde8883bd7b4
ARG NPM_VERSION=10.9.9
ARG NPM_SHA512=d60fba8cb42f688b81e33c2f1cbef2ad7b977166700ec0ad057f1b6d60ea6ef2524abf673e20c35931cd8305d1dbb8887134d6eefdc0e7b8435bd458bf65b862
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A TLS-intercepting proxy's CA (the host's bundle, passed by `build-quiche --docker` as the build
# secret ca-certificates when SSL_CERT_FILE or NODE_EXTRA_CA_CERTS is set) is used, never stored.
RUN --mount=type=secret,id=ca-certificates set -eu; \
    ca=/run/secrets/ca-certificates; if [ -s "$ca" ]; then export CURL_CA_BUNDLE="$ca"; fi; \
    case "$(uname -m)" in \
      x86_64) arch=x64; node_sha512="$NODE_SHA512_X64" ;; \
      aarch64) arch=arm64; node_sha512="$NODE_SHA512_ARM64" ;; \
      *) echo "no node-linux package for $(uname -m)" >&2; exit 1 ;; \
    esac; \
    cd /tmp; \
    curl -fsSLo node.tgz "$NPM_REGISTRY/node-linux-$arch/-/node-linux-$arch-$NODE_VERSION.tgz"; \
    curl -fsSLo npm.tgz "$NPM_REGISTRY/npm/-/npm-$NPM_VERSION.tgz"; \
    printf '%s  node.tgz\n%s  npm.tgz\n' "$node_sha512" "$NPM_SHA512" | sha512sum --check --strict; \
    mkdir -p /opt/node/bin /opt/node/lib/node_modules/npm; \
    tar -xzf node.tgz --strip-components=2 -C /opt/node/bin package/bin/node; \
    tar -xzf npm.tgz --strip-components=1 -C /opt/node/lib/node_modules/npm; \
    ln -s ../lib/node_modules/npm/bin/npm-cli.js /opt/node/bin/npm; \
    rm node.tgz npm.tgz; \
    /opt/node/bin/node --version

# --- build-quiche, compiled, production dependencies only -----------------------------------
FROM ${BASE_IMAGE} AS toolkit
COPY --from=node /opt/node/ /usr/local/
WORKDIR /opt/build-quiche
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before src/ is here; the build below does it.
RUN --mount=type=secret,id=ca-certificates \
    ca=/run/secrets/ca-certificates; if [ -s "$ca" ]; then export NODE_EXTRA_CA_CERTS="$ca"; fi; \
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle-cli.ts ./scripts/
COPY src ./src
RUN npm run build --silent \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
 && rm -rf src scripts tsconfig.json tsconfig.build.json /root/.npm
COPY bin ./bin
RUN chmod 0755 bin/build-quiche.js
COPY patches ./patches
COPY schema ./schema

# --- the builder -------------------------------------------------------------------------------
FROM ${BASE_IMAGE}
ARG DEBIAN_FRONTEND=noninteractive
# Chromium's host tools (CHROMIUM.md: git, python3, curl, lsb-release, file, xz-utils), the ones the
# pipeline drives (openssl, readelf, g++/make for the toy build, ninja and gn where the distribution
# packages gn), and tini so signals reach build-quiche and orphans are reaped even without --init.
RUN set -eu; \
    apt-get update; \
    gn=; if apt-cache show generate-ninja >/dev/null 2>&1; then gn=generate-ninja; fi; \
    apt-get install -y --no-install-recommends \
      git python3 curl lsb-release file xz-utils openssl binutils g++ make ninja-build $gn \
      ca-certificates tini; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb

COPY --from=node /opt/node/bin/node /usr/local/bin/node

# The user build-quiche runs as. depot_tools refuses to run as root, and files written to the
# mounted /cache and /dist must belong to the host user, hence UID/GID from build args. A base that
# already has a user with that UID (Ubuntu's `ubuntu` is 1000) gives it up; an existing group with
# that GID is reused as it is.
ARG UID=1000
ARG GID=1000
RUN set -eu; \
    if [ "$UID" -eq 0 ] || [ "$GID" -eq 0 ]; then echo "UID and GID must not be 0: the builder runs as a non-root user" >&2; exit 1; fi; \
    existing="$(getent passwd "$UID" | cut -d: -f1)"; \
    if [ -n "$existing" ]; then userdel --remove "$existing" 2>/dev/null || userdel "$existing"; fi; \
    getent group "$GID" >/dev/null || groupadd --gid "$GID" builder; \
    useradd --no-log-init --create-home --uid "$UID" --gid "$GID" --shell /bin/bash builder; \
    mkdir -p /cache /dist; \
    chown "$UID:$GID" /cache /dist

COPY --from=toolkit /opt/build-quiche /opt/build-quiche
RUN ln -s /opt/build-quiche/bin/build-quiche.js /usr/local/bin/build-quiche

ENV HOME=/home/builder \
    LANG=C.UTF-8 \
    DEPOT_TOOLS_METRICS=0 \
    BUILD_QUICHE_CACHE_DIR=/cache \
    BUILD_QUICHE_DIST_DIR=/dist
USER builder
WORKDIR /home/builder
VOLUME ["/cache", "/dist"]
ENTRYPOINT ["tini", "--", "build-quiche"]
CMD ["--help"]
