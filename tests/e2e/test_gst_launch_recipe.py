#!/usr/bin/env python3
"""Runs the two-terminal gst-launch recipe of docs/recipes.md verbatim and checks frames decode.

The shell blocks marked <!-- recipe:video-certs -->, <!-- recipe:video-receiver --> and
<!-- recipe:video-sender --> are extracted from the document, so the doc and this test cannot
drift. The certificates block runs once in a temporary directory; receiver and sender run there as
two gst-launch-1.0 processes, each in its own process group so that everything they start is
killed afterwards, whatever happens.

Pass: the receiver prints >= MIN_FRAMES "last-message = chain" lines from the fakesink named
`frames` (one per decoded frame, it sits after vp8dec) and both sides report state = connected,
within DEADLINE_S, and neither prints a GLib CRITICAL when stopped with SIGINT. Exit 77 (meson: skipped) when the recipe's fixed ports are busy.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

MIN_FRAMES = 30
DEADLINE_S = int(os.environ.get("RECIPE_DEADLINE_S", "60"))
HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.environ.get("RECIPES_MD", os.path.join(HERE, "..", "..", "docs", "recipes.md"))


def recipe_block(text, name):
    """The fenced code block right after <!-- recipe:NAME -->."""
    match = re.search(r"<!--\s*recipe:" + re.escape(name) + r"\s*-->\s*```[a-z]*\n(.*?)```",
                      text, re.S)
    if not match:
        sys.exit(f"FAIL: docs/recipes.md has no block marked recipe:{name}")
    return match.group(1)


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def start(script, directory, log_path):
    log = open(log_path, "w")
    # A new session: the whole process group (bash, gst-launch, openssl) can be killed at once.
    return subprocess.Popen(["bash", "-e", "-c", script], cwd=directory, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True), log


def kill_group(process):
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGINT, 3), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def count(path, pattern):
    try:
        with open(path, errors="replace") as f:
            return len(re.findall(pattern, f.read()))
    except FileNotFoundError:
        return 0


def main():
    # meson stops a test that overruns its timeout with SIGTERM: turn it into SystemExit so the
    # `finally` below still kills both process groups.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("FAIL: terminated (SIGTERM)"))
    with open(DOC) as f:
        text = f.read()
    certs = recipe_block(text, "video-certs")
    receiver = recipe_block(text, "video-receiver")
    sender = recipe_block(text, "video-sender")
    ports = sorted({int(p) for p in re.findall(r"(?:min|max)-port=(\d+)", receiver + sender)})
    busy = [p for p in ports if not port_free(p)]
    if busy:
        print(f"SKIP: the recipe's UDP ports {busy} are in use on 127.0.0.1")
        return 77

    with tempfile.TemporaryDirectory(prefix="dtls-recipe-") as directory:
        subprocess.run(["bash", "-e", "-c", certs], cwd=directory, check=True, timeout=30)
        for side in ("a", "b"):
            if not os.path.getsize(os.path.join(directory, side + ".pem")):
                sys.exit(f"FAIL: the certificates block made no {side}.pem")
        receiver_log = os.path.join(directory, "receiver.log")
        sender_log = os.path.join(directory, "sender.log")
        processes = []
        try:
            processes.append(start(receiver, directory, receiver_log))
            time.sleep(0.5)  # a human starts terminal 2 after terminal 1; not needed for success
            processes.append(start(sender, directory, sender_log))
            deadline = time.monotonic() + DEADLINE_S
            frames = 0
            while time.monotonic() < deadline:
                frames = count(receiver_log, r"GstFakeSink:frames: last-message = chain")
                if frames >= MIN_FRAMES:
                    break
                if any(p.poll() is not None for p, _ in processes):
                    break  # a gst-launch exited early: report below
                if any(count(path, r"GstDtlsTransportBin:[^:]*: state = failed")
                       for path in (receiver_log, sender_log)):
                    break  # fail-closed: no frame will ever come, do not wait for the deadline
                time.sleep(0.2)
        finally:
            for process, log in processes:
                kill_group(process)
                log.close()

        connected = [count(path, r"GstDtlsTransportBin:[^:]*: state = connected")
                     for path in (receiver_log, sender_log)]
        profiles = [re.findall(r"srtp-profile = (\S+)", open(path, errors="replace").read())
                    for path in (receiver_log, sender_log)]
        print(f"decoded frames at the receiver: {frames} (need {MIN_FRAMES})")
        print(f"state = connected: receiver {connected[0]}, sender {connected[1]}; "
              f"srtp-profile: {profiles}")
        # Both were stopped with SIGINT (gst-launch goes to NULL): a GLib CRITICAL or a crash on
        # the way is an element bug even when media flowed.
        criticals = []
        for path in (receiver_log, sender_log):
            with open(path, errors="replace") as f:
                criticals += [l for l in f.read().splitlines()
                              if "CRITICAL" in l or "Segmentation" in l or "Trace/breakpoint" in l]
        for line in criticals:
            print(f"shutdown problem: {line}")
        ok = frames >= MIN_FRAMES and all(connected) and not criticals
        if not ok:
            for name, path in (("receiver", receiver_log), ("sender", sender_log)):
                with open(path, errors="replace") as f:
                    lines = f.read().splitlines()
                interesting = [l for l in lines if "last-message" not in l]
                print(f"--- {name} log (without frame lines, last 40) ---")
                print("\n".join(interesting[-40:]))
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
