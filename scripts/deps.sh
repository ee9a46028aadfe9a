#!/usr/bin/env bash
# Installs the Debian 12 packages this project needs to build, test, fuzz and run its demo.
# Idempotent: one dpkg-query when everything is there; apt-get (update + install) only for what is
# missing, which needs root.
set -euo pipefail

packages=(
  # toolchain and build
  build-essential g++ meson ninja-build pkg-config python3
  # the core: OpenSSL 3.0 (openssl is also the interop peer in the tests), libsrtp2, GoogleTest
  libssl-dev openssl libsrtp2-dev libgtest-dev googletest
  # OpenSSL 3.5 built from Debian trixie's source package (scripts/openssl35.sh) and libsrtp2
  # with OpenSSL crypto from bookworm's (scripts/libsrtp2-openssl.sh): dpkg-source, the archive
  # keys that sign the indexes, perl and make for OpenSSL's own build; libsrtp2's configure needs
  # only a C compiler, make, pkg-config and libssl-dev (above)
  dpkg-dev debian-archive-keyring perl make
  # fuzzing: clang with libFuzzer (libclang_rt.fuzzer is in libclang-rt-14-dev)
  clang libclang-rt-14-dev
  # the GStreamer element: headers (gst-check included), libnice and its elements
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libnice-dev gstreamer1.0-nice gstreamer1.0-tools
  # plugins the element tests and demo use: videotestsrc, opus (base); vp8 via libvpx, rtpbin
  # (good); webrtcbin for interop (bad)
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  # video windows for `scripts/demo.sh --show` (xvimagesink, ximagesink)
  gstreamer1.0-x
  # the Python example
  python3-gi python3-gst-1.0 gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0
  gir1.2-gst-plugins-bad-1.0
  valgrind
  # the TURN/STUN server the e2e test tests/e2e/test_turn_relay.py starts on 127.0.0.1
  coturn
  # the netns suite (tests/netns): network namespaces and veth pairs (ip), faults (nft)
  iproute2 nftables
  # the browser the e2e test tests/e2e/test_browser.py runs headless (examples/browser_server.py)
  chromium
)

# One query for all; packages dpkg has never heard of are simply absent from its output.
installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${packages[@]}" 2>/dev/null |
  awk '$2 == "installed" { print $1 }' || true)
missing=()
for package in "${packages[@]}"; do
  grep -qxF "$package" <<<"$installed" || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "deps: installing ${#missing[@]} missing package(s): ${missing[*]}"
if ((EUID != 0)); then
  echo "deps: installing packages needs root: run this as root or with sudo" >&2
  exit 1
fi

log=$(mktemp /tmp/deps-apt.XXXXXX.log)
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
  >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "deps: apt-get failed (full log: $log)" >&2
  exit 1
fi
rm -f "$log"
echo "deps: done"
