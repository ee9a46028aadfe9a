# shellcheck shell=bash
# Shared by scripts/test.sh, scripts/demo.sh, scripts/openssl35.sh and
# scripts/libsrtp2-openssl.sh (sourced, not run).

# configure DIR [MESON_OPTIONS...]: `meson setup` a fresh build directory, or reconfigure an
# existing one (so newly installed dependencies and changed options are picked up). meson's
# chatter goes to DIR.setup.log and is shown only on failure.
configure() {
  local dir=$1
  shift
  local log="$dir.setup.log"
  local status=0
  if [[ -f $dir/meson-private/coredata.dat ]]; then
    meson setup --reconfigure "$dir" "$@" >"$log" 2>&1 || status=$?
    if ((status != 0)); then
      # A directory from another meson version or a broken one: start it over.
      status=0
      meson setup --wipe "$dir" "$@" >"$log" 2>&1 || status=$?
    fi
  else
    meson setup "$dir" "$@" >"$log" 2>&1 || status=$?
  fi
  if ((status != 0)); then
    tail -n 30 "$log" >&2
    echo "configure: meson setup $dir failed (log: $log)" >&2
  fi
  return $status
}

# build DIR [TARGETS...]: ninja with one job per core (the machine is small; ninja's default
# oversubscribes it).
build() {
  local dir=$1
  shift
  ninja -C "$dir" -j "${JOBS:-$(nproc)}" --quiet "$@"
}

# --- Debian source packages through a scratch apt configuration ------------------------------
# scripts/openssl35.sh and scripts/libsrtp2-openssl.sh build a library from a Debian source
# package into a cache. The apt configuration they use is their own (sources list, lists and
# cache under a temporary directory): the machine's apt sources and state are not touched.

# debian_mirror: the Debian mirror the machine already uses: the first URI of a `deb` or `deb-src`
# line (one-line format) or of a `URIs:` field (deb822 format) in its apt sources that serves
# Debian itself (a Release suite without -security; /debian at the end of the path).
debian_mirror() {
  local file
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -f $file ]] || continue
    awk '
      /^[ \t]*#/ { next }
      $1 == "deb" || $1 == "deb-src" {
        for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i !~ /^[a-z-]+=/) { print $i; break }
      }
      tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }
    ' "$file"
  done | grep -E '^(https?|file)://.*/debian/?$' | head -n 1
}

# debian_source_setup WORK MIRROR SUITE: a scratch apt configuration in the directory WORK (created
# by the caller) with one `deb-src MIRROR SUITE main` line, and its source index fetched. Sets the
# array debian_apt_options, which the functions below pass to apt-get and apt-cache. apt's output
# goes to WORK/apt.log, shown on failure.
debian_source_setup() {
  local work=$1 mirror=$2 suite=$3
  # apt downloads as the unprivileged _apt user: it must be able to enter and write there.
  chmod 755 "$work"
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
    >"$work/sources.list"
  debian_apt_options=(
    -o "Dir::Etc::sourcelist=$work/sources.list"
    -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$work/lists"
    -o "Dir::Cache=$work/cache"
    -o "APT::Get::List-Cleanup=0"
    # The files land in this scratch directory, root's: no download sandbox user (its warning).
    -o "APT::Sandbox::User=root"
  )
  apt-get "${debian_apt_options[@]}" -qq update >"$work/apt.log" 2>&1 || {
    cat "$work/apt.log" >&2
    echo "apt-get update (scratch configuration, $suite from $mirror) failed" >&2
    return 1
  }
}

# debian_source_versions PACKAGE VERSION_REGEX: the versions of the source package PACKAGE the
# scratch index lists that match VERSION_REGEX, newest first (the index may name a version whose
# files the mirror no longer, or not yet, has: try them in this order).
debian_source_versions() {
  apt-cache "${debian_apt_options[@]}" showsrc "$1" 2>/dev/null |
    awk -v re="$2" '$1 == "Version:" && $2 ~ re { print $2 }' | sort -Vru
}

# debian_source_download PACKAGE VERSION DIR: the files of that source package (.dsc and tarballs)
# into DIR, created empty. apt's output goes to DIR.log.
debian_source_download() {
  local package=$1 version=$2 dir=$3
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && apt-get "${debian_apt_options[@]}" -qq source --download-only "$package=$version") \
    >"$dir.log" 2>&1
}

# debian_source_fetch PACKAGE VERSION_REGEX WORK PREFIX_FORMAT (after debian_source_setup WORK …;
# the caller defines `log MESSAGE` and `complete PREFIX`, true when a finished build is there):
# walks the suite's versions of PACKAGE matching VERSION_REGEX, newest first, and stops at the
# first whose build is cached or whose files the mirror has. Sets `version`, `prefix`
# (PREFIX_FORMAT with %s = the version) and `cached` (1: a complete build is at `prefix`; 0: the
# source is unpacked in WORK/src/PACKAGE). Returns 1 with `why` set when nothing could be had.
debian_source_fetch() {
  local package=$1 pattern=$2 work=$3 prefix_format=$4 candidate
  local -a versions
  mapfile -t versions < <(debian_source_versions "$package" "$pattern")
  ((${#versions[@]} > 0)) || { why="no $package source package matches $pattern"; return 1; }
  version=""
  for candidate in "${versions[@]}"; do
    # shellcheck disable=SC2059  # the format is the caller's prefix pattern
    prefix=$(printf "$prefix_format" "$candidate")
    if complete "$prefix"; then
      version=$candidate cached=1
      return 0
    fi
    log "downloading $package $candidate (source)"
    if debian_source_download "$package" "$candidate" "$work/src"; then
      version=$candidate
      break
    fi
    log "the mirror does not have the files of $package $candidate: $(grep -m1 '^E:' "$work/src.log" || true)"
  done
  [[ -n $version ]] || { why="no $package source package could be downloaded"; return 1; }
  cached=0
  dpkg-source --no-check -x "$work/src/${package}_$version.dsc" "$work/src/$package" \
    >"$work/src.log" 2>&1 || { cat "$work/src.log" >&2; why="dpkg-source -x failed"; return 1; }
}
