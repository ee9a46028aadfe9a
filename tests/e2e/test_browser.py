#!/usr/bin/env python3
"""A real browser against our bin: headless Chromium loads examples/browser_server.py's page,
which offers video + audio (sendrecv, Chromium's fake camera and microphone); the server answers
with dtlstransportbin's `answer-sdp-offer` and streams VP8 + Opus over one BUNDLEd DTLS-SRTP
transport, and decodes what the browser sends back.

Both run inside a network namespace this test creates with only `lo` up: every packet stays on
127.0.0.1 (the bin gathers there with local-addresses=127.0.0.1, Chromium with
--allow-loopback-in-peer-connection). The page (?report=1) POSTs its getStats() summary to the
server once a second; the server prints it as a JSON line with its own counters.

Pass when, within DEADLINE_S of loading the page, one report shows: the browser decoded more than
MIN_FRAMES VP8 frames from us and received Opus (packets and samples), its transport says DTLS
connected; and our side decoded more than MIN_FRAMES VP8 frames from the browser's camera and
Opus buffers from its microphone. Chromium missing, not root (ip netns): FAIL with a message.
Prints `RESULT browser …` with the numbers.

`test_browser.py recvonly` loads the page with ?camera=0: no getUserMedia, recvonly
transceivers (our answer says sendonly). The browser's side of the pass is asked for, and that
neither side sends what was not negotiated: no outbound-rtp in the browser, nothing decoded here.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "netns"))
import netns  # noqa: E402

SERVER = os.path.join(HERE, "..", "..", "examples", "browser_server.py")
PORT = 8080  # the namespace is ours: no other listener
MIN_FRAMES = 10
DEADLINE_S = 25  # from loading the page to a passing report
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox",  # as root Chromium needs --no-sandbox
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",  # else no loopback candidate is gathered
    "--autoplay-policy=no-user-gesture-required",
    "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0",  # the page's console messages in Chromium's output
]


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def passing(report, camera=True):
    """What is missing from a report for a pass (empty: it passes)."""
    browser, server = report.get("browser") or {}, report.get("server") or {}
    missing = []
    if browser.get("error"):
        missing.append(f"the page failed: {browser['error']}")
    video_in = browser.get("videoIn") or {}
    audio_in = browser.get("audioIn") or {}
    if (video_in.get("framesDecoded") or 0) <= MIN_FRAMES:
        missing.append(f"browser decoded {video_in.get('framesDecoded')} frames from us "
                       f"(need > {MIN_FRAMES})")
    if (video_in.get("codec") or "").lower() != "video/vp8":
        missing.append(f"browser's video codec is {video_in.get('codec')}, not video/VP8")
    if not audio_in.get("packetsReceived") or not audio_in.get("totalSamplesReceived"):
        missing.append(f"browser received no audio from us: {audio_in}")
    if (audio_in.get("codec") or "").lower() != "audio/opus":
        missing.append(f"browser's audio codec is {audio_in.get('codec')}, not audio/opus")
    if (browser.get("transport") or {}).get("dtlsState") != "connected":
        missing.append(f"browser's transport: {browser.get('transport')}")
    decoded = server.get("decoded") or {}
    if not camera:
        if decoded:
            missing.append(f"we decoded {decoded} from a browser that sends nothing")
        if browser.get("videoOut") or browser.get("audioOut"):
            missing.append("the browser sends media with ?camera=0")
        return missing
    if decoded.get("VP8", 0) <= MIN_FRAMES:
        missing.append(f"we decoded {decoded.get('VP8', 0)} VP8 frames from the browser's camera "
                       f"(need > {MIN_FRAMES})")
    if decoded.get("OPUS", 0) == 0:
        missing.append("we decoded no Opus from the browser's microphone")
    return missing


def main():
    if sys.argv[1:] not in ([], ["recvonly"]):
        sys.exit("usage: test_browser.py [recvonly]")
    camera = sys.argv[1:] != ["recvonly"]
    netns.install_sigterm_exit()
    chromium = find_chromium()
    if not chromium:
        print("FAIL: Chromium is not installed (Debian: apt-get install chromium; "
              "scripts/deps.sh installs it)")
        return 1
    if os.geteuid() != 0:
        print("FAIL: this test needs root: it runs the browser and the server in a network "
              "namespace of its own (ip netns), as CI does")
        return 1
    ns = f"dtn-browser-{os.getpid()}"
    processes = []
    problems = []
    profile = tempfile.mkdtemp(prefix="browser-profile-")  # Chromium's throwaway user data
    try:
        netns.run(["ip", "netns", "add", ns])
        netns.run(["ip", "-n", ns, "link", "set", "lo", "up"])
        server = netns.Process("server", ns, [sys.executable, SERVER, "--port", str(PORT),
                                              "--local-addresses", "127.0.0.1"])
        processes.append(server)
        url = server.wait_for(lambda p: next((e["url"] for e in p.snapshot()
                                              if e.get("ev") == "listening"), None), 15)
        if not url:
            netns.dump(server)
            print("FAIL: the server did not start listening within 15 s")
            return 1
        started = time.monotonic()
        browser = netns.Process("chromium", ns, [chromium] + CHROMIUM_FLAGS + [
            f"--user-data-dir={profile}", url + ("?report=1" if camera else "?report=1&camera=0")])
        processes.append(browser)

        def reports(p):
            return [e for e in p.snapshot() if e.get("ev") == "report"]

        good = server.wait_for(
            lambda p: next((r for r in reports(p) if not passing(r, camera)), None), DEADLINE_S)
        elapsed = time.monotonic() - started
        all_reports = reports(server)
        last = good or (all_reports[-1] if all_reports else None)
        answered = next((e for e in server.snapshot() if e.get("ev") == "answered"), None)
        states = [e["state"] for e in server.snapshot() if e.get("ev") == "state"]
        if last is None:
            problems.append(f"no report from the page within {DEADLINE_S} s")
        elif not good:
            problems += passing(last, camera)
        if answered is None:
            problems.append("the server answered no offer")
        print(f"server's events: {[e for e in server.snapshot() if e.get('ev') != 'report']}")
        print(f"the {'passing' if good else 'last'} report: {last}")
        browser_stats = (last or {}).get("browser") or {}
        server_stats = (last or {}).get("server") or {}
        netns.result(
            "browser" if camera else "browser-recvonly",
            answer_ms=answered["ms"] if answered else "none",
            seconds_to_pass=elapsed if good else "none",
            browser_frames_decoded=(browser_stats.get("videoIn") or {}).get("framesDecoded"),
            browser_audio_samples=(browser_stats.get("audioIn") or {}).get("totalSamplesReceived"),
            server_vp8_decoded=(server_stats.get("decoded") or {}).get("VP8"),
            server_opus_decoded=(server_stats.get("decoded") or {}).get("OPUS"),
            dtls_role=server_stats.get("dtls_role"),
            srtp_profile=server_stats.get("srtp_profile"),
            browser_srtp_cipher=(browser_stats.get("transport") or {}).get("srtpCipher"),
            states=",".join(states) or "-")
        if problems:
            print("--- Chromium's output (last 40 lines) ---")
            print(browser.tail(40))
    finally:
        for process in reversed(processes):
            process.stop()
        # Whatever Chromium forked into other process groups: every process left in the
        # namespace is one of ours (the namespace was made by this test).
        leftover = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
        for pid in leftover.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
        shutil.rmtree(profile, ignore_errors=True)
    return netns.finish(problems)


if __name__ == "__main__":
    sys.exit(main())
