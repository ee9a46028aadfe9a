#!/usr/bin/env python3
"""A gst-launch pipeline with auto-restart=true heals by itself (issue 8, item 5).

Two gst-launch-1.0 -v -m processes run the static recipe of docs/recipes.md (audio both ways)
with `auto-restart=true` on both bins, in two namespaces. Once both are connected, B (the DTLS
client) is killed with SIGKILL and stays away for ABSENT_S (45 s: longer than the 30 s consent
timeout, so A fails and starts restarting with its backoff of about 1 s growing to 30 s); then B
is started again with the same command line.

Pass: within HEAL_S (the 30 s backoff ceiling plus 15 s for ICE and DTLS) of B's return both
print `state = connected` again. Recorded: what A went through while B was away (failed? how
many restarts) and the time from B's return to both connected. Until the property exists this
fails at once with gst-launch's "no property auto-restart".
"""
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402

ABSENT_S = 45
HEAL_S = 45
CONNECTED = re.compile(r"GstDtlsTransportBin:t: state = connected")
STATE = re.compile(r"GstDtlsTransportBin:t: state = (\w+)")
RESTART_MESSAGE = re.compile(r"dtlstransport-restart")  # the element message of each restart


def gst_launch(call, side):
    """The recipe's command line for SIDE, as a list (gst-launch joins it with spaces and parses
    the result: values with spaces carry their own double quotes)."""
    argv = call.argv[side]

    def opt(name):
        return argv[argv.index(name) + 1]

    return ["gst-launch-1.0", "-v", "-m",
            "dtlstransportbin", "name=t", "auto-restart=true",
            f"role={opt('--role')}",
            f"ice-controlling={'true' if '--controlling' in argv else 'false'}",
            f"local-addresses={opt('--local')}",
            f"min-port={opt('--port')}", f"max-port={opt('--port')}",
            f"certificate-file={opt('--cert')}",
            f"local-ice-ufrag={opt('--ufrag')}", f"local-ice-pwd={opt('--pwd')}",
            f"remote-ice-ufrag={opt('--remote-ufrag')}", f"remote-ice-pwd={opt('--remote-pwd')}",
            f'remote-fingerprints="{opt("--remote-fingerprint")}"',
            f'remote-candidates="candidate:1 1 UDP 2130706431 {opt("--remote")} '
            f'{opt("--remote-port")} typ host"',
            'pt-map="application/x-rtp,media=audio,payload=111,clock-rate=48000,'
            'encoding-name=OPUS"',
            "audiotestsrc", "is-live=true", "wave=ticks", "!", "audioconvert", "!",
            "audioresample", "!", "opusenc", "!", "rtpopuspay", "pt=111", "!", "t.rtp_sink",
            "t.rtp_src", "!", "rtpopusdepay", "!", "opusdec", "!", "fakesink", "sync=false"]


def line_time(process, pattern, since):
    with process._cond:
        return next((t for t, line in process.lines if t >= since and pattern.search(line)), None)


def states(process, since):
    with process._cond:
        return [m.group(1) for t, line in process.lines if t >= since
                for m in [STATE.search(line)] if m]


def wait_line(process, pattern, since, timeout):
    return process.wait_for(lambda p: line_time(p, pattern, since) or (not p.alive() and -1),
                            timeout)


def main():
    netns.require_root()
    netns.install_sigterm_exit()
    problems = []
    with tempfile.TemporaryDirectory(prefix="netns-autorestart-") as directory, \
            netns.NamespacePair("auto") as pair:
        call = netns.Call(pair, directory)
        argv = {side: gst_launch(call, side) for side in ("a", "b")}
        a = pair.spawn(pair.a, argv["a"], name="A")
        b = pair.spawn(pair.b, argv["b"], name="B")
        for p in (a, b):
            when = wait_line(p, CONNECTED, 0, 20)
            if not when or when < 0:
                time.sleep(0.5)
                output = p.text()
                if "no property" in output and "auto-restart" in output:
                    print(f"FAIL: dtlstransportbin has no property auto-restart "
                          f"(gst-launch: {output.strip().splitlines()[-1]})")
                    return 1
                netns.dump(a, b)
                print(f"FAIL: {p.name} did not connect ({'exited' if not p.alive() else 'timeout'})")
                return 1
        killed = time.monotonic()
        b.kill()
        b.popen.wait(timeout=5)
        time.sleep(ABSENT_S)
        back = time.monotonic()
        away = states(a, killed)
        b = pair.spawn(pair.b, argv["b"], name="B")
        healed = {p.name: wait_line(p, CONNECTED, back, HEAL_S) for p in (a, b)}
        with a._cond:
            restarts = sum(1 for t, line in a.lines
                           if killed <= t <= back and RESTART_MESSAGE.search(line))
        numbers = {"absent_s": back - killed, "a_states_while_absent": ",".join(away) or "-",
                   "a_restarts_while_absent": restarts}
        for name, when in healed.items():
            ok = when and when > 0
            numbers[f"{name.lower()}_connected_s"] = (when - back) if ok else "none"
            if not ok:
                problems.append(f"{name}: not connected again within {HEAL_S} s of B's return")
        if "failed" not in away:
            problems.append(f"A never reported failed while B was away {ABSENT_S} s ({away})")
        netns.result("auto-restart", **numbers)
        if problems:
            netns.dump(a, b)
    return netns.finish(problems)


if __name__ == "__main__":
    sys.exit(main())
