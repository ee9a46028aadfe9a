#!/usr/bin/env bash
# Builds and runs the whole test suite and ends with a line `N passed, N failed`.
#
#   1. scripts/deps.sh (apt-get what is missing; needs root only then)
#   2. `build`: warnings as errors, every suite (core GoogleTest, element gst-check tests)
#   3. `build-asan`: AddressSanitizer + UndefinedBehaviorSanitizer, the core suite
#   4. `build-fuzz`: clang + libFuzzer targets, each run for FUZZ_SECONDS (default 30)
#   5. a count of the individual test cases of every step (scripts/summarize.py)
#
# Environment:
#   TEST_QUICK=1     steps 1, 2 and 5 only (for developers; ignored when CI=true)
#   FUZZ_SECONDS=N   seconds per fuzz target (default 30)
#   BUILD_DIR, ASAN_BUILD_DIR, FUZZ_BUILD_DIR   build directories (default build, build-asan,
#                    build-fuzz, relative to the repository)
#   JOBS=N           parallel compile jobs (default: the number of cores)
# Exit status: 0 only if every step passed and no test case failed.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
source scripts/common.sh

build_dir=${BUILD_DIR:-build}
asan_dir=${ASAN_BUILD_DIR:-build-asan}
fuzz_dir=${FUZZ_BUILD_DIR:-build-fuzz}
fuzz_seconds=${FUZZ_SECONDS:-30}
quick=${TEST_QUICK:-0}
if [[ ${CI:-} == true ]]; then
  quick=0
fi

run_file=$(mktemp /tmp/test-run.XXXXXX)
trap 'rm -f "$run_file"' EXIT
timings=()
script_start=$SECONDS

step() {
  echo
  echo "=== $* ==="
}

# record_stage NAME STATUS: STATUS is an exit code (0 = pass) or "skip".
record_stage() {
  local result
  case $2 in
    skip) result=skip ;;
    0) result=pass ;;
    *) result=fail ;;
  esac
  echo "stage $1 $result" >>"$run_file"
}

# run_meson_tests DIR [meson test options...]
run_meson_tests() {
  local dir=$1
  shift
  local start status=0
  start=$(date +%s.%N)
  meson test -C "$dir" --no-rebuild --print-errorlogs "$@" || status=$?
  echo "meson $dir $start $status" >>"$run_file"
}

# timed LABEL COMMAND...: runs COMMAND, remembers its wall time for the summary.
timed() {
  local label=$1
  shift
  local begin=$SECONDS status=0
  "$@" || status=$?
  timings+=("$(printf '%-28s %4ds' "$label" $((SECONDS - begin)))")
  return $status
}

# --- 1. dependencies -------------------------------------------------------------------------
step "dependencies"
if ! bash scripts/deps.sh; then
  echo "test: cannot install the dependencies" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

# --- 2. main build: all suites ---------------------------------------------------------------
main_build() {
  configure "$build_dir" --werror || { record_stage configure-main 1; return 1; }
  build "$build_dir" || { record_stage build-main 1; return 1; }
}
main_tests() {
  run_meson_tests "$build_dir"
}
step "main build ($build_dir, --werror)"
if timed "main build" main_build; then
  step "all suites ($build_dir)"
  timed "main tests" main_tests
fi

# --- 3. sanitizers: core suite ---------------------------------------------------------------
# UBSan only prints by default; halt_on_error makes undefined behaviour fail the test.
asan_build() {
  # -Db_lundef=false: the sanitizer runtimes resolve some symbols at load time. -O0 (buildtype
  # debug): g++ compiles the GoogleTest files ~4x faster than at -O2 with the sanitizers on, and
  # the tests still run in seconds. The element and the benchmarks are not built here: only the
  # core suite runs under the sanitizers.
  configure "$asan_dir" --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
    -Dgst=disabled -Dbench=false || { record_stage configure-asan 1; return 1; }
  build "$asan_dir" || { record_stage build-asan 1; return 1; }
}
asan_tests() {
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    run_meson_tests "$asan_dir" --suite core
}
if [[ $quick == 1 ]]; then
  step "sanitizers: skipped (TEST_QUICK=1)"
else
  step "sanitizer build ($asan_dir: address, undefined)"
  if timed "asan build" asan_build; then
    step "core suite under ASan + UBSan ($asan_dir)"
    timed "asan tests" asan_tests
  fi
fi

# --- 4. fuzzing ------------------------------------------------------------------------------
fuzz_build() {
  CC=clang CXX=clang++ configure "$fuzz_dir" -Dfuzzing=true -Dgst=disabled -Dtests=disabled \
    -Dbench=false || { record_stage configure-fuzz 1; return 1; }
  build "$fuzz_dir" || { record_stage build-fuzz 1; return 1; }
}
fuzz_run() {
  local status=0
  bash tests/fuzz/run-all.sh "$fuzz_dir" "$fuzz_seconds" || status=$?
  record_stage fuzz-targets "$status"
  return $status
}
if [[ $quick == 1 ]]; then
  step "fuzzing: skipped (TEST_QUICK=1)"
else
  step "fuzz build ($fuzz_dir, clang, libFuzzer)"
  if timed "fuzz build" fuzz_build; then
    if [[ -f tests/fuzz/run-all.sh ]]; then
      step "fuzz targets, ${fuzz_seconds}s each"
      timed "fuzz run" fuzz_run
    else
      echo "tests/fuzz/run-all.sh does not exist yet: no fuzz target run"
    fi
  fi
fi

# --- 5. summary ------------------------------------------------------------------------------
step "summary"
timings+=("$(printf '%-28s %4ds' "total" $((SECONDS - script_start)))")
printf '%s\n' "${timings[@]}"
python3 scripts/summarize.py "$run_file"
