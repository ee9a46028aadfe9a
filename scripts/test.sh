#!/usr/bin/env bash
# Builds and runs the whole test suite and ends with a line `N passed, N failed, N skipped`.
#
#   1. scripts/deps.sh (apt-get what is missing; needs root only then)
#   2. `build`: warnings as errors, every suite (-Dtests=enabled: a suite whose dependency is
#      missing fails the configure instead of vanishing), then the core test binaries again under
#      valgrind memcheck (only when that build succeeded: never stale binaries)
#   3. `build-asan`: AddressSanitizer + UndefinedBehaviorSanitizer, with leak detection: the core
#      suite, and the plugin with the gst and element suites (issue 3: the 50 NULL<->PLAYING
#      cycles of test_element_lifecycle run here)
#   4. `build-openssl35`: the core suite again, with ASan + UBSan, built against OpenSSL 3.5
#      (scripts/openssl35.sh builds it from Debian trixie's source package into a cache, once)
#   4b. `build-srtp-openssl`: the core's SRTP tests against an OpenSSL-backed libsrtp2 (meson's
#      -Dsrtp=openssl; scripts/libsrtp2-openssl.sh builds it from Debian bookworm's source
#      package into a cache, once)
#   5. `build-fuzz`: clang + libFuzzer targets, each run for FUZZ_SECONDS (default 20)
#   6. `bench/run --quick` (build-bench): the benchmarks must run; their numbers are not judged
#   7. a count of the individual test cases of every step (scripts/summarize.py): a suite or step
#      on its list that did not run fails the run; with CI=true, so does a skipped test
#
# Environment:
#   TEST_QUICK=1     steps 1, 2 (without valgrind) and 7 only, for developers; the steps left out
#                    are reported as not run (ignored when CI=true)
#   FUZZ_SECONDS=N   seconds per fuzz target (default 20; the 10 s less than before pay for a
#                    part of step 4, so that a whole run stays near 20 min on 2 cores)
#   BUILD_DIR, ASAN_BUILD_DIR, OPENSSL35_BUILD_DIR, SRTP_OPENSSL_BUILD_DIR, FUZZ_BUILD_DIR,
#   BENCH_BUILD_DIR  build directories (default build, build-asan, build-openssl35,
#                    build-srtp-openssl, build-fuzz, build-bench, relative to the repository)
#   OPENSSL35_CACHE  where scripts/openssl35.sh keeps its OpenSSL 3.5 builds
#                    (default /var/cache/gst-dtlstransport)
#   LIBSRTP2_OPENSSL_CACHE  where scripts/libsrtp2-openssl.sh keeps its libsrtp2 builds
#                    (default /var/cache/gst-dtlstransport)
#   JOBS=N           parallel compile jobs (default: the number of cores)
# Exit status: 0 only if every step passed and no test case failed.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
source scripts/common.sh

build_dir=${BUILD_DIR:-build}
asan_dir=${ASAN_BUILD_DIR:-build-asan}
fuzz_dir=${FUZZ_BUILD_DIR:-build-fuzz}
openssl35_dir=${OPENSSL35_BUILD_DIR:-build-openssl35}
srtp_openssl_dir=${SRTP_OPENSSL_BUILD_DIR:-build-srtp-openssl}
fuzz_seconds=${FUZZ_SECONDS:-20}
quick=${TEST_QUICK:-0}
summary_flags=()
if [[ ${CI:-} == true ]]; then
  quick=0
  summary_flags+=(--ci)
fi
if [[ $quick == 1 ]]; then
  summary_flags+=(--quick)
fi

run_file=$(mktemp /tmp/test-run.XXXXXX)
trap 'rm -f "$run_file"' EXIT
timings=()
script_start=$SECONDS

step() {
  echo
  echo "=== $* ==="
}

# The run file scripts/summarize.py counts (its docstring has the format).
# record_failed_stage NAME: a step that could not run (configure, build): one failed case.
record_failed_stage() {
  echo "stage $1 fail" >>"$run_file"
}

# record_case STEP SUITE NAME STATUS: one case run outside meson; STATUS is an exit code.
record_case() {
  echo "case $1 $2 $3 $([[ $4 == 0 ]] && echo pass || echo fail)" >>"$run_file"
}

# run_meson_tests STEP DIR [meson test options...]
run_meson_tests() {
  local step=$1 dir=$2
  shift 2
  local start status=0
  start=$(date +%s.%N)
  meson test -C "$dir" --no-rebuild --print-errorlogs "$@" || status=$?
  echo "meson $step $dir $start $status" >>"$run_file"
}

# suite_tests DIR SUITE: `name executable` of each test of SUITE in DIR as configured now (not
# whatever binaries an older configuration left behind).
suite_tests() {
  python3 - "$1/meson-info/intro-tests.json" "$2" <<'EOF'
import json, sys
for test in json.load(open(sys.argv[1], encoding="utf-8")):
    if any(s.split(":", 1)[-1] == sys.argv[2] for s in test["suite"]):
        print(test["name"], test["cmd"][0])
EOF
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
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

# --- 2. main build: all suites ---------------------------------------------------------------
main_build() {
  configure "$build_dir" --werror -Dtests=enabled -Dgst=enabled -Dbench=false ||
    { record_failed_stage configure-main; return 1; }
  build "$build_dir" || { record_failed_stage build-main; return 1; }
}
main_tests() {
  run_meson_tests main "$build_dir"
}
main_ok=0
step "main build ($build_dir, --werror)"
if timed "main build" main_build; then
  main_ok=1
  step "all suites ($build_dir)"
  timed "main tests" main_tests
fi

# --- 2b. valgrind: the core tests under memcheck ----------------------------------------------
# ASan/LSan below covers the element too; memcheck is the second opinion the project promises for
# the core ("no leaks under valgrind"): uninitialised reads, definite leaks. The RSA key
# generations over 2048 bits (4096 and 4104) are left out: minutes under valgrind, nothing the
# other cases do not cover. Two binaries run at a time (valgrind runs a process on one core),
# the slowest first. One case per test binary run; none run is a missing suite in the summary.
valgrind_one() {
  local name=$1 test=$2 test_status=0
  GTEST_FILTER='-*Rsa4096*:*LargerThan4096*' valgrind -q --error-exitcode=1 --leak-check=full \
    --errors-for-leak-kinds=definite "$test" --gtest_brief=1 </dev/null >/dev/null || test_status=$?
  if ((test_status != 0)); then
    echo "valgrind: $name has memcheck errors or failed" >&2
  fi
  record_case valgrind core "$name" "$test_status"
  return $test_status
}
valgrind_core() {
  local status=0 name test
  local -a slow_names=() slow_tests=() names=() tests=()
  while read -r name test; do
    # The slow ones first: a long binary started last would run alone at the end.
    case $name in
      certificate | dtls_loss | dtls_restart | dtls_transport) slow_names+=("$name") slow_tests+=("$test") ;;
      *) names+=("$name") tests+=("$test") ;;
    esac
  done < <(suite_tests "$build_dir" core)
  names=("${slow_names[@]}" "${names[@]}")
  tests=("${slow_tests[@]}" "${tests[@]}")
  local i running=0
  for i in "${!names[@]}"; do
    if ((running == 2)); then
      wait -n || status=1
      running=$((running - 1))
    fi
    valgrind_one "${names[$i]}" "${tests[$i]}" &
    running=$((running + 1))
  done
  while ((running > 0)); do
    wait -n || status=1
    running=$((running - 1))
  done
  return $status
}
if [[ $quick == 1 ]]; then
  step "valgrind: not run (TEST_QUICK=1)"
elif [[ $main_ok == 1 ]]; then
  step "core tests under valgrind memcheck ($build_dir)"
  timed "valgrind core" valgrind_core
else
  step "valgrind: not run ($build_dir did not build)"
fi

# --- 3. sanitizers: core, gst and element suites -------------------------------------------
asan_build() {
  # -Db_lundef=false: the sanitizer runtimes resolve some symbols at load time. -O0 (buildtype
  # debug): g++ compiles the test files ~4x faster than at -O2 with the sanitizers on, and the
  # tests still run in seconds. The plugin is built too: the gst-check binaries, themselves built
  # with ASan, load it in-process, so no LD_PRELOAD is needed. Not the benchmarks.
  configure "$asan_dir" --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
    -Dtests=enabled -Dgst=enabled -Dbench=false || { record_failed_stage configure-asan; return 1; }
  build "$asan_dir" || { record_failed_stage build-asan; return 1; }
}
# GStreamer's registry for the ASan suites, written before they run. gst-plugin-scanner is not
# built with ASan and cannot load the ASan plugin, so the tests set GST_REGISTRY_FORK=no; but then
# a test binary that finds no registry loads all ~250 system plugins into its own process before
# gst-check forks the test cases, and the forked cases hang (seen here: every two-bin case timed
# out, 46 s). gst-inspect-1.0 with the plugin's ASan runtime preloaded writes each registry the
# tests name (GST_REGISTRY in their meson environment) instead, once, outside the tests.
asan_gst_registries() {
  local asan_runtime registry plugin_path status=0
  asan_runtime=$(ldd "$asan_dir/gst/libgstdtlstransport.so" 2>/dev/null | awk '/libasan/ { print $3 }')
  if [[ -z $asan_runtime ]]; then
    echo "test: $asan_dir/gst/libgstdtlstransport.so is missing or not built with ASan" >&2
    record_failed_stage asan-gst-registry
    return 1
  fi
  while read -r registry plugin_path; do
    LD_PRELOAD=$asan_runtime ASAN_OPTIONS=detect_leaks=0 GST_REGISTRY=$registry \
      GST_PLUGIN_PATH=$plugin_path gst-inspect-1.0 dtlstransport >/dev/null || status=$?
  done < <(meson introspect "$asan_dir" --tests | python3 -c '
import json, sys
seen = set()
for test in json.load(sys.stdin):
    env = test.get("env") or {}
    pair = (env.get("GST_REGISTRY"), env.get("GST_PLUGIN_PATH"))
    if all(pair) and pair not in seen:
        seen.add(pair)
        print(*pair)')
  if ((status != 0)); then
    echo "test: gst-inspect-1.0 could not write the ASan build's GStreamer registry" >&2
    record_failed_stage asan-gst-registry
  fi
  return $status
}
asan_tests() {
  # One `meson test` run for all three suites: its testlog.json is what the summary counts.
  # The e2e suite (Python, an uninstrumented interpreter) does not run here.
  local suites=(--suite core)
  # Without a registry the gst-check cases would hang: then only the core suite runs, and the
  # summary reports the gst and element suites as missing.
  if asan_gst_registries; then
    suites+=(--suite gst --suite element)
  fi
  # ASan: leaks are failures; fast_unwind_on_malloc=0 gives full allocation stacks through GLib
  # and OpenSSL (built without frame pointers), which scripts/lsan.supp needs to match
  # third-party state by function name. UBSan only prints by default; halt_on_error makes
  # undefined behaviour fail the test. G_SLICE=always-malloc: each GLib slice (GstBuffer,
  # GstEvent…) is its own malloc block, so ASan sees use-after-free and LSan sees leaks of them.
  # CK_TIMEOUT_MULTIPLIER and --timeout-multiplier: the suites run about 3x slower under ASan.
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0} \
    LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    GST_REGISTRY_FORK=no G_SLICE=always-malloc CK_TIMEOUT_MULTIPLIER=3 \
    run_meson_tests asan "$asan_dir" --timeout-multiplier 3 "${suites[@]}"
}
if [[ $quick == 1 ]]; then
  step "sanitizers: not run (TEST_QUICK=1)"
else
  step "sanitizer build ($asan_dir: address, undefined)"
  if timed "asan build" asan_build; then
    step "core, gst and element suites under ASan + UBSan ($asan_dir)"
    timed "asan tests" asan_tests
  fi
fi

# --- 4. OpenSSL 3.5: the core suite against trixie's OpenSSL ---------------------------------
# Debian 12's OpenSSL is 3.0; OpenSSL changed the DTLS internals the core's BIO and timers meet in
# 3.2 (the timer the BIO is told about lives on OpenSSL's stack since then). scripts/openssl35.sh
# builds OpenSSL 3.5 (static) from Debian trixie's source package into a cache once (2.5 min on 2
# cores, then reused); the core and its tests are built against it (its pkg-config files)
# with ASan + UBSan as in step 3, and the core suite runs. Its openssl_version test fails unless
# the library the tests run is 3.5.
openssl35_build() {
  local prefix
  if ! prefix=$(bash scripts/openssl35.sh) || [[ ! -d $prefix/lib/pkgconfig ]]; then
    record_failed_stage openssl35-openssl
    return 1
  fi
  PKG_CONFIG_PATH=$prefix/lib/pkgconfig configure "$openssl35_dir" --buildtype=debug \
    -Db_sanitize=address,undefined -Db_lundef=false -Dtests=enabled -Dgst=disabled \
    -Dbench=false || { record_failed_stage configure-openssl35; return 1; }
  build "$openssl35_dir" || { record_failed_stage build-openssl35; return 1; }
}
openssl35_tests() {
  # The interop tests' peer, the system `openssl` program, keeps the system's OpenSSL: 3.5
  # against 3.0.
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0} \
    LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    DTLSTRANSPORT_EXPECT_OPENSSL=3.5 \
    run_meson_tests openssl35 "$openssl35_dir" --timeout-multiplier 3 --suite core
  # The library the tests reported loading (test_openssl_version prints it).
  grep -ho 'OpenSSL at run time: [^;]*' "$openssl35_dir/meson-logs/testlog.txt" 2>/dev/null |
    head -n 1 || echo "openssl35: the tests did not report which OpenSSL they loaded"
}
if [[ $quick == 1 ]]; then
  step "OpenSSL 3.5: not run (TEST_QUICK=1)"
else
  step "OpenSSL 3.5 build and core build against it ($openssl35_dir: address, undefined)"
  if timed "openssl35 build" openssl35_build; then
    step "core suite against OpenSSL 3.5 under ASan + UBSan ($openssl35_dir)"
    timed "openssl35 tests" openssl35_tests
  fi
fi

# --- 4b. OpenSSL-backed libsrtp2: the core's SRTP tests ----------------------------------------
# Debian's libsrtp2 is NSS-backed; meson's -Dsrtp=openssl links libsrtp2 2.5 built from Debian
# bookworm's source package with --enable-openssl (scripts/libsrtp2-openssl.sh: built into a cache
# once, ≈ 20 s, then reused). The tests that protect and unprotect (srtp_session; dtls_transport
# and dtls_restart, SRTP keyed by real DTLS handshakes) run against it, with srtp_profile and
# srtp_library; srtp_library fails unless the libsrtp2 the tests run reports OpenSSL's modules.
# Only those test binaries are built (the step stays short).
srtp_openssl_tests=(srtp_library srtp_session srtp_profile dtls_transport dtls_restart)
srtp_openssl_build() {
  if ! bash scripts/libsrtp2-openssl.sh >/dev/null; then
    record_failed_stage srtp-openssl-libsrtp2
    return 1
  fi
  configure "$srtp_openssl_dir" --werror -Dsrtp=openssl -Dtests=enabled -Dgst=disabled \
    -Dbench=false || { record_failed_stage configure-srtp-openssl; return 1; }
  build "$srtp_openssl_dir" "${srtp_openssl_tests[@]/#/tests/core/test_}" ||
    { record_failed_stage build-srtp-openssl; return 1; }
}
srtp_openssl_run() {
  DTLSTRANSPORT_EXPECT_SRTP_BACKEND=openssl \
    run_meson_tests srtp-openssl "$srtp_openssl_dir" --suite core "${srtp_openssl_tests[@]}"
  # The library the tests reported running (test_srtp_library prints it).
  grep -ho 'libsrtp2 at run time: [^(]*' "$srtp_openssl_dir/meson-logs/testlog.txt" 2>/dev/null |
    head -n 1 | sed 's/ *$//' || echo "srtp-openssl: the tests did not report which libsrtp2 they ran"
}
if [[ $quick == 1 ]]; then
  step "OpenSSL-backed libsrtp2: not run (TEST_QUICK=1)"
else
  step "OpenSSL-backed libsrtp2 and the core's SRTP tests against it ($srtp_openssl_dir)"
  if timed "srtp-openssl build" srtp_openssl_build; then
    step "core SRTP tests against the OpenSSL-backed libsrtp2 ($srtp_openssl_dir)"
    timed "srtp-openssl tests" srtp_openssl_run
  fi
fi

# --- 5. fuzzing ------------------------------------------------------------------------------
fuzz_build() {
  CC=clang CXX=clang++ configure "$fuzz_dir" -Dfuzzing=true -Dgst=disabled -Dtests=disabled \
    -Dbench=false || { record_failed_stage configure-fuzz; return 1; }
  build "$fuzz_dir" || { record_failed_stage build-fuzz; return 1; }
}
# One case per target from run-all.sh's `== TARGET: ok|FAILED|MISSING` lines; a target on the
# summary's list that printed none is missing there.
fuzz_run() {
  local status=0 log target result counted=0
  log=$(mktemp /tmp/test-fuzz.XXXXXX)
  sh tests/fuzz/run-all.sh "$fuzz_dir" "$fuzz_seconds" 2>&1 | tee "$log" || status=$?
  while read -r target result; do
    record_case fuzz "$target" "$target" "$([[ $result == ok ]] && echo 0 || echo 1)"
    counted=1
  done < <(sed -n -E 's/^== (fuzz_[A-Za-z0-9_]+): (ok|FAILED|MISSING).*/\1 \2/p' "$log")
  rm -f "$log"
  if ((status != 0 && counted == 0)); then
    record_failed_stage fuzz-run
  fi
  return $status
}
if [[ $quick == 1 ]]; then
  step "fuzzing: not run (TEST_QUICK=1)"
else
  step "fuzz build ($fuzz_dir, clang, libFuzzer)"
  if timed "fuzz build" fuzz_build; then
    step "fuzz targets, ${fuzz_seconds}s each"
    timed "fuzz run" fuzz_run
  fi
fi

# --- 6. benchmarks ---------------------------------------------------------------------------
# bench/run --quick builds its own release build (-Dbench=true; it fails when a benchmark does
# not build or run) and must simply run: one case, passed or failed.
bench_quick() {
  local status=0
  # bench/run bounds its element figures itself; this bound is for a hang anywhere else.
  timeout --kill-after=10 900 bash bench/run --quick || status=$?
  record_case bench quick bench/run "$status"
  return $status
}
if [[ $quick == 1 ]]; then
  step "benchmarks: not run (TEST_QUICK=1)"
else
  step "benchmarks (bench/run --quick, ${BENCH_BUILD_DIR:-build-bench})"
  timed "bench quick" bench_quick
fi

# --- 7. summary ------------------------------------------------------------------------------
step "summary"
timings+=("$(printf '%-28s %4ds' "total" $((SECONDS - script_start)))")
printf '%s\n' "${timings[@]}"
python3 scripts/summarize.py "${summary_flags[@]}" "$run_file"
