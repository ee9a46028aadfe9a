#!/usr/bin/env bash
# Builds OpenSSL 3.5 from Debian trixie's source package into a cache, once, and prints its
# install prefix as the last line of stdout (everything else goes to stderr).
#
# Why: Debian 12 ships OpenSSL 3.0, but OpenSSL changed DTLS internals the core relies on in 3.2
# (the retransmission timer: see on_openssl_timer in src/dtls_transport.cpp). scripts/test.sh
# builds and runs the core tests against this build as well (its `openssl35` step).
#
#   bash scripts/openssl35.sh            # prefix of a cached 3.5 build, built first if none
#
# How: a scratch apt configuration (its own sources list, lists and cache, under a temporary
# directory; the machine's apt sources and state are not touched) with one
# `deb-src URI trixie main` line, URI being the Debian mirror of the machine's own apt sources;
# `apt-get source --download-only openssl`, `dpkg-source -x` (dpkg-dev), then a minimal static
# build (`./Configure ... no-shared no-docs no-tests no-apps ...`: libssl.a and libcrypto.a only,
# everything the core uses kept: DTLS 1.2, EC, X25519, RSA, AES-GCM, ChaCha20-Poly1305, SHA-1/2,
# use_srtp and keying material export) and `make install_sw` into the prefix.
#
# The cache: ${OPENSSL35_CACHE:-/var/cache/gst-dtlstransport}/openssl-<Debian version>, keyed by
# the source package's version; a prefix counts only once its `.complete` marker is written (an
# interrupted build is started over). With a complete 3.5 build present nothing is downloaded (the
# newest one is used) unless OPENSSL35_REFRESH=1, which asks the mirror for trixie's current
# version and builds that if it is not cached yet.
#
# Environment:
#   OPENSSL35_CACHE   cache directory (default /var/cache/gst-dtlstransport)
#   OPENSSL35_MIRROR  Debian mirror URI (default: the first one of /etc/apt/sources.list*)
#   OPENSSL35_REFRESH 1: look up trixie's current version even when a build is cached
#   JOBS              make jobs (default 2: the machine is small)
# Exit status: 0 and the prefix on stdout, or non-zero with the reason on stderr.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

cache=${OPENSSL35_CACHE:-/var/cache/gst-dtlstransport}
jobs=${JOBS:-2}

# The build: static libraries only (no-shared: OpenSSL compiles every file twice for a shared
# build, so this halves the build; the test binaries link 3.5 in, and nothing else can be loaded
# in its place), without the openssl program (the tests' interop peer is the system `openssl`),
# documentation, tests, engines, the legacy provider, QUIC, and old or national algorithms the core
# never offers. A cached build counts only if it was made with these options (its `.complete`).
configure_options=(
  no-shared no-docs no-tests no-apps no-legacy no-engine no-dynamic-engine no-quic no-comp
  no-ssl3 no-srp no-psk no-ct no-ocsp no-cms no-ts no-gost no-idea no-seed no-camellia no-aria
  no-sm2 no-sm3 no-sm4 no-whirlpool no-mdc2 no-rc2 no-rc4 no-rc5 no-md4 no-cast no-bf no-des
  no-dsa no-siphash no-afalgeng no-uplink
)
stamp="configured: ${configure_options[*]}"

log() { echo "openssl35: $*" >&2; }
die() {
  log "$*"
  exit 1
}

# complete PREFIX: a finished build with today's options.
complete() { [[ -f $1/.complete ]] && grep -qxF "$stamp" "$1/.complete"; }

# The newest complete build in the cache, if any.
cached_prefix() {
  local dir newest=""
  for dir in "$cache"/openssl-3.5.*; do
    complete "$dir" && newest=$dir
  done
  [[ -n $newest ]] && echo "$newest"
}

if [[ ${OPENSSL35_REFRESH:-0} != 1 ]] && prefix=$(cached_prefix); then
  log "using the cached build $prefix"
  echo "$prefix"
  exit 0
fi

mirror=${OPENSSL35_MIRROR:-$(debian_mirror || true)}
[[ -n $mirror ]] || die "no Debian mirror found in /etc/apt/sources.list*; set OPENSSL35_MIRROR"
command -v dpkg-source >/dev/null || die "dpkg-source is missing: install dpkg-dev (scripts/deps.sh)"

work=$(mktemp -d /tmp/openssl35.XXXXXX)
trap 'rm -rf "$work"' EXIT
log "fetching the trixie source index from $mirror"
debian_source_setup "$work" "$mirror" trixie || die "cannot read trixie's source index"
debian_source_fetch openssl '^3\.5\.' "$work" "$cache/openssl-%s" || die "$why (trixie, $mirror)"
if ((cached)); then
  log "using the cached build $prefix"
  echo "$prefix"
  exit 0
fi

log "building openssl $version into $prefix (make -j$jobs)"
# A build with other options, or an interrupted one, is replaced whole.
rm -rf "$prefix"
mkdir -p "$prefix"
start=$SECONDS
(
  cd "$work/src/openssl"
  ./Configure --prefix="$prefix" --openssldir="$prefix/ssl" --libdir=lib "${configure_options[@]}"
  make -j"$jobs"
  make install_sw
) >"$work/build.log" 2>&1 || {
  tail -n 60 "$work/build.log" >&2
  rm -rf "$prefix"
  die "the build of openssl $version failed"
}
log "built in $((SECONDS - start)) s"
printf '%s\n%s\n' "$version" "$stamp" >"$prefix/.complete"
echo "$prefix"
