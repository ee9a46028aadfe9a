#!/usr/bin/python3
"""Data channels (issue 11): message round-trip latency and throughput of 64 KiB messages over
one data channel between two peers on 127.0.0.1, for two dtlstransportbins (ours) and for two
webrtcbins (the anchor), measured in the same run by the same code: both channel objects have
GstWebRTCDataChannel's names (send-string, send-data, on-message-string, on-message-data,
buffered-amount, buffered-amount-low-threshold, on-buffered-amount-low, ready-state).

Figures (rows for bench/run, `row<TAB>figure<TAB>measure<TAB>ours<TAB>anchor<TAB>unit<TAB>ratio
<TAB>better`):
  - round trip: A sends a short string, B echoes it from its on-message-string handler, A sends
    the next one when the echo arrives; median and p90 over ROUND_TRIPS.
  - throughput: A sends BULK_MIB MiB as 64 KiB binary messages (send-data), keeping at most
    WINDOW bytes buffered (buffered-amount, on-buffered-amount-low), on a reliable ordered
    channel; MB/s (10^6 bytes/s) from the first send to the last byte received by B.

Usage: bench_datachannel.py [--quick] [--only ours|anchor]. Needs GST_PLUGIN_PATH with our plugin
for the `ours` half; prints a note instead of rows for a half that cannot run. Speed is reported,
never asserted: the exit status is 0 whenever the figures were measured.
"""
import statistics
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

MESSAGE = 64 * 1024
WINDOW = 4 * 1024 * 1024  # bytes kept buffered at most while sending the bulk
SETUP_TIMEOUT_S = 30
FIGURE = "data channels (issue 11)"


def note(*args):
    print(*args, flush=True)


class Waiter:
    """A value set from a streaming thread, waited for by the bench's thread."""

    def __init__(self):
        self.event = threading.Event()
        self.value = None

    def set(self, value=True):
        self.value = value
        self.event.set()

    def wait(self, timeout, what):
        if not self.event.wait(timeout):
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        return self.value


def wait_open(channel, timeout, what):
    deadline = time.monotonic() + timeout
    while channel.get_property("ready-state") != GstWebRTC.WebRTCDataChannelState.OPEN:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: channel not open after {timeout} s")
        time.sleep(0.005)


class MainLoopThread:
    """webrtcbin's promises and our SDP actions need no loop, but bus watches do."""

    def __init__(self):
        self.loop = GLib.MainLoop()
        self.thread = threading.Thread(target=self.loop.run, daemon=True)
        self.thread.start()

    def stop(self):
        self.loop.quit()
        self.thread.join()


# --- the anchor: webrtcbin <-> webrtcbin --------------------------------------------------------


class WebrtcbinPair:
    name = "anchor"

    def __init__(self):
        self.pipes = []
        self.bins = []
        self.promises = []
        self.ices = []  # keep the agents' references (see tests/e2e/test_webrtcbin_interop.py)
        for tag in ("a", "b"):
            pipe = Gst.Pipeline.new(tag)
            webrtc = Gst.ElementFactory.make("webrtcbin", tag)
            webrtc.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
            pipe.add(webrtc)
            ice = webrtc.get_property("ice-agent")
            if not ice.emit("add-local-ip-address", "127.0.0.1"):
                raise RuntimeError("webrtcbin's ICE agent refused add-local-ip-address")
            self.ices.append(ice)
            self.pipes.append(pipe)
            self.bins.append(webrtc)
        a, b = self.bins
        a.connect("on-ice-candidate", lambda _w, m, c: b.emit("add-ice-candidate", m, c))
        b.connect("on-ice-candidate", lambda _w, m, c: a.emit("add-ice-candidate", m, c))
        self.remote_channel = Waiter()
        b.connect("on-data-channel", lambda _w, ch: self.remote_channel.set(ch))
        self.negotiation_needed = Waiter()
        a.connect("on-negotiation-needed", lambda _w: self.negotiation_needed.set())

    def open(self):
        a, b = self.bins
        for pipe in self.pipes:
            pipe.set_state(Gst.State.PLAYING)
        channel = a.emit("create-data-channel", "bench", None)
        if channel is None:
            raise RuntimeError("webrtcbin refused create-data-channel")
        # webrtcbin is ready to offer the channel once it says so (an offer made before has no
        # m=application section, or none at all).
        self.negotiation_needed.wait(SETUP_TIMEOUT_S, "webrtcbin's on-negotiation-needed")
        offer = self._promise(a, "create-offer")
        self._promise(a, "set-local-description", offer)
        self._promise(b, "set-remote-description", offer)
        answer = self._promise(b, "create-answer", kind="answer")
        self._promise(b, "set-local-description", answer)
        self._promise(a, "set-remote-description", answer)
        remote = self.remote_channel.wait(SETUP_TIMEOUT_S, "webrtcbin's on-data-channel")
        wait_open(channel, SETUP_TIMEOUT_S, "webrtcbin")
        wait_open(remote, SETUP_TIMEOUT_S, "webrtcbin (remote)")
        return channel, remote

    def _promise(self, webrtc, action, arg=None, kind="offer"):
        promise = Gst.Promise.new()
        if action in ("create-offer", "create-answer"):
            webrtc.emit(action, None, promise)
        else:
            webrtc.emit(action, arg, promise)
        promise.wait()
        # The description PyGObject hands out points into its copy of the reply: keep both alive.
        reply = promise.get_reply()
        self.promises.append((promise, reply))
        if action in ("create-offer", "create-answer"):
            return reply.get_value(kind)
        return None

    def close(self):
        for pipe in self.pipes:
            pipe.set_state(Gst.State.NULL)


# --- ours: dtlstransportbin <-> dtlstransportbin ----------------------------------------------


class OurPair:
    name = "ours"

    def __init__(self):
        self.pipes = []
        self.bins = []
        for tag in ("a", "b"):
            pipe = Gst.Pipeline.new(tag)
            transport = Gst.ElementFactory.make("dtlstransportbin", tag)
            transport.set_property("local-addresses", "127.0.0.1")
            pipe.add(transport)
            self.pipes.append(pipe)
            self.bins.append(transport)
        a, b = self.bins
        a.connect("on-local-candidate", lambda _t, c: b.emit("add-remote-candidate", c))
        b.connect("on-local-candidate", lambda _t, c: a.emit("add-remote-candidate", c))
        self.remote_channel = Waiter()
        b.connect("on-data-channel", lambda _t, ch: self.remote_channel.set(ch))

    def open(self):
        a, b = self.bins
        for pipe in self.pipes:
            pipe.set_state(Gst.State.READY)
        channel = a.emit("create-data-channel", "bench", None)
        if channel is None:
            raise RuntimeError("dtlstransportbin refused create-data-channel")
        offer = a.emit("create-sdp-offer", None)
        if offer is None:
            raise RuntimeError("create-sdp-offer refused (see the bus)")
        answer = b.emit("answer-sdp-offer", offer, None)
        if answer is None:
            raise RuntimeError("answer-sdp-offer refused (see the bus)")
        if not a.emit("apply-sdp-answer", answer):
            raise RuntimeError("apply-sdp-answer refused (see the bus)")
        for pipe in self.pipes:
            pipe.set_state(Gst.State.PLAYING)
        remote = self.remote_channel.wait(SETUP_TIMEOUT_S, "our on-data-channel")
        wait_open(channel, SETUP_TIMEOUT_S, "ours")
        wait_open(remote, SETUP_TIMEOUT_S, "ours (remote)")
        return channel, remote

    def close(self):
        for pipe in self.pipes:
            pipe.set_state(Gst.State.NULL)


# --- the measures (the same for both) ---------------------------------------------------------


def round_trips(a, b, count):
    """A sends, B echoes, A sends the next on the echo: `count` round-trip times in ms."""
    times = []
    done = Waiter()
    state = {"sent_at": 0.0, "left": count}

    def echo(channel, text):
        channel.emit("send-string", text)

    def on_echo(channel, _text):
        times.append((time.perf_counter() - state["sent_at"]) * 1000.0)
        state["left"] -= 1
        if state["left"] == 0:
            done.set()
            return
        state["sent_at"] = time.perf_counter()
        channel.emit("send-string", "ping")

    hb = b.connect("on-message-string", echo)
    ha = a.connect("on-message-string", on_echo)
    try:
        state["sent_at"] = time.perf_counter()
        a.emit("send-string", "ping")
        done.wait(max(30, count * 0.5), f"{count} round trips")
    finally:
        a.disconnect(ha)
        b.disconnect(hb)
    return times


def throughput(a, b, total_bytes):
    """MB/s of 64 KiB messages from A to B, at most WINDOW bytes buffered in A."""
    payload = GLib.Bytes.new(bytes(range(256)) * (MESSAGE // 256))
    received = {"bytes": 0}
    done = Waiter()
    room = threading.Condition()

    def on_data(_channel, data):
        received["bytes"] += data.get_size()
        if received["bytes"] >= total_bytes:
            done.set(time.perf_counter())

    def on_low(_channel):
        with room:
            room.notify()

    a.set_property("buffered-amount-low-threshold", WINDOW // 2)
    hb = b.connect("on-message-data", on_data)
    ha = a.connect("on-buffered-amount-low", on_low)
    try:
        start = time.perf_counter()
        sent = 0
        while sent < total_bytes:
            with room:
                while a.get_property("buffered-amount") > WINDOW:
                    room.wait(0.05)
            a.emit("send-data", payload)
            sent += MESSAGE
        end = done.wait(120, f"{total_bytes} bytes received")
    finally:
        a.disconnect(ha)
        b.disconnect(hb)
    return total_bytes / (end - start) / 1e6


def measure(pair_class, quick):
    pair = pair_class()
    try:
        a, b = pair.open()
        round_trips(a, b, 20)  # warm up
        rtt = round_trips(a, b, 200 if quick else 2000)
        mbps = throughput(a, b, (16 if quick else 128) * 1024 * 1024)
        rtt.sort()
        return {
            "median": statistics.median(rtt),
            "p90": rtt[int(len(rtt) * 0.9)],
            "mbps": mbps,
            "count": len(rtt),
        }
    finally:
        pair.close()


def main(argv):
    quick = "--quick" in argv
    only = None
    if "--only" in argv:
        only = argv[argv.index("--only") + 1]
    Gst.init(None)
    loop = MainLoopThread()
    results = {}
    status = 0
    for pair_class in (WebrtcbinPair, OurPair):
        if only and pair_class.name != only:
            continue
        if pair_class is OurPair and not Gst.ElementFactory.find("dtlstransportbin"):
            note("ours: dtlstransportbin not found (GST_PLUGIN_PATH?)")
            status = 1
            continue
        try:
            results[pair_class.name] = measure(pair_class, quick)
            r = results[pair_class.name]
            note(f"{pair_class.name}: {r['count']} round trips, median {r['median']:.3f} ms, "
                 f"p90 {r['p90']:.3f} ms; {r['mbps']:.1f} MB/s of 64 KiB messages")
        except Exception as error:  # a half that fails is reported, the other still measured
            note(f"{pair_class.name}: not measured: {error}")
            status = 1
    loop.stop()

    def row(measure_name, key, unit, better, decimals):
        ours = results.get("ours", {}).get(key)
        anchor = results.get("anchor", {}).get(key)
        ratio = f"{ours / anchor:.2f}" if ours is not None and anchor else "-"
        fmt = f"{{:.{decimals}f}}"
        print("\t".join(["row", FIGURE, measure_name,
                         fmt.format(ours) if ours is not None else "-",
                         fmt.format(anchor) if anchor is not None else "-",
                         unit, ratio, better]), flush=True)

    row("message round trip, median", "median", "ms", "lower", 3)
    row("message round trip, p90", "p90", "ms", "lower", 3)
    row("throughput, 64 KiB messages", "mbps", "MB/s", "higher", 1)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
