#!/usr/bin/env python3
"""A peer that dies is noticed (issue 8, item 2): usage test_dead_peer.py client|server.

A (DTLS server) and B (DTLS client) connected with media both ways; the side named on the
command line is killed with SIGKILL (no alert, no close_notify: a crash or a power cut).

Pass: within DETECT_S (40 s) of the kill the survivor reports ice-state `failed`, state
`failed` and posts a WARNING, and once failed it no longer sends media (RFC 7675 §5.1: the
`packets-sent` counter stops rising). Recorded: the time from the kill to each of the three.
"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402

DETECT_S = 40
SIDE = {"server": "a", "client": "b"}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in SIDE:
        sys.exit("usage: test_dead_peer.py client|server  (the DTLS role of the side killed)")
    netns.require_root()
    netns.install_sigterm_exit()
    dead = SIDE[sys.argv[1]]
    problems = []
    with tempfile.TemporaryDirectory(prefix="netns-dead-") as directory, \
            netns.NamespacePair("dead") as pair:
        call = netns.Call(pair, directory)
        if not netns.start_and_connect(call):
            return 1
        victim = call.peers[dead]
        survivor = call.peers["b" if dead == "a" else "a"]
        time.sleep(1)
        killed = time.monotonic()
        victim.kill()
        victim.popen.wait(timeout=5)

        def detected(p):
            ice = netns.first(p, "ice", "ice", "failed", killed)
            state = netns.first(p, "state", "state", "failed", killed)
            warning = next((e["t"] for e in netns.events(p, "warning", killed)), None)
            return (ice, state, warning) if ice and state and warning else None

        survivor.wait_for(detected, DETECT_S + 5)
        ice = netns.first(survivor, "ice", "ice", "failed", killed)
        state = netns.first(survivor, "state", "state", "failed", killed)
        warnings = netns.events(survivor, "warning", killed)
        numbers = {"killed": f"{victim.name}({sys.argv[1]})"}
        for key, when in (("ice_failed_s", ice), ("state_failed_s", state),
                          ("warning_s", warnings[0]["t"] if warnings else None)):
            numbers[key] = "none" if when is None else when - killed
            if when is None or when - killed > DETECT_S:
                problems.append(f"{survivor.name}: {key[:-2].replace('_', ' ')} not within "
                                f"{DETECT_S} s of the kill")
        if warnings:
            print(f"survivor's warning: {warnings[0]['text']} ({warnings[0]['debug']})")
        if state:
            # Media after failed: packets-sent of the stats taken after it must stay still.
            survivor.wait_for(lambda p: len(netns.events(p, "stats", state + 0.1)) >= 3, 5)
            sent = [e["stats"]["packets-sent"] for e in netns.events(survivor, "stats", state + 0.1)]
            numbers["packets_sent_after_failed"] = (sent[-1] - sent[0]) if len(sent) >= 2 else "?"
            if len(sent) < 2 or sent[-1] != sent[0]:
                problems.append(f"{survivor.name}: still sending media after failed ({sent})")
        else:
            sent = [e["stats"]["packets-sent"] for e in netns.events(survivor, "stats", killed)]
            numbers["packets_sent_since_kill"] = (sent[-1] - sent[0]) if len(sent) >= 2 else "?"
        numbers["ice"] = ",".join(e["ice"] for e in netns.events(survivor, "ice", killed)) or "-"
        numbers["state"] = ",".join(e["state"] for e in netns.events(survivor, "state", killed)) or "-"
        netns.result(f"dead-peer-{sys.argv[1]}", **numbers)
        if problems:
            netns.dump(survivor)
    return netns.finish(problems)


if __name__ == "__main__":
    sys.exit(main())
