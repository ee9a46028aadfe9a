#!/usr/bin/env python3
"""What a gst-launch-1.0 user sees of the local parameters (issue 9 item 4).

Runs `gst-launch-1.0 -m -v` with a dtlstransportbin gathering on 127.0.0.1 (no fixed port, a known
ICE ufrag and password) until its output shows the `dtlstransport-local-parameters` message with
gathering-complete=true, or DEADLINE_S passes, then stops it.

Pass: -m prints the message with the ufrag and password set, the certificate's sha-256 fingerprint
(the one -v prints as local-fingerprint) and at least one host candidate on 127.0.0.1; -v prints
local-candidates as text (not "(null)") with the same candidate; the shell block of
docs/recipes.md marked <!-- recipe:local-parameters-extract -->, run on that output saved as a.log,
prints the message's candidates unescaped (as remote-candidates takes them).
"""
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

DEADLINE_S = 20
HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.environ.get("RECIPES_MD", os.path.join(HERE, "..", "..", "docs", "recipes.md"))
UFRAG = "e2eUfrag"
PWD = "e2ePasswordOfTwentyTwoChars"


def run():
    command = ["gst-launch-1.0", "-m", "-v", "dtlstransportbin", "local-addresses=127.0.0.1",
               f"local-ice-ufrag={UFRAG}", f"local-ice-pwd={PWD}",
               "videotestsrc", "is-live=true", "!", "fakesink"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    output = b""
    deadline = time.monotonic() + DEADLINE_S
    complete_at = None
    try:
        while time.monotonic() < deadline:
            # After the complete message, a moment more for the -v lines that follow it.
            if complete_at is not None and time.monotonic() > complete_at + 0.3:
                break
            ready, _, _ = select.select([process.stdout], [], [], 0.1)
            if ready:
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    break  # gst-launch ended
                output += chunk
                if complete_at is None and b"gathering-complete=(boolean)true" in output:
                    complete_at = time.monotonic()
        lines = output.decode(errors="replace").splitlines()
    finally:
        for sig, wait in ((signal.SIGINT, 3), (signal.SIGKILL, 5)):
            if process.poll() is not None:
                break
            os.killpg(process.pid, sig)
            try:
                process.wait(wait)
            except subprocess.TimeoutExpired:
                pass
    return lines


def documented_extraction(output):
    """What the recipe's extraction block prints for this gst-launch output."""
    with open(DOC) as f:
        match = re.search(r"<!--\s*recipe:local-parameters-extract\s*-->\s*```[a-z]*\n(.*?)```",
                          f.read(), re.S)
    if not match:
        return None
    with tempfile.TemporaryDirectory() as directory:
        with open(os.path.join(directory, "a.log"), "w") as log:
            log.write(output)
        result = subprocess.run(["bash", "-e", "-c", match.group(1)], cwd=directory,
                                capture_output=True, text=True, timeout=10)
    return result.stdout.strip()


def main():
    lines = run()
    output = "\n".join(lines)
    failures = []
    messages = [line for line in lines if "(element): dtlstransport-local-parameters," in line]
    complete = [line for line in messages if "gathering-complete=(boolean)true" in line]
    if not messages:
        failures.append("no dtlstransport-local-parameters message in the -m output")
    elif "gathering-complete=(boolean)false" not in messages[0]:
        failures.append("the first message (NULL→READY) is not before gathering completed")
    if not complete:
        failures.append("no dtlstransport-local-parameters with gathering-complete=true")
    fingerprint = re.search(r"dtlstransportbin0: local-fingerprint = (sha-256 [0-9A-F:]{95})$",
                            output, re.M)
    if not fingerprint:
        failures.append("-v printed no local-fingerprint")
    if complete:
        line = complete[-1]
        for field, value in (("ufrag", UFRAG), ("pwd", PWD)):
            if f"{field}=(string){value}," not in line:
                failures.append(f"{field} is not {value}: {line}")
        if fingerprint and ("fingerprint=(string)\"" + fingerprint.group(1).replace(" ", "\\ ")
                            + "\"") not in line:
            failures.append(f"fingerprint is not -v's {fingerprint.group(1)}: {line}")
        candidate = re.search(r"candidates=\(string\)\"(candidate:[^\"]*?127\.0\.0\.1\\ (\d+)"
                              r"\\ typ\\ host)", line)
        if not candidate:
            failures.append(f"no host candidate on 127.0.0.1 in candidates: {line}")
        extracted = documented_extraction(output)
        if extracted is None:
            failures.append("docs/recipes.md has no block marked recipe:local-parameters-extract")
        else:
            field = re.search(r'candidates=\(string\)"([^"]*)"', line).group(1)
            if extracted != re.sub(r"\\(.)", r"\1", field):
                failures.append(f"the recipe's extraction printed {extracted!r}, not the "
                                f"candidates of {line}")
    local = [line for line in lines if "dtlstransportbin0: local-candidates = " in line]
    if not local:
        failures.append("-v printed no local-candidates")
    elif any("(null)" in line for line in local) or "candidate:" not in local[-1]:
        failures.append(f"-v does not print local-candidates as text: {local}")
    elif complete and candidate and f"127.0.0.1\\ {candidate.group(2)}\\ typ" not in local[-1]:
        failures.append(f"-v's local-candidates lack the message's candidate: {local[-1]}")
    if failures:
        print(output[-6000:])
        for failure in failures:
            print("FAIL:", failure)
        return 1
    print(complete[-1])
    print(local[-1])
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
