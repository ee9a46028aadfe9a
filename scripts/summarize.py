#!/usr/bin/env python3
"""Counts the individual test cases of one scripts/test.sh run; the last line it prints is
`N passed, N failed, N skipped`.

Usage: summarize.py [--quick] [--ci] RUN_FILE

Input: the run file test.sh writes, one record per line:
  meson <step> <build-dir> <start-epoch-seconds> <exit-code>   a `meson test` run (step main, asan,
                                                               openssl35, srtp-openssl)
  case <step> <suite> <name> <pass|fail|skip>                  one case run outside meson
                                                               (valgrind, fuzz, bench)
  stage <name> fail                                            a step that could not run (a
                                                               configure or build that failed):
                                                               one failed case

What a run must contain is the REQUIRED table below: for each step, the suites that must each
count at least one case. A required suite with no case (a suite dropped at configure time, a step
that ran nothing, a build that failed) is one failed case of its own, listed as `MISSING`.
--quick (TEST_QUICK=1) lets the steps in QUICK_OMITS be absent; they are reported as not run.

Counting rules:
- A meson test that wrote a GoogleTest XML report during this run (`--gtest_output=xml:PATH` in its
  command line) counts each <testcase> in it (GTEST_SKIP: skipped). A failing process whose report
  shows no failed case (a crash after the last test, a sanitizer report at exit) adds one failed
  case of its own.
- A meson test that set CK_XML_LOG_FILE_NAME (libcheck / gst-check) counts each <test> in that
  report, with the same rule for a failing process.
- Any other meson test, or one whose report is missing or stale, counts as one case; exit 77
  (meson: SKIP) is skipped.
- Each meson test belongs to the suites meson-info/intro-tests.json gives it.
- --ci (CI=true): CI installs everything the tests need, so a skipped case is a failed one (unless
  listed in CI_MAY_SKIP, empty today).
Exit status: 0 when nothing failed (missing suites included), 1 otherwise.
"""

import json
import os
import sys
import xml.etree.ElementTree as ET

# The suites each step of a full run must run (at least one case each). `main` and `asan` are the
# meson suites of build/ and build-asan/ (tests/meson.build, demo/meson.build); `valgrind` the core
# test binaries under memcheck; `openssl35` the core suite of build-openssl35/ (built against
# OpenSSL 3.5, scripts/openssl35.sh); `srtp-openssl` the core SRTP tests of build-srtp-openssl/
# (built against an OpenSSL-backed libsrtp2, scripts/libsrtp2-openssl.sh); `fuzz` one case per
# libFuzzer target (tests/fuzz/run-all.sh); `bench` one case for `bench/run --quick`.
REQUIRED = {
    "main": ("core", "gst", "element", "e2e", "e2e-demo", "netns", "scripts"),
    "valgrind": ("core",),
    "asan": ("core", "gst", "element"),
    "openssl35": ("core",),
    "srtp-openssl": ("core",),
    "fuzz": ("fuzz_classifier", "fuzz_srtp_unprotect", "fuzz_fingerprint", "fuzz_pem",
             "fuzz_dtls_ingest", "fuzz_dtls_connected", "fuzz_dcep"),
    "bench": ("quick",),
}
# The steps TEST_QUICK=1 leaves out.
QUICK_OMITS = ("valgrind", "asan", "openssl35", "srtp-openssl", "fuzz", "bench")
# Tests (by "step/suite/name") that may skip even in CI. None today: install what a test needs.
CI_MAY_SKIP = frozenset()

MESON_PASS = {"OK", "EXPECTEDFAIL"}
MESON_SKIP = {"SKIP"}


class Tally:
    def __init__(self, ci=False):
        self.ci = ci
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = []  # names, for the report
        self.skips = []
        self.seen = set()  # (step, suite) pairs that counted at least one case

    def add(self, step, suites, name, outcome):
        for suite in suites:
            self.seen.add((step, suite))
        full = f"{step}/{'+'.join(suites) or '?'}: {name}"
        if outcome == "skip" and self.ci and full not in CI_MAY_SKIP:
            outcome = "fail"
            full += " (skipped, but CI must run it: install what it needs)"
        if outcome == "pass":
            self.passed += 1
        elif outcome == "skip":
            self.skipped += 1
            self.skips.append(full)
        else:
            self.failed += 1
            self.failures.append(full)


def fresh(path, since):
    try:
        return os.path.getmtime(path) >= since
    except OSError:
        return False


def gtest_cases(path):
    """(name, outcome) for every <testcase> of a GoogleTest XML report."""
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '?')}.{case.get('name', '?')}"
        if case.find("failure") is not None or case.find("error") is not None:
            yield name, "fail"
        elif (case.get("result") in ("skipped", "suppressed") or case.get("status") == "notrun"
              or case.find("skipped") is not None):
            yield name, "skip"
        else:
            yield name, "pass"


def check_cases(path):
    """(name, outcome) for every <test> of a libcheck XML report (gst-check tests)."""
    root = ET.parse(path).getroot()
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] != "test":
            continue
        test_id = next((c.text for c in element if c.tag.rsplit("}", 1)[-1] == "id"), "?")
        result = element.get("result", "")
        yield test_id, "pass" if result == "success" else "fail"


def report_path(test):
    """The XML report a meson test was told to write, and its parser, or (None, None)."""
    for arg in test.get("command") or test.get("cmd") or []:
        if arg.startswith("--gtest_output=xml:"):
            return arg[len("--gtest_output=xml:"):], gtest_cases
    env = test.get("env") or {}
    if env.get("CK_XML_LOG_FILE_NAME"):
        return env["CK_XML_LOG_FILE_NAME"], check_cases
    return None, None


def test_suites(build_dir):
    """Test name -> its suite names (without the `project:` prefix), from meson's introspection."""
    path = os.path.join(build_dir, "meson-info", "intro-tests.json")
    try:
        with open(path, encoding="utf-8") as f:
            tests = json.load(f)
    except (OSError, ValueError) as error:
        print(f"summary: cannot read {path}: {error}", file=sys.stderr)
        return {}
    return {t["name"]: tuple(s.split(":", 1)[-1] for s in t.get("suite", [])) for t in tests}


def count_meson_run(tally, step, build_dir, since, exit_code):
    log = os.path.join(build_dir, "meson-logs", "testlog.json")
    if not fresh(log, since):
        # `meson test` ran nothing or did not get as far as writing its log: the required suites
        # of this step show up as missing.
        tally.add(step, (), f"meson test in {build_dir} wrote no test log (exit {exit_code})",
                  "fail")
        return
    suites_of = test_suites(build_dir)
    tests = []
    with open(log, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                tests.append(json.loads(line))
    process_failures = 0
    for test in tests:
        # meson names a test `project:suite / name` when the project has several suites.
        name = test.get("name", "?").rsplit(" / ", 1)[-1]
        suites = suites_of.get(name, ())
        result = test.get("result", "ERROR")
        outcome = "pass" if result in MESON_PASS else "skip" if result in MESON_SKIP else "fail"
        path, parser = report_path(test)
        if path and not os.path.isabs(path):
            path = os.path.join(build_dir, path)
        cases = []
        if path and fresh(path, since):
            try:
                cases = list(parser(path))
            except (ET.ParseError, OSError) as error:
                print(f"summary: cannot read {path}: {error}", file=sys.stderr)
                cases = []
        if cases:
            for case_name, case_outcome in cases:
                tally.add(step, suites, f"{name} / {case_name}", case_outcome)
            if outcome == "fail" and all(o != "fail" for _, o in cases):
                tally.add(step, suites, f"{name} (process: {result})", "fail")
        else:
            tally.add(step, suites, name + ("" if outcome == "pass" else f" ({result})"), outcome)
        if outcome == "fail":
            process_failures += 1
    if exit_code != 0 and process_failures == 0:
        tally.add(step, (), f"meson test in {build_dir} exited {exit_code}", "fail")


def summarize(records, quick=False, ci=False, out=sys.stdout):
    """Counts RECORDS (lists of words); prints the report to OUT; returns the tally."""
    tally = Tally(ci=ci)
    for record in records:
        kind = record[0] if record else ""
        if kind == "meson" and len(record) == 5:
            count_meson_run(tally, record[1], record[2], float(record[3]), int(record[4]))
        elif kind == "case" and len(record) == 5 and record[4] in ("pass", "fail", "skip"):
            tally.add(record[1], (record[2],), record[3], record[4])
        elif kind == "stage" and len(record) == 3 and record[2] == "fail":
            tally.add("stage", (), f"{record[1]} failed", "fail")
        else:
            tally.add("summary", (), f"malformed record {' '.join(record)!r}", "fail")

    not_run = []
    for step, suites in REQUIRED.items():
        absent = [s for s in suites if (step, s) not in tally.seen]
        if quick and step in QUICK_OMITS and len(absent) == len(suites):
            not_run.append(step)
            continue
        for suite in absent:
            tally.failed += 1
            tally.failures.append(
                f"{step}/{suite}: MISSING, a required suite that did not run (a dependency "
                "missing at configure time, a build that failed, or a step that ran nothing)")

    if not_run:
        print(f"Not run (TEST_QUICK=1): {', '.join(not_run)}", file=out)
    if tally.skips:
        print("Skipped:", file=out)
        for name in tally.skips:
            print(f"  {name}", file=out)
    if tally.failures:
        print("Failed:", file=out)
        for name in tally.failures:
            print(f"  {name}", file=out)
    print(f"{tally.passed} passed, {tally.failed} failed, {tally.skipped} skipped", file=out)
    return tally


def main(argv):
    args = argv[1:]
    quick = "--quick" in args
    ci = "--ci" in args
    files = [a for a in args if a not in ("--quick", "--ci")]
    if len(files) != 1 or any(a.startswith("--") for a in files):
        print(f"usage: {argv[0]} [--quick] [--ci] RUN_FILE", file=sys.stderr)
        return 2
    with open(files[0], encoding="utf-8") as f:
        records = [line.split() for line in f if line.strip()]
    tally = summarize(records, quick=quick, ci=ci)
    return 0 if tally.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
