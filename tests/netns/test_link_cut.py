#!/usr/bin/env python3
"""A link cut shorter than the consent timeout does not end the call (issue 8, item 2).

A and B connected with media both ways; all UDP is dropped in both namespaces, both directions,
for CUT_S (8 s, well under the 30 s consent timeout of RFC 7675), then the link heals.

Pass: neither side ever reports `failed` (state or ice-state), and media decodes again on both
sides within RESUME_S of the heal. Recorded: the ice-state transitions each side reported during
and after the cut (`disconnected` and back is what RFC 7675 consent checks would show; without
them nothing is reported), the media gap, the time from the heal to media on each side.
"""
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402

CUT_S = 8
RESUME_S = 10


def main():
    netns.require_root()
    netns.install_sigterm_exit()
    problems = []
    with tempfile.TemporaryDirectory(prefix="netns-cut-") as directory, \
            netns.NamespacePair("cut") as pair:
        call = netns.Call(pair, directory)
        if not netns.start_and_connect(call):
            return 1
        a, b = call.peers["a"], call.peers["b"]
        time.sleep(1)
        cut = time.monotonic()
        pair.cut(pair.a)
        pair.cut(pair.b)
        time.sleep(CUT_S)
        # Taken before the rules go: media can resume before the second command returns.
        healed = time.monotonic()
        pair.heal(pair.a)
        pair.heal(pair.b)
        numbers = {"cut_s": healed - cut}
        for p in (a, b):
            resumed = netns.wait_media(p, healed, RESUME_S)
            side = p.name.lower()
            numbers[f"resume_{side}_s"] = "none" if resumed is None else resumed - healed
            if resumed is None:
                problems.append(f"{p.name}: no media within {RESUME_S} s of the heal")
        time.sleep(2)  # anything reported late
        for p in (a, b):
            side = p.name.lower()
            ice = [e["ice"] for e in netns.events(p, "ice", cut)]
            states = [e["state"] for e in netns.events(p, "state", cut)]
            numbers[f"ice_{side}"] = ",".join(ice) or "-"
            numbers[f"state_{side}"] = ",".join(states) or "-"
            gaps = [e["gap"] for e in netns.events(p, "decoding", cut) if e.get("gap")]
            numbers[f"gap_{side}_s"] = max(gaps) if gaps else "none"
            if "failed" in ice or "failed" in states:
                problems.append(f"{p.name}: failed during a {CUT_S} s cut (ice {ice}, state {states})")
            if not p.alive():
                problems.append(f"{p.name}: exited ({p.popen.returncode})")
        netns.result("link-cut", **numbers)
        if problems:
            netns.dump(a, b)
    return netns.finish(problems)


if __name__ == "__main__":
    sys.exit(main())
