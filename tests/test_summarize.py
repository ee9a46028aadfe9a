#!/usr/bin/env python3
"""scripts/summarize.py counts what it is given, and fails a run that lacks a required suite.

Usage: test_summarize.py PATH/TO/summarize.py

Each case writes made-up build directories (meson-info/intro-tests.json, meson-logs/testlog.json,
GoogleTest and libcheck XML reports) and a run file, runs summarize.py on them as scripts/test.sh
does, and checks its exit status and its last line.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

SUMMARIZE = None  # set from argv
PROJECT = "gst-dtlstransport"
LAST_LINE = re.compile(r"^(\d+) passed, (\d+) failed, (\d+) skipped$")
FUZZ_TARGETS = ("fuzz_classifier", "fuzz_srtp_unprotect", "fuzz_fingerprint", "fuzz_pem",
                "fuzz_dtls_ingest", "fuzz_dtls_connected", "fuzz_dcep")


def gtest_xml(cases):
    """A GoogleTest report; CASES: (name, 'pass'|'fail'|'skip')."""
    rows = []
    for name, outcome in cases:
        if outcome == "fail":
            rows.append(f'<testcase name="{name}" status="run" result="completed" '
                        f'classname="Suite"><failure message="x"/></testcase>')
        elif outcome == "skip":
            rows.append(f'<testcase name="{name}" status="run" result="skipped" '
                        f'classname="Suite"><skipped message="no coturn"/></testcase>')
        else:
            rows.append(f'<testcase name="{name}" status="run" result="completed" '
                        f'classname="Suite"/>')
    return ('<?xml version="1.0"?><testsuites><testsuite name="Suite">' + "".join(rows) +
            "</testsuite></testsuites>")


def check_xml(cases):
    """A libcheck report; CASES: (name, 'pass'|'fail')."""
    rows = "".join(
        f'<test result="{"success" if outcome == "pass" else "failure"}"><path>.</path>'
        f'<fn>x.c:1</fn><id>{name}</id><iteration>0</iteration><description>d</description>'
        f'<message>m</message></test>' for name, outcome in cases)
    return ('<?xml version="1.0"?><testsuites xmlns="http://check.sourceforge.net/ns">'
            f'<suite><title>s</title>{rows}</suite></testsuites>')


class BuildDir:
    """A made-up meson build directory: tests, their suites, their results and reports."""

    def __init__(self, root, name):
        self.path = os.path.join(root, name)
        os.makedirs(os.path.join(self.path, "meson-info"))
        os.makedirs(os.path.join(self.path, "meson-logs"))
        self.intro = []
        self.log = []

    def add(self, name, suite, result="OK", gtest=None, check=None, stale=False):
        """One meson test of SUITE; GTEST/CHECK: its cases, written as that kind of report."""
        command = [os.path.join(self.path, name)]
        env = {}
        report = None
        if gtest is not None:
            report = os.path.join(self.path, name + ".xml")
            command.append("--gtest_output=xml:" + report)
            text = gtest_xml(gtest)
        elif check is not None:
            report = os.path.join(self.path, name + ".check.xml")
            env["CK_XML_LOG_FILE_NAME"] = report
            text = check_xml(check)
        if report:
            with open(report, "w", encoding="utf-8") as f:
                f.write(text)
            if stale:
                old = time.time() - 3600
                os.utime(report, (old, old))
        self.intro.append({"name": name, "suite": [f"{PROJECT}:{suite}"], "cmd": command,
                           "env": env})
        self.log.append({"name": f"{PROJECT}:{suite} / {name}", "result": result,
                         "returncode": 0 if result == "OK" else 1, "command": command,
                         "env": env})

    def write(self):
        with open(os.path.join(self.path, "meson-info", "intro-tests.json"), "w",
                  encoding="utf-8") as f:
            json.dump(self.intro, f)
        with open(os.path.join(self.path, "meson-logs", "testlog.json"), "w",
                  encoding="utf-8") as f:
            for entry in self.log:
                f.write(json.dumps(entry) + "\n")


class SummarizeTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name
        # Everything below is written after the runs "started": reports count as fresh.
        self.start = time.time() - 5
        self.records = []

    def tearDown(self):
        self.tmp.cleanup()

    def meson_run(self, step, build, exit_code=0):
        build.write()
        self.records.append(f"meson {step} {build.path} {self.start} {exit_code}")

    def full_main(self, skip_e2e=False, drop_suite=None):
        main = BuildDir(self.root, "build")
        suites = {
            "core": lambda: main.add("certificate", "core",
                                     gtest=[("A", "pass"), ("B", "pass"), ("C", "pass")]),
            "gst": lambda: main.add("test_element_smoke", "gst",
                                    check=[("smoke_a", "pass"), ("smoke_b", "pass")]),
            "element": lambda: main.add("test_element_srtp", "element",
                                        check=[("srtp_a", "pass")]),
            "e2e": lambda: main.add("e2e-turn-relay", "e2e", result="SKIP" if skip_e2e else "OK"),
            "e2e-demo": lambda: main.add("transport_demo", "e2e-demo"),
            "netns": lambda: main.add("netns-spoof", "netns"),
            "scripts": lambda: main.add("summarize", "scripts"),
        }
        cases = {"core": 3, "gst": 2, "element": 1, "e2e": 1, "e2e-demo": 1, "netns": 1,
                 "scripts": 1}
        for suite, add in suites.items():
            if suite != drop_suite:
                add()
        self.meson_run("main", main)
        return sum(n for suite, n in cases.items() if suite != drop_suite)

    def full_rest(self, drop=None):
        asan = BuildDir(self.root, "build-asan")
        asan.add("certificate", "core", gtest=[("A", "pass")])
        if drop != "asan-gst":
            asan.add("test_element_smoke", "gst", check=[("smoke_a", "pass")])
        asan.add("test_element_srtp", "element", check=[("srtp_a", "pass")])
        self.meson_run("asan", asan)
        if drop != "openssl35":
            openssl35 = BuildDir(self.root, "build-openssl35")
            openssl35.add("dtls_loss", "core", gtest=[("A", "pass"), ("B", "pass")])
            self.meson_run("openssl35", openssl35)
        if drop != "srtp-openssl":
            srtp_openssl = BuildDir(self.root, "build-srtp-openssl")
            srtp_openssl.add("srtp_library", "core", gtest=[("A", "pass"), ("B", "pass")])
            self.meson_run("srtp-openssl", srtp_openssl)
        if drop != "valgrind":
            self.records.append("case valgrind core certificate pass")
        for target in FUZZ_TARGETS:
            if target != drop:
                self.records.append(f"case fuzz {target} {target} pass")
        self.records.append("case bench quick bench/run pass")
        asan_cases = 2 if drop == "asan-gst" else 3
        openssl35_cases = 0 if drop == "openssl35" else 2
        srtp_openssl_cases = 0 if drop == "srtp-openssl" else 2
        valgrind_cases = 0 if drop == "valgrind" else 1
        fuzz_cases = len(FUZZ_TARGETS) - (drop in FUZZ_TARGETS)
        return (asan_cases + openssl35_cases + srtp_openssl_cases + valgrind_cases + fuzz_cases +
                1)

    def summarize(self, *flags):
        run_file = os.path.join(self.root, "run")
        with open(run_file, "w", encoding="utf-8") as f:
            f.write("\n".join(self.records) + "\n")
        done = subprocess.run([sys.executable, SUMMARIZE, *flags, run_file], capture_output=True,
                              text=True, timeout=30, check=False)
        lines = done.stdout.strip().splitlines()
        self.assertTrue(lines, done.stderr)
        match = LAST_LINE.match(lines[-1])
        self.assertIsNotNone(match, f"last line {lines[-1]!r}")
        return done.returncode, tuple(int(n) for n in match.groups()), done.stdout

    def test_full_run_counts_every_case_and_passes(self):
        expected = self.full_main() + self.full_rest()
        status, counts, out = self.summarize()
        self.assertEqual(counts, (expected, 0, 0), out)
        self.assertEqual(status, 0, out)

    def test_missing_main_suite_fails_and_is_named(self):
        passed = self.full_main(drop_suite="gst") + self.full_rest()
        status, counts, out = self.summarize()
        self.assertEqual(counts, (passed, 1, 0), out)
        self.assertEqual(status, 1)
        self.assertIn("main/gst: MISSING", out)

    def test_asan_without_the_plugin_suites_fails(self):
        passed = self.full_main() + self.full_rest(drop="asan-gst")
        status, counts, out = self.summarize()
        self.assertEqual((status, counts[1]), (1, 1), out)
        self.assertIn("asan/gst: MISSING", out)

    def test_valgrind_that_ran_nothing_fails(self):
        self.full_main()
        self.full_rest(drop="valgrind")
        status, counts, out = self.summarize()
        self.assertEqual((status, counts[1]), (1, 1), out)
        self.assertIn("valgrind/core: MISSING", out)

    def test_openssl35_step_that_did_not_run_fails(self):
        self.full_main()
        self.full_rest(drop="openssl35")
        self.records.append("stage openssl35-openssl fail")
        status, counts, out = self.summarize()
        self.assertEqual((status, counts[1]), (1, 2), out)  # the stage, and its missing suite
        self.assertIn("openssl35-openssl failed", out)
        self.assertIn("openssl35/core: MISSING", out)

    def test_srtp_openssl_step_that_did_not_run_fails(self):
        self.full_main()
        self.full_rest(drop="srtp-openssl")
        self.records.append("stage srtp-openssl-libsrtp2 fail")
        status, counts, out = self.summarize()
        self.assertEqual((status, counts[1]), (1, 2), out)  # the stage, and its missing suite
        self.assertIn("srtp-openssl-libsrtp2 failed", out)
        self.assertIn("srtp-openssl/core: MISSING", out)

    def test_openssl35_failures_are_counted(self):
        self.full_main()
        self.full_rest(drop="openssl35")
        openssl35 = BuildDir(self.root, "build-openssl35")
        openssl35.add("dtls_loss", "core", gtest=[("A", "pass"), ("B", "fail")], result="FAIL")
        self.meson_run("openssl35", openssl35, exit_code=1)
        status, counts, out = self.summarize()
        self.assertEqual((status, counts[1]), (1, 1), out)
        self.assertIn("openssl35/core: dtls_loss / ", out)

    def test_fuzz_target_that_did_not_run_fails(self):
        self.full_main()
        self.full_rest(drop="fuzz_pem")
        status, counts, out = self.summarize()
        self.assertEqual((status, counts[1]), (1, 1), out)
        self.assertIn("fuzz/fuzz_pem: MISSING", out)

    def test_failed_build_counts_and_its_suites_are_missing(self):
        self.records.append("stage build-main fail")
        self.full_rest()
        status, counts, out = self.summarize()
        self.assertEqual(counts[1], 1 + 7, out)  # the build, and its seven suites
        self.assertEqual(status, 1)

    def test_skips_are_counted_as_skipped(self):
        passed = self.full_main(skip_e2e=True) + self.full_rest() - 1
        status, counts, out = self.summarize()
        self.assertEqual(counts, (passed, 0, 1), out)
        self.assertEqual(status, 0)
        self.assertIn("e2e-turn-relay", out)

    def test_gtest_skip_is_counted_as_skipped(self):
        main = BuildDir(self.root, "build")
        main.add("interop_openssl", "core", gtest=[("A", "pass"), ("B", "skip")])
        self.meson_run("main", main)
        _, counts, out = self.summarize("--quick")
        self.assertEqual(counts[0::2], (1, 1), out)

    def test_ci_fails_on_any_skip(self):
        self.full_main(skip_e2e=True)
        self.full_rest()
        status, counts, out = self.summarize("--ci")
        self.assertEqual((status, counts[1:]), (1, (1, 0)), out)
        self.assertIn("CI must run it", out)

    def test_quick_run_reports_the_steps_it_left_out(self):
        passed = self.full_main()
        status, counts, out = self.summarize("--quick")
        self.assertEqual((status, counts), (0, (passed, 0, 0)), out)
        self.assertIn(
            "Not run (TEST_QUICK=1): valgrind, asan, openssl35, srtp-openssl, fuzz, bench", out)
        # Without --quick the same run lacks six steps' suites.
        status, counts, out = self.summarize()
        self.assertEqual(status, 1)
        self.assertEqual(counts[1], 1 + 3 + 1 + 1 + len(FUZZ_TARGETS) + 1, out)

    def test_quick_run_still_needs_the_main_suites(self):
        self.full_main(drop_suite="element")
        status, _, out = self.summarize("--quick")
        self.assertEqual(status, 1)
        self.assertIn("main/element: MISSING", out)

    def test_quick_run_without_the_main_build_fails(self):
        self.records.append("stage build-main fail")
        status, counts, out = self.summarize("--quick")
        self.assertEqual((status, counts), (1, (0, 1 + 7, 0)), out)
        self.assertIn("main/core: MISSING", out)

    def test_crash_after_passing_cases_is_a_failure(self):
        main = BuildDir(self.root, "build")
        main.add("dtls_transport", "core", result="FAIL", gtest=[("A", "pass"), ("B", "pass")])
        self.meson_run("main", main, exit_code=1)
        status, counts, out = self.summarize("--quick")
        self.assertEqual(counts[:2], (2, 1 + 6), out)  # the crash, and six missing suites
        self.assertIn("process: FAIL", out)
        self.assertEqual(status, 1)

    def test_stale_report_counts_one_case_for_the_process(self):
        main = BuildDir(self.root, "build")
        main.add("certificate", "core", gtest=[("A", "pass"), ("B", "pass")], stale=True)
        self.meson_run("main", main)
        _, counts, out = self.summarize("--quick")
        self.assertEqual(counts[0], 1, out)

    def test_libcheck_failures_are_counted(self):
        main = BuildDir(self.root, "build")
        main.add("test_element_srtp", "element", result="FAIL",
                 check=[("a", "pass"), ("b", "fail")])
        self.meson_run("main", main, exit_code=1)
        _, counts, out = self.summarize("--quick")
        self.assertEqual(counts[:2], (1, 1 + 6), out)
        self.assertIn("test_element_srtp / b", out)

    def test_missing_test_log_fails(self):
        build = os.path.join(self.root, "nothing")
        os.makedirs(build)
        self.records.append(f"meson main {build} {self.start} 0")
        status, counts, out = self.summarize("--quick")
        self.assertEqual(status, 1)
        self.assertIn("wrote no test log", out)

    def test_malformed_record_fails(self):
        self.full_main()
        self.records.append("stage build-main skip")
        status, _, out = self.summarize("--quick")
        self.assertEqual(status, 1)
        self.assertIn("malformed record", out)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_summarize.py PATH/TO/summarize.py")
    SUMMARIZE = sys.argv.pop(1)
    unittest.main(verbosity=2)
