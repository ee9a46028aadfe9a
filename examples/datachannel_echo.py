#!/usr/bin/env python3
"""A data-channel echo over dtlstransportbin, with webrtcbin as the peer (a browser's stand-in),
in one process on 127.0.0.1 (PyGObject).

    GST_PLUGIN_PATH=build/gst python3 examples/datachannel_echo.py [--messages N] [--timeout S]

Our side: a data-only dtlstransportbin (no RTP pad linked). It opens a channel "echo"
(`create-data-channel`, DCEP, RFC 8832), offers with `create-sdp-offer` (the channel makes it
carry an m=application UDP/DTLS/SCTP section, RFC 8841), applies the peer's answer with
`apply-sdp-answer`, and echoes every message that arrives on the channel: strings with
`send-string`, binary with `send-data`. The channel object has GstWebRTCDataChannel's signal and
property names, so the same code would drive a webrtcbin channel.

The peer: webrtcbin answers the offer, receives the channel (`on-data-channel`) and sends N
messages, alternately strings and binary ones, each after the echo of the one before; it checks
every echo. Candidates are trickled both ways in-process (on-local-candidate ->
add-ice-candidate, on-ice-candidate -> add-remote-candidate). Exits 0 when all N echoes came
back intact, 1 otherwise.
"""
import argparse
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402


class Echo:
    def __init__(self, messages, timeout_s):
        self.want = messages
        self.timeout_s = timeout_s
        self.loop = GLib.MainLoop()
        self.outcome = None
        self.kept = []  # webrtcbin's replies: PyGObject frees descriptions with them

        # Our side: data only, gathering on loopback.
        self.ours = Gst.Pipeline.new("ours")
        self.transport = Gst.ElementFactory.make("dtlstransportbin", "transport")
        self.transport.set_property("local-addresses", "127.0.0.1")
        self.ours.add(self.transport)
        self.transport.connect("state-changed", self.on_state_changed)

        # The peer.
        self.peer = Gst.Pipeline.new("peer")
        self.webrtc = Gst.ElementFactory.make("webrtcbin", "webrtc")
        self.webrtc.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
        self.peer.add(self.webrtc)
        self.ice = self.webrtc.get_property("ice-agent")  # keep the reference
        self.ice.emit("add-local-ip-address", "127.0.0.1")
        self.webrtc.connect("on-data-channel", self.on_peer_channel)
        self.webrtc.connect("on-ice-candidate", self.on_peer_candidate)
        self.transport.connect("on-local-candidate", self.on_our_candidate)

        for pipe in (self.ours, self.peer):
            bus = pipe.get_bus()
            bus.add_signal_watch()
            bus.connect("message", self.on_message)

    def finish(self, ok, why):
        if self.outcome is None:
            self.outcome = (ok, why)
            self.loop.quit()
        return GLib.SOURCE_REMOVE

    def on_message(self, _bus, message):
        if message.type == Gst.MessageType.ERROR:
            err, debug = message.parse_error()
            self.finish(False, f"error from {message.src.get_name()}: {err.message} ({debug})")
        elif message.type == Gst.MessageType.WARNING:
            err, _ = message.parse_warning()
            print(f"WARNING from {message.src.get_name()}: {err.message}", flush=True)

    def on_state_changed(self, _transport, state):
        print(f"[ours] state-changed: {state.value_nick}", flush=True)
        if state.value_nick == "failed":
            GLib.idle_add(self.finish, False, "our transport failed")

    # --- candidates, trickled in-process ---------------------------------------------------
    def on_our_candidate(self, _transport, candidate):
        GLib.idle_add(lambda: self.webrtc.emit("add-ice-candidate", 0, candidate) and False)

    def on_peer_candidate(self, _webrtc, _mline, candidate):
        if " tcp " in candidate.lower():
            return  # the bin connects over UDP only (it would refuse these with a WARNING)
        GLib.idle_add(lambda: self.transport.emit("add-remote-candidate", candidate) and False)

    # --- our side: open the channel, offer, echo -------------------------------------------
    def start(self):
        self.peer.set_state(Gst.State.PLAYING)
        # READY: our certificate and ICE credentials exist, gathering starts.
        self.ours.set_state(Gst.State.READY)
        self.channel = self.transport.emit("create-data-channel", "echo", None)
        if self.channel is None:
            return self.finish(False, "create-data-channel refused (see the WARNING)")
        self.channel.connect("on-message-string", lambda c, text: c.emit("send-string", text))
        self.channel.connect("on-message-data", lambda c, data: c.emit("send-data", data))
        self.channel.connect("on-open", lambda c: print("[ours] channel echo open", flush=True))
        offer = self.transport.emit("create-sdp-offer", None)  # no codecs: data only
        if offer is None:
            return self.finish(False, "create-sdp-offer refused (see the WARNING)")
        print("[ours] offer:\n" + offer, flush=True)
        _, sdp = GstSdp.SDPMessage.new_from_text(offer)
        description = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.OFFER, sdp)
        self.webrtc.emit("set-remote-description", description,
                         Gst.Promise.new_with_change_func(self.on_offer_set, None))
        return GLib.SOURCE_REMOVE

    def on_offer_set(self, promise, _data):
        promise.wait()
        self.webrtc.emit("create-answer", None,
                         Gst.Promise.new_with_change_func(self.on_answer, None))

    def on_answer(self, promise, _data):
        promise.wait()
        reply = promise.get_reply()
        answer = reply.get_value("answer")
        self.kept.append((reply, answer))
        self.webrtc.emit("set-local-description", answer, Gst.Promise.new())
        GLib.idle_add(self.apply_answer, answer.sdp.as_text())

    def apply_answer(self, text):
        print("[peer] answer:\n" + text, flush=True)
        if not self.transport.emit("apply-sdp-answer", text):
            return self.finish(False, "apply-sdp-answer refused (see the WARNING)")
        self.ours.set_state(Gst.State.PLAYING)
        return GLib.SOURCE_REMOVE

    # --- the peer: send, check the echoes --------------------------------------------------
    def on_peer_channel(self, _webrtc, channel):
        self.peer_channel = channel
        self.sent = 0
        self.echoed = 0
        channel.connect("on-message-string", self.on_echo_string)
        channel.connect("on-message-data", self.on_echo_data)
        print(f"[peer] on-data-channel: {channel.get_property('label')}", flush=True)
        GLib.idle_add(self.send_next)

    def expected(self, n):
        if n % 2 == 0:
            return f"message {n}"
        return bytes((n + i) % 256 for i in range(1000 + n))

    def send_next(self):
        if self.sent == self.want:
            return self.finish(True, f"{self.want} messages echoed")
        message = self.expected(self.sent)
        self.sent_at = time.perf_counter()
        if isinstance(message, str):
            self.peer_channel.emit("send-string", message)
        else:
            self.peer_channel.emit("send-data", GLib.Bytes.new(message))
        self.sent += 1
        return GLib.SOURCE_REMOVE

    def on_echo(self, got):
        want = self.expected(self.echoed)
        if got != want:
            GLib.idle_add(self.finish, False, f"echo {self.echoed} differs from what was sent")
            return
        self.echoed += 1
        GLib.idle_add(self.send_next)

    def on_echo_string(self, _channel, text):
        self.on_echo(text)

    def on_echo_data(self, _channel, data):
        self.on_echo(bytes(data.get_data()))

    def run(self):
        GLib.timeout_add_seconds(self.timeout_s, self.finish, False,
                                 f"timeout after {self.timeout_s} s")
        GLib.idle_add(self.start)
        self.loop.run()
        stats = self.transport.get_property("stats")
        for pipe in (self.ours, self.peer):
            pipe.set_state(Gst.State.NULL)
        ok, why = self.outcome
        print(f"stats: {stats.to_string() if stats else None}", flush=True)
        print(("PASS: " if ok else "FAIL: ") + why, flush=True)
        return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--timeout", type=int, default=60)
    args = parser.parse_args()
    Gst.init(None)
    for factory in ("dtlstransportbin", "webrtcbin"):
        if not Gst.ElementFactory.find(factory):
            print(f"FAIL: element {factory} not found (GST_PLUGIN_PATH?)")
            return 1
    return Echo(args.messages, args.timeout).run()


if __name__ == "__main__":
    sys.exit(main())
