#!/usr/bin/env python3
"""Two dtlstransportbins in one process on 127.0.0.1, driven from Python (PyGObject).

    GST_PLUGIN_PATH=build/gst python3 examples/two_bins.py [--frames N] [--timeout S]

Pipeline:  videotestsrc ! vp8enc ! rtpvp8pay ! [offerer] ==DTLS-SRTP over ICE==> [answerer]
           ! rtpvp8depay ! vp8dec ! fakesink         (and the same in the other direction)

The "signalling" is done in-process: each bin's local-ice-ufrag/-pwd and local-fingerprint are
copied to the other's remote-* properties after NULL->READY (when they become readable), and each
candidate announced by on-local-candidate is handed to the other with add-remote-candidate
(trickle ICE). The offerer is the ICE controlling agent and, with role=auto on both sides, the DTLS
server; the answerer the DTLS client (RFC 5763 §5).

Prints every state-changed, the negotiated role and SRTP profile, the selected candidate pair and
the stats of both bins; exits 0 when both sides decoded --frames frames, 1 otherwise.
"""
import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

SIDE = ("videotestsrc is-live=true pattern={pattern} "
        "! video/x-raw,width=320,height=240,framerate=30/1 "
        "! vp8enc deadline=1 keyframe-max-dist=15 ! rtpvp8pay pt=96 ! {name}.rtp_sink "
        "dtlstransportbin name={name} local-addresses=127.0.0.1 ice-controlling={controlling} "
        "pt-map=\"application/x-rtp,media=video,payload=96,clock-rate=90000,encoding-name=VP8\" "
        "{name}.rtp_src ! rtpvp8depay ! vp8dec ! fakesink name={name}_frames "
        "signal-handoffs=true sync=false ")

STATS_FIELDS = ("packets-sent", "bytes-sent", "packets-received", "bytes-received",
                "rtcp-packets-sent", "rtcp-packets-received", "dropped-auth-failure",
                "dropped-replay", "dropped-no-keys", "dropped-malformed", "dtls-role",
                "dtls-version", "dtls-cipher", "srtp-profile", "handshake-ms",
                "local-candidate", "remote-candidate")


class TwoBins:
    def __init__(self, want_frames, timeout_s):
        self.want = want_frames
        self.timeout_s = timeout_s
        self.loop = GLib.MainLoop()
        self.outcome = None
        self.pipeline = Gst.parse_launch(
            SIDE.format(pattern="smpte", name="offerer", controlling="true") +
            SIDE.format(pattern="ball", name="answerer", controlling="false"))
        self.bins = {n: self.pipeline.get_by_name(n) for n in ("offerer", "answerer")}
        self.frames = {n: 0 for n in self.bins}  # frames decoded after arriving at bin n
        self.connected = set()
        self.last_state = {n: "new" for n in self.bins}  # as told by state-changed
        for name, element in self.bins.items():
            peer = self.bins["answerer" if name == "offerer" else "offerer"]
            element.connect("state-changed", self.on_state_changed, name)
            element.connect("on-local-candidate", self.on_local_candidate, name, peer)
            self.pipeline.get_by_name(name + "_frames").connect("handoff", self.on_frame, name)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)

    def done(self, ok, why):
        if self.outcome is None:
            self.outcome = (ok, why)
            self.loop.quit()
        return GLib.SOURCE_REMOVE

    # Signal handlers run on libnice's and the streaming threads: touch only the bins (their
    # properties and actions are thread-safe) and hop to the main loop for the rest.
    def on_state_changed(self, element, state, name):
        print(f"[{name}] state-changed: {state.value_nick}", flush=True)
        self.last_state[name] = state.value_nick
        if state.value_nick == "connected":
            # Reading properties from the handler is safe: no element lock is held here.
            print(f"[{name}]   dtls-role={element.get_property('dtls-role').value_nick} "
                  f"srtp-profile={element.get_property('srtp-profile')}", flush=True)
            GLib.idle_add(self.on_connected, name)
        elif state.value_nick in ("failed", "closed"):
            GLib.idle_add(self.done, False, f"{name} went to {state.value_nick}")

    def on_connected(self, name):
        self.connected.add(name)
        return GLib.SOURCE_REMOVE

    def on_local_candidate(self, _element, candidate, name, peer):
        print(f"[{name}] on-local-candidate: {candidate}", flush=True)
        peer.emit("add-remote-candidate", candidate)

    def on_frame(self, _sink, _buffer, _pad, name):
        self.frames[name] += 1
        if self.frames[name] == 1:
            print(f"[{name}] first frame decoded", flush=True)
        if all(n >= self.want for n in self.frames.values()):
            GLib.idle_add(self.done, True, f"{self.want} frames decoded in each direction")

    def on_message(self, _bus, message):
        if message.type == Gst.MessageType.ERROR:
            err, debug = message.parse_error()
            self.done(False, f"error from {message.src.get_name()}: {err.message} ({debug})")
        elif message.type == Gst.MessageType.WARNING:
            err, _ = message.parse_warning()
            print(f"WARNING from {message.src.get_name()}: {err.message}", flush=True)

    def exchange_parameters(self):
        """What a signalling channel carries: credentials and fingerprints (candidates trickle)."""
        for name, element in self.bins.items():
            peer = self.bins["answerer" if name == "offerer" else "offerer"]
            peer.set_property("remote-ice-ufrag", element.get_property("local-ice-ufrag"))
            peer.set_property("remote-ice-pwd", element.get_property("local-ice-pwd"))
            peer.set_property("remote-fingerprints", element.get_property("local-fingerprint"))
            print(f"[{name}] local-fingerprint: {element.get_property('local-fingerprint')}",
                  flush=True)

    def print_stats(self):
        for name, element in self.bins.items():
            stats = element.get_property("stats")
            print(f"[{name}] stats:")
            for field in STATS_FIELDS:
                print(f"    {field:22} {stats.get_value(field)}")

    def run(self):
        # NULL->READY: certificates, local-fingerprint, ICE credentials, gathering starts.
        if self.pipeline.set_state(Gst.State.READY) == Gst.StateChangeReturn.FAILURE:
            print("FAILURE: cannot go to READY (is GST_PLUGIN_PATH set?)")
            return 1
        self.exchange_parameters()
        GLib.timeout_add_seconds(self.timeout_s, self.done, False,
                                 f"timeout after {self.timeout_s} s")
        self.pipeline.set_state(Gst.State.PLAYING)
        self.loop.run()
        ok, why = self.outcome
        self.print_stats()
        # Read before NULL: going to NULL resets the session (dtls-role back to auto).
        roles = {n: self.bins[n].get_property("dtls-role").value_nick for n in self.bins}
        states = {n: self.bins[n].get_property("state").value_nick for n in self.bins}
        told = dict(self.last_state)
        # Leaving PLAYING ends the association with close_notify: both sides report closed.
        self.pipeline.set_state(Gst.State.NULL)
        print(f"frames decoded: offerer {self.frames['offerer']}, "
              f"answerer {self.frames['answerer']}; connected: {sorted(self.connected)}")
        if ok and self.connected != set(self.bins):
            ok, why = False, "frames decoded but a side never reported connected"
        # state-changed must arrive in order: the last one told is the state the bin is in.
        if ok and told != states:
            ok, why = False, f"last state-changed {told} != state property {states}"
        if ok and set(self.last_state.values()) != {"closed"}:
            ok, why = False, f"not closed after NULL: {self.last_state}"
        if ok and {roles["offerer"], roles["answerer"]} != {"client", "server"}:
            ok, why = False, f"roles are not client+server: {roles}"
        print(("SUCCESS: " if ok else "FAILURE: ") + why, flush=True)
        return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60, help="frames to decode each way")
    parser.add_argument("--timeout", type=int, default=60, help="give up after this many s")
    args = parser.parse_args()
    Gst.init(None)
    if not Gst.ElementFactory.find("dtlstransportbin"):
        print("FAILURE: dtlstransportbin not found: set GST_PLUGIN_PATH to the build's gst/ dir")
        return 1
    return TwoBins(args.frames, args.timeout).run()


if __name__ == "__main__":
    sys.exit(main())
