# shellcheck shell=bash
# Shared by scripts/test.sh and scripts/demo.sh (sourced, not run).

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
