#!/usr/bin/env python3
"""Calls set up over a lossy path still connect (issue 8, item 2).

LANES namespace pairs run side by side, each with LOSS_PCT % of the UDP dropped at random on
arrival in both namespaces (so each way); each lane makes ATTEMPTS fresh calls one after the
other (two new peer processes each, the static recipe). A call has connected when both sides
report state `connected` within CONNECT_S of the later side's start (its pipeline set from NULL
to PLAYING: certificate, gathering, checks and handshake are all in the time).

Pass: at least 95 % of the calls connect. Recorded: the count and the distribution of the time
to connected (min/median/p90/max), and for each call that did not connect what its two sides
reported last.
"""
import os
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402

LOSS_PCT = 30
LANES = 4
ATTEMPTS = 5      # per lane: LANES * ATTEMPTS >= 20 calls
CONNECT_S = 30
REQUIRED = 0.95


def lane(index, directory, outcomes, lock):
    with netns.NamespacePair(f"loss{index}") as pair:
        pair.loss(pair.a, LOSS_PCT)
        pair.loss(pair.b, LOSS_PCT)
        call = netns.Call(pair, os.path.join(directory, str(index)))
        for attempt in range(ATTEMPTS):
            a, b = call.start("a"), call.start("b")
            try:
                # Both pipelines started: the call starts then (interpreter start-up is not the call's).
                started = [p.wait_for(lambda p: next(
                    (e["t"] for e in netns.events(p, "start")), None), 15) for p in (a, b)]
                if not all(started):
                    outcome = ("error", None, "a peer did not start its pipeline")
                else:
                    begin = max(started)
                    deadline = begin + CONNECT_S
                    done = [netns.wait_connected(p, max(0.1, deadline - time.monotonic()))
                            for p in (a, b)]
                    if all(done) and max(done) <= deadline:
                        outcome = ("connected", max(done) - begin, "")
                    else:
                        last = []
                        for p in (a, b):
                            s = netns.last_stats(p)
                            ice = [e["ice"] for e in netns.events(p, "ice")]
                            last.append(f"{p.name}: ice {','.join(ice)} state "
                                        f"{s['state'] if s else '?'}")
                        outcome = ("not-connected", None, "; ".join(last))
            finally:
                a.stop()
                b.stop()
            with lock:
                outcomes.append((index, attempt) + outcome)
                print(f"lane {index} call {attempt}: {outcome[0]}"
                      + (f" in {outcome[1]:.2f} s" if outcome[1] is not None else "")
                      + (f" ({outcome[2]})" if outcome[2] else ""), flush=True)


def percentile(sorted_values, fraction):
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def main():
    netns.require_root()
    netns.install_sigterm_exit()
    outcomes, lock, errors = [], threading.Lock(), []
    with tempfile.TemporaryDirectory(prefix="netns-loss-") as directory:
        def run(index):
            try:
                os.mkdir(os.path.join(directory, str(index)))
                lane(index, directory, outcomes, lock)
            except Exception as error:  # reported below; the other lanes go on
                errors.append(f"lane {index}: {error!r}")

        threads = [threading.Thread(target=run, args=(i,)) for i in range(LANES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    calls = len(outcomes)
    times = sorted(o[3] for o in outcomes if o[2] == "connected")
    numbers = {"loss_pct": LOSS_PCT, "calls": calls, "connected": len(times),
               "rate": (len(times) / calls) if calls else 0.0}
    if times:
        numbers.update(min_s=times[0], median_s=statistics.median(times),
                       p90_s=percentile(times, 0.9), max_s=times[-1])
    netns.result("loss", **numbers)
    problems = list(errors)
    if calls < LANES * ATTEMPTS:
        problems.append(f"only {calls} of {LANES * ATTEMPTS} calls made")
    if calls and len(times) < REQUIRED * calls:
        problems.append(f"{len(times)}/{calls} calls connected within {CONNECT_S} s at "
                        f"{LOSS_PCT} % loss each way (need {REQUIRED:.0%})")
    return netns.finish(problems)


if __name__ == "__main__":
    sys.exit(main())
