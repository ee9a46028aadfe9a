#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the demo.
# The demo is demo/transport_demo.cpp: two dtlstransportbins in one process on 127.0.0.1, VP8 video
# A->B and Opus audio B->A over DTLS-SRTP; it prints each state change, the negotiated role and
# SRTP profile, the handshake time, the selected candidate pair, packets and frames, and a SUCCESS
# line. Arguments go to the demo (--seconds N, --profile NAME, --show).
# `scripts/demo.sh --core [ARGS]` runs the core-only demo instead (demo/core_demo.cpp: two DTLS
# transports in memory, no GStreamer).
# Environment: BUILD_DIR (default build), JOBS (compile jobs, default: the number of cores).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/common.sh
build_dir=${BUILD_DIR:-build}

bash scripts/deps.sh
if [[ ! -f $build_dir/meson-private/coredata.dat ]]; then
  # The same options as scripts/test.sh, so the two share one build without rebuilding.
  configure "$build_dir" --werror
fi

if [[ ${1:-} == --core ]]; then
  shift
  echo "building the core demo in $build_dir ..."
  build "$build_dir" demo/core_demo
  echo
  exec "$build_dir/demo/core_demo" "$@"
fi

echo "building the plugin and the demo in $build_dir ..."
build "$build_dir" gst/libgstdtlstransport.so demo/transport_demo
# The plugin this build made comes first, before any installed copy.
plugin_dir=$(cd "$build_dir/gst" && pwd)
export GST_PLUGIN_PATH="$plugin_dir${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
echo
exec "$build_dir/demo/transport_demo" "$@"
