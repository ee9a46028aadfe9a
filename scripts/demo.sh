#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs the demo.
# For now the demo is the core demo (demo/core_demo.cpp): two DTLS transports in memory, handshake,
# negotiated role/profile/cipher, matching keys, an SRTP round trip. Arguments go to the demo.
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
echo "building the demo in $build_dir ..."
build "$build_dir" demo/core_demo
echo
exec "$build_dir/demo/core_demo" "$@"
