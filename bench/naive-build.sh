#!/usr/bin/env bash
# The baseline build-quiche is measured against: the raw commands a hand-written script runs, every
# time, with no fingerprints or verification (sync, re-apply patches, gn gen, build, tar).
# Env: BASE_URL (local upstream), WORK (work dir), TAG, SERIES_DIR, GN, GN_ARGS (args.gn lines).
# The build's output goes to $WORK/naive-build.log (the bench counts its steps there).
set -euo pipefail
export PATH="$WORK/depot_tools:$PATH" DEPOT_TOOLS_UPDATE=0 DEPOT_TOOLS_METRICS=0 \
  VPYTHON_BYPASS="manually managed python not supported by chrome operations" FAKE_GCLIENT_RETRY_SLEEP=0.01
mkdir -p "$WORK/chromium"
[ -d "$WORK/depot_tools" ] || git clone -q "$BASE_URL/chromium/tools/depot_tools.git" "$WORK/depot_tools"
cd "$WORK/chromium"
cat > .gclient <<GCLIENT
solutions = [{"name": "src", "url": "$BASE_URL/chromium/src.git", "managed": False,
  "custom_deps": {}, "custom_vars": {"chromium_git": "$BASE_URL", "quiche_git": "$BASE_URL", "checkout_nacl": False}}]
target_os = ["linux"]
target_os_only = True
GCLIENT
q=src/net/third_party/quiche/src
# A naive script resets the patched files so that sync and apply work on a clean tree.
[ -d "$q/.git" ] && git -C "$q" checkout -q -- . && git -C "$q" clean -qfd
gclient sync --no-history --nohooks -D --ignore-dep-type=cipd -r "src@refs/tags/$TAG" >/dev/null
gclient runhooks >/dev/null
grep -v '^#' "$SERIES_DIR/series" | awk 'NF {print $1}' | while read -r p; do git -C "$q" apply "$SERIES_DIR/$p"; done
cd src
mkdir -p out/Release
printf '%s\n' "$GN_ARGS" > out/Release/args.gn
"$GN" gen out/Release >/dev/null
autoninja -C out/Release net:quic_client net:quic_server net/third_party/quiche:epoll_quic_client net/third_party/quiche:epoll_quic_server >"$WORK/naive-build.log" 2>&1
mkdir -p "$WORK/dist"
tar -czf "$WORK/dist/quiche.tar.gz" -C out/Release quic_client quic_server epoll_quic_client epoll_quic_server
