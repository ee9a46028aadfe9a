#!/usr/bin/env python3
"""Counts the individual test cases of one scripts/test.sh run and prints `N passed, N failed`.

Input: the run file test.sh writes, one record per line:
  meson <build-dir> <start-epoch-seconds> <exit-code>   a `meson test` run in <build-dir>
  stage <name> <pass|fail|skip>                         any other step (configure, build, fuzz)

Counting rules:
- A meson test that wrote a GoogleTest XML report during this run (`--gtest_output=xml:PATH` in its
  command line) counts each <testcase> in it. A failing process whose report shows no failed case
  (a crash after the last test, a sanitizer report at exit) adds one failed case of its own.
- A meson test that set CK_XML_LOG_FILE_NAME (libcheck / gst-check) counts each <test> in that
  report, with the same rule for a failing process.
- Any other meson test, or one whose report is missing or stale, counts as one case.
- A failed stage (a build that did not compile, a fuzz run that found a crash, a benchmark run that
  did not finish) is one failed case; a passing fuzz, bench or valgrind stage is one passed case;
  configure/build stages that pass are not test cases.
Exit status: 0 when nothing failed, 1 otherwise.
"""

import json
import os
import sys
import xml.etree.ElementTree as ET

MESON_PASS = {"OK", "EXPECTEDFAIL"}
MESON_SKIP = {"SKIP"}
# Stages whose success is itself a test result (not just a prerequisite): the fuzz run and the
# quick benchmark run.
COUNTED_STAGES = ("fuzz", "bench", "valgrind")


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = []  # names, for the report

    def add(self, name, outcome):
        if outcome == "pass":
            self.passed += 1
        elif outcome == "skip":
            self.skipped += 1
        else:
            self.failed += 1
            self.failures.append(name)


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


def count_meson_run(tally, build_dir, since, exit_code):
    log = os.path.join(build_dir, "meson-logs", "testlog.json")
    if not fresh(log, since):
        # `meson test` ran nothing (no test defined) or did not get as far as writing its log.
        if exit_code != 0:
            tally.add(f"{build_dir}: meson test wrote no test log (exit {exit_code})", "fail")
        else:
            print(f"summary: {build_dir}: no test ran", file=sys.stderr)
        return
    tests = []
    with open(log, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                tests.append(json.loads(line))
    process_failures = 0
    for test in tests:
        name = f"{build_dir}: {test.get('name', '?')}"
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
                tally.add(f"{name} / {case_name}", case_outcome)
            if outcome == "fail" and all(o != "fail" for _, o in cases):
                tally.add(f"{name} (process: {result})", "fail")
        else:
            tally.add(name + ("" if outcome == "pass" else f" ({result})"), outcome)
        if outcome == "fail":
            process_failures += 1
    if exit_code != 0 and process_failures == 0:
        tally.add(f"{build_dir}: meson test exited {exit_code}", "fail")


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} RUN_FILE", file=sys.stderr)
        return 2
    tally = Tally()
    with open(argv[1], encoding="utf-8") as f:
        records = [line.split() for line in f if line.strip()]
    for record in records:
        if record[0] == "meson" and len(record) == 4:
            count_meson_run(tally, record[1], float(record[2]), int(record[3]))
        elif record[0] == "stage" and len(record) == 3:
            name, result = record[1], record[2]
            if result == "fail":
                tally.add(f"stage {name}", "fail")
            elif name.startswith(COUNTED_STAGES):
                tally.add(f"stage {name}", "pass" if result == "pass" else "skip")
        else:
            print(f"summary: ignoring malformed record {record}", file=sys.stderr)

    if tally.failures:
        print("Failed:")
        for name in tally.failures:
            print(f"  {name}")
    if tally.skipped:
        print(f"({tally.skipped} skipped)")
    print(f"{tally.passed} passed, {tally.failed} failed")
    return 0 if tally.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
