#!/bin/sh
# Runs every libFuzzer target for a while on a scratch copy of its seed corpus.
#
#   tests/fuzz/run-all.sh <builddir> <seconds>
#
# <builddir> is a build configured with CXX=clang++ CC=clang -Dfuzzing=true. The repository's
# corpus is never written to: new inputs go to a temporary directory that is removed at the end.
# Crash, leak, sanitizer and timeout reproducers are kept in <builddir>/fuzz-artifacts/<target>/.
# Exits non-zero if any target fails or is missing.
set -u

if [ $# -ne 2 ]; then
  echo "usage: $0 <builddir> <seconds>" >&2
  exit 2
fi
builddir=$1
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
targets="fuzz_classifier fuzz_srtp_unprotect fuzz_fingerprint fuzz_pem fuzz_dtls_ingest fuzz_dtls_connected fuzz_dcep"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/dtlstransport-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$scratch"' EXIT INT TERM

# Sanitizer findings must end the run with a report; leaks count as failures.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

failed=""
for target in $targets; do
  binary="$builddir/tests/fuzz/$target"
  if [ ! -x "$binary" ]; then
    echo "== $target: MISSING ($binary)"
    failed="$failed $target"
    continue
  fi
  corpus="$scratch/$target"
  mkdir -p "$corpus"
  if [ -d "$here/corpus/$target" ]; then
    cp -R "$here/corpus/$target/." "$corpus/"
  fi
  artifacts="$builddir/fuzz-artifacts/$target"
  mkdir -p "$artifacts"
  log="$scratch/$target.log"
  echo "== $target: ${seconds}s"
  "$binary" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
  status=$?
  if [ $status -ne 0 ]; then
    echo "== $target: FAILED (exit $status); last lines of its log:"
    tail -n 40 "$log"
    failed="$failed $target"
  else
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' "$log" | sed "s/^/   /"
    echo "== $target: ok ($(ls "$corpus" | wc -l) corpus entries)"
  fi
done

if [ -n "$failed" ]; then
  echo "fuzz: FAILED:$failed"
  exit 1
fi
echo "fuzz: all targets ran ${seconds}s without a finding"
