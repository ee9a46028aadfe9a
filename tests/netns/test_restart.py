#!/usr/bin/env python3
"""One side restarted, the call recovers (issue 8, item 4): usage test_restart.py client|server.

A (DTLS server) and B (DTLS client) connected with media both ways; the side named on the
command line is killed with SIGKILL and started again RESTART_AFTER_S later with the same
arguments (same certificate, ICE credentials, port). The survivor is left alone.

Pass: within RECOVER_S (10 s) of the new start, the restarted side is `connected` and media
decodes again on both sides. Recorded: the times from the new start (and from the kill) to the
restarted side's `connected` and to media on each side, and what the survivor reported.
"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402

RESTART_AFTER_S = 1.5
RECOVER_S = 10
MEASURE_S = 20  # how long we wait to measure a recovery slower than the bound
SIDE = {"server": "a", "client": "b"}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in SIDE:
        sys.exit("usage: test_restart.py client|server  (the DTLS role of the side restarted)")
    netns.require_root()
    netns.install_sigterm_exit()
    side = SIDE[sys.argv[1]]
    other = "b" if side == "a" else "a"
    problems = []
    with tempfile.TemporaryDirectory(prefix="netns-restart-") as directory, \
            netns.NamespacePair("restart") as pair:
        call = netns.Call(pair, directory)
        if not netns.start_and_connect(call):
            return 1
        survivor = call.peers[other]
        time.sleep(1)
        killed = time.monotonic()
        call.peers[side].kill()
        call.peers[side].popen.wait(timeout=5)
        time.sleep(RESTART_AFTER_S)
        restarted_at = time.monotonic()
        restarted = call.start(side)

        connected = netns.wait_connected(restarted, MEASURE_S, restarted_at)
        left = max(0.1, restarted_at + MEASURE_S - time.monotonic())
        media_restarted = netns.wait_media(restarted, restarted_at, left)
        left = max(0.1, restarted_at + MEASURE_S - time.monotonic())
        media_survivor = netns.wait_media(survivor, restarted_at, left)
        numbers = {"restarted": f"{restarted.name}({sys.argv[1]})"}
        for key, when in (("connected", connected), ("media_restarted", media_restarted),
                          ("media_survivor", media_survivor)):
            numbers[key + "_s"] = "none" if when is None else when - restarted_at
            numbers[key + "_since_kill_s"] = "none" if when is None else when - killed
            if when is None or when - restarted_at > RECOVER_S:
                problems.append(f"{key.replace('_', ' ')}: not within {RECOVER_S} s of the restart"
                                + ("" if when is None else f" ({when - restarted_at:.1f} s)"))
        recovered = [w for w in (connected, media_restarted, media_survivor) if w]
        numbers["recover_s"] = (max(recovered) - restarted_at) if len(recovered) == 3 else "none"
        numbers["survivor_state"] = ",".join(
            e["state"] for e in netns.events(survivor, "state", killed)) or "-"
        numbers["survivor_ice"] = ",".join(
            e["ice"] for e in netns.events(survivor, "ice", killed)) or "-"
        numbers["restarted_state"] = ",".join(
            e["state"] for e in netns.events(restarted, "state")) or "-"
        if len(recovered) == 3:  # the survivor's counters once it has recovered
            survivor.wait_for(lambda p: netns.events(p, "stats", max(recovered) + 0.1), 3)
        last = netns.last_stats(survivor)
        if last and "reconnects" in last["stats"]:
            numbers["survivor_reconnects"] = last["stats"]["reconnects"]
        netns.result(f"restart-{sys.argv[1]}", **numbers)
        if problems:
            netns.dump(survivor, restarted)
    return netns.finish(problems)


if __name__ == "__main__":
    sys.exit(main())
