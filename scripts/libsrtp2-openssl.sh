#!/usr/bin/env bash
# Builds libsrtp2 with OpenSSL as its crypto backend from Debian bookworm's source package into a
# cache, once, and prints its install prefix as the last line of stdout (everything else goes to
# stderr).
#
# Why: Debian's libsrtp2 is built against NSS, whose AES-CM and HMAC-SHA1 make the
# AES_CM_128_HMAC_SHA1_80/32 profiles cost 4-5x what AES-GCM costs per packet; the same libsrtp2
# 2.5.0 built with `--enable-openssl` does them in about the time of GCM (docs/performance.md).
# `meson setup -Dsrtp=openssl` builds the core, the plugin and the benchmarks against this build,
# and scripts/test.sh runs the core suite against it (its `srtp-openssl` step).
#
#   bash scripts/libsrtp2-openssl.sh            # prefix of a cached build, built first if none
#   bash scripts/libsrtp2-openssl.sh --cached   # prefix of a cached build, or fail: no download,
#                                               # no build (what meson's -Dsrtp=openssl asks)
#
# How: a scratch apt configuration (scripts/common.sh: its own sources list, lists and cache under
# a temporary directory; the machine's apt sources and state are not touched) with one
# `deb-src URI bookworm main` line, URI being the Debian mirror of the machine's own apt sources;
# `apt-get source --download-only libsrtp2`, `dpkg-source -x` (dpkg-dev: Debian's patches are
# applied), `./configure --enable-openssl` against the system's libcrypto (libssl-dev, found with
# pkg-config), `make libsrtp2.a` and `make install` into the prefix: headers, libsrtp2.a (position
# independent: configure adds -fPIC) and libsrtp2.pc. Static on purpose: libsrtp2.a is linked
# into each binary, so no other libsrtp2 can be loaded in its place at run time, and the plugin
# (which hides its symbols) can share a process with GStreamer's srtpenc/srtpdec, which load the
# system's libsrtp2.so.1.
#
# The cache: ${LIBSRTP2_OPENSSL_CACHE:-/var/cache/gst-dtlstransport}/libsrtp2-<Debian version>-
# openssl-<hash of the configure options and the libcrypto version>; a prefix counts only once its
# `.complete` marker is written (an interrupted build is started over). With a complete build
# present nothing is downloaded (the newest one is used) unless LIBSRTP2_OPENSSL_REFRESH=1.
#
# Environment:
#   LIBSRTP2_OPENSSL_CACHE    cache directory (default /var/cache/gst-dtlstransport)
#   LIBSRTP2_OPENSSL_MIRROR   Debian mirror URI (default: the first one of /etc/apt/sources.list*)
#   LIBSRTP2_OPENSSL_REFRESH  1: look up bookworm's current version even when a build is cached
#   JOBS                      make jobs (default 2: the machine is small)
# Exit status: 0 and the prefix on stdout, or non-zero with the reason on stderr.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cache=${LIBSRTP2_OPENSSL_CACHE:-/var/cache/gst-dtlstransport}
jobs=${JOBS:-2}
cached_only=0
case ${1:-} in
  "") ;;
  --cached) cached_only=1 ;;
  *)
    echo "libsrtp2-openssl: unknown argument '$1' (try --cached)" >&2
    exit 2
    ;;
esac

# The build: OpenSSL's AES-CM, AES-GCM and HMAC-SHA1 (--enable-openssl), no pcap (only libsrtp's
# own rtp_decoder tool uses it), libsrtp's logging to its handler only (no stdout, no file).
# Debian's build adds -O4 -fexpensive-optimizations -funroll-loops to its -O2; so does this one,
# so that the two libraries differ by their crypto backend only.
configure_options=(--enable-openssl --disable-pcap)
cflags="-O2 -O4 -fexpensive-optimizations -funroll-loops -D_REENTRANT"
libcrypto_version=$(pkg-config --modversion libcrypto 2>/dev/null || true)
stamp="configured: ${configure_options[*]} CFLAGS=$cflags libcrypto=$libcrypto_version"
key=$(printf '%s' "$stamp" | sha256sum | cut -c1-12)

log() { echo "libsrtp2-openssl: $*" >&2; }
die() {
  log "$*"
  exit 1
}

[[ -n $libcrypto_version ]] ||
  die "pkg-config finds no libcrypto: install libssl-dev and pkg-config (scripts/deps.sh)"

# complete PREFIX: a finished build with today's options.
complete() { [[ -f $1/.complete ]] && grep -qxF "$stamp" "$1/.complete"; }

# The newest complete build in the cache with today's options, if any.
cached_prefix() {
  local dir newest=""
  for dir in "$cache"/libsrtp2-*-openssl-"$key"; do
    complete "$dir" && newest=$dir
  done
  [[ -n $newest ]] && echo "$newest"
}

if [[ $cached_only == 1 || ${LIBSRTP2_OPENSSL_REFRESH:-0} != 1 ]] && prefix=$(cached_prefix); then
  log "using the cached build $prefix"
  echo "$prefix"
  exit 0
fi
if [[ $cached_only == 1 ]]; then
  die "no OpenSSL-backed libsrtp2 in $cache (built with: $stamp): run scripts/libsrtp2-openssl.sh to build one"
fi

mirror=${LIBSRTP2_OPENSSL_MIRROR:-$(debian_mirror || true)}
[[ -n $mirror ]] || die "no Debian mirror found in /etc/apt/sources.list*; set LIBSRTP2_OPENSSL_MIRROR"
command -v dpkg-source >/dev/null || die "dpkg-source is missing: install dpkg-dev (scripts/deps.sh)"

work=$(mktemp -d /tmp/libsrtp2-openssl.XXXXXX)
trap 'rm -rf "$work"' EXIT
log "fetching the bookworm source index from $mirror"
debian_source_setup "$work" "$mirror" bookworm || die "cannot read bookworm's source index"
debian_source_fetch libsrtp2 '^2\.' "$work" "$cache/libsrtp2-%s-openssl-$key" || die "$why (bookworm, $mirror)"
if ((cached)); then
  log "using the cached build $prefix"
  echo "$prefix"
  exit 0
fi

log "building libsrtp2 $version (${configure_options[*]}) into $prefix (make -j$jobs)"
# A build with other options, or an interrupted one, is replaced whole.
rm -rf "$prefix"
mkdir -p "$prefix"
start=$SECONDS
(
  cd "$work/src/libsrtp2"
  CFLAGS=$cflags ./configure --prefix="$prefix" --libdir="$prefix/lib" "${configure_options[@]}"
  # configure says which backend it took: refuse anything but OpenSSL.
  grep -q '^#define OPENSSL 1' crypto/include/config.h
  make -j"$jobs" libsrtp2.a
  make install
) >"$work/build.log" 2>&1 || {
  tail -n 60 "$work/build.log" >&2
  rm -rf "$prefix"
  die "the build of libsrtp2 $version failed"
}
log "built in $((SECONDS - start)) s"
printf '%s\n%s\n' "$version" "$stamp" >"$prefix/.complete"
echo "$prefix"
