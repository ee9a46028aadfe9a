#!/usr/bin/env python3
"""Interop with data channels (issue 11): gst-plugins-bad's webrtcbin <-> dtlstransportbin on
127.0.0.1, SDP by the bin's own action signals, VP8 flowing both ways at the same time as the
data.

Three channels over the one DTLS association:
  - "from-webrtcbin": opened by webrtcbin (DCEP, RFC 8832), announced by our `on-data-channel`;
  - "from-ours": opened by our bin (DCEP), announced by webrtcbin's `on-data-channel`;
  - "pre": pre-negotiated on both sides (negotiated=true, id=7), no DCEP.
On each, once open, each side sends one string and one binary message (of 1000 bytes, and of
MAX_BYTES on "pre", fragmented by SCTP) and checks what the other side sent. Pass when every
message arrived intact both ways on the three channels and each side decoded >= MIN_FRAMES
video frames, within DEADLINE_S.

Mode `answer` (default): webrtcbin offers (its data channels make an m=application section),
our bin answers with `answer-sdp-offer`. Mode `offer`: our bin offers (`create-sdp-offer` has
m=application because channels exist), webrtcbin answers, `apply-sdp-answer` applies it.
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

MIN_FRAMES = 30
DEADLINE_S = 60
# webrtcbin 1.22 says no a=max-message-size: 65536 is its limit (RFC 8841 §6.1), and ours for it.
MAX_BYTES = 60000
PRE_ID = 7
CODECS = "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000"
OFFER_CODECS = ("application/x-rtp,media=video,payload=96,encoding-name=VP8,clock-rate=90000,"
                "rtcp-fb-nack-pli=(boolean)true")
VIDEO = ("videotestsrc is-live=true pattern={pattern} "
         "! video/x-raw,width=320,height=240,framerate=30/1 "
         "! vp8enc deadline=1 keyframe-max-dist=15 ! rtpvp8pay pt=96 ")
LABELS = ("from-webrtcbin", "from-ours", "pre")
SIDES = ("webrtcbin", "ours")


def log(*args):
    print(*args, flush=True)


def payload(label, side):
    size = MAX_BYTES if label == "pre" else 1000
    seed = (sum(label.encode()) + len(side)) % 251
    return bytes((seed + i) % 256 for i in range(size))


class Interop:
    def __init__(self, mode):
        self.mode = mode
        self.loop = GLib.MainLoop()
        self.result = None
        self.frames = {"webrtcbin": 0, "ours": 0}
        # received[side][label] = {"string": text, "data": bytes}: what `side` got on `label`.
        self.received = {side: {label: {} for label in LABELS} for side in SIDES}
        self.channels = []  # keep every channel object alive
        self.sent = set()  # (side, label) pairs that have sent
        self.kept = []

        self.wpipe = Gst.parse_launch(
            VIDEO.format(pattern="ball") +
            "! application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000 "
            "! webrtcbin name=w bundle-policy=max-bundle")
        self.webrtc = self.wpipe.get_by_name("w")
        self.ice = self.webrtc.get_property("ice-agent")
        if not self.ice.emit("add-local-ip-address", "127.0.0.1"):
            raise RuntimeError("webrtcbin's ICE agent refused add-local-ip-address 127.0.0.1")
        self.webrtc.connect("on-negotiation-needed", self.on_negotiation_needed)
        self.webrtc.connect("on-ice-candidate", self.on_webrtc_candidate)
        self.webrtc.connect("pad-added", self.on_webrtc_pad)
        self.webrtc.connect("on-data-channel", self.on_data_channel, "webrtcbin")

        self.opipe = Gst.parse_launch(
            VIDEO.format(pattern="smpte") + "! t.rtp_sink "
            "dtlstransportbin name=t local-addresses=127.0.0.1 "
            "t.rtp_src ! rtpvp8depay ! vp8dec ! fakesink name=ours signal-handoffs=true sync=false")
        self.bin = self.opipe.get_by_name("t")
        self.bin.connect("state-changed", self.on_state_changed)
        self.bin.connect("on-data-channel", self.on_data_channel, "ours")
        self.opipe.get_by_name("ours").connect("handoff", self.on_frame, "ours")
        for pipe, name in ((self.wpipe, "webrtcbin"), (self.opipe, "ours")):
            bus = pipe.get_bus()
            bus.add_signal_watch()
            bus.connect("message", self.on_message, name)

    # --- helpers ---------------------------------------------------------------------------
    def finish(self, ok, why):
        if self.result is None:
            self.result = (ok, why)
            self.loop.quit()
        return GLib.SOURCE_REMOVE

    def on_message(self, _bus, message, name):
        if message.type == Gst.MessageType.ERROR:
            err, debug = message.parse_error()
            self.finish(False, f"{name} pipeline error: {err.message} ({debug})")
        elif message.type == Gst.MessageType.WARNING:
            err, _ = message.parse_warning()
            log(f"[{name}] WARNING from {message.src.get_name()}: {err.message}")

    def on_state_changed(self, _bin, state):
        log(f"[ours] state-changed: {state.value_nick}")
        if state.value_nick == "connected" and self.mode == "answer":
            GLib.idle_add(self.open_ours)
        elif state.value_nick == "connected":
            GLib.idle_add(self.open_webrtcbins)
        if state.value_nick == "failed":
            GLib.idle_add(self.finish, False, "dtlstransportbin went to failed")

    def on_frame(self, _sink, _buffer, _pad, side):
        self.frames[side] += 1
        GLib.idle_add(self.check_done)

    def on_webrtc_pad(self, _webrtc, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        tail = Gst.parse_bin_from_description(
            "rtpvp8depay ! vp8dec ! fakesink name=theirs signal-handoffs=true sync=false async=false", True)
        tail.get_by_name("theirs").connect("handoff", self.on_frame, "webrtcbin")
        self.wpipe.add(tail)
        tail.sync_state_with_parent()
        pad.link(tail.get_static_pad("sink"))

    def check_done(self):
        missing = [f"{side}/{label}/{kind}" for side in SIDES for label in LABELS
                   for kind in ("string", "data") if kind not in self.received[side][label]]
        if not missing and all(n >= MIN_FRAMES for n in self.frames.values()):
            self.finish(True, "every message both ways on the three channels, video both ways")
        return GLib.SOURCE_REMOVE

    # --- channels --------------------------------------------------------------------------
    def watch(self, channel, side):
        """`side` holds `channel`: record what it receives, send once it is open."""
        self.channels.append(channel)
        label = channel.get_property("label")
        channel.connect("on-message-string", self.on_string, side, label)
        channel.connect("on-message-data", self.on_data, side, label)
        channel.connect("on-error", lambda _c, error: GLib.idle_add(
            self.finish, False, f"{side} channel {label}: on-error {error}"))
        channel.connect("on-open", lambda c: GLib.idle_add(self.send, c, side, label))
        if channel.get_property("ready-state") == GstWebRTC.WebRTCDataChannelState.OPEN:
            GLib.idle_add(self.send, channel, side, label)

    def send(self, channel, side, label):
        if (side, label) in self.sent:
            return GLib.SOURCE_REMOVE
        self.sent.add((side, label))
        log(f"[{side}] channel {label} (id {channel.get_property('id')}) open: sending")
        channel.emit("send-string", f"hello from {side} on {label}")
        channel.emit("send-data", GLib.Bytes.new(payload(label, side)))
        return GLib.SOURCE_REMOVE

    def on_string(self, _channel, text, side, label):
        other = "ours" if side == "webrtcbin" else "webrtcbin"
        if text != f"hello from {other} on {label}":
            GLib.idle_add(self.finish, False, f"{side} got {text!r} on {label}")
            return
        self.received[side][label]["string"] = text
        GLib.idle_add(self.check_done)

    def on_data(self, _channel, data, side, label):
        other = "ours" if side == "webrtcbin" else "webrtcbin"
        got = bytes(data.get_data()) if data is not None else b""
        if got != payload(label, other):
            GLib.idle_add(self.finish, False,
                          f"{side} got {len(got)} bytes on {label}, not what {other} sent")
            return
        self.received[side][label]["data"] = len(got)
        GLib.idle_add(self.check_done)

    def on_data_channel(self, _element, channel, side):
        log(f"[{side}] on-data-channel: {channel.get_property('label')}")
        # Here, not later on the main loop: messages may follow this signal at once (both
        # elements emit it before the channel's first message).
        self.watch(channel, side)

    def create(self, element, side, label, negotiated=False):
        options = None
        if negotiated:
            options = Gst.Structure.new_from_string(
                f"options, negotiated=(boolean)true, id=(int){PRE_ID}")
        channel = element.emit("create-data-channel", label, options)
        if channel is None:
            self.finish(False, f"{side} refused create-data-channel {label}")
            return
        self.watch(channel, side)

    def open_ours(self):
        self.create(self.bin, "ours", "from-ours")
        return GLib.SOURCE_REMOVE

    def open_webrtcbins(self):
        self.create(self.webrtc, "webrtcbin", "from-webrtcbin")
        return GLib.SOURCE_REMOVE

    # --- webrtcbin offers, we answer ------------------------------------------------------------
    def on_negotiation_needed(self, webrtc):
        if self.mode != "answer" or hasattr(self, "offer_sdp"):
            return
        self.offer_sdp = None
        promise = Gst.Promise.new_with_change_func(self.on_offer_created, None)
        webrtc.emit("create-offer", None, promise)

    def on_offer_created(self, promise, _data):
        promise.wait()
        reply = promise.get_reply()
        offer = reply.get_value("offer")
        self.webrtc.emit("set-local-description", offer, Gst.Promise.new())
        self.offer_sdp = offer.sdp.as_text()
        self.kept.append((reply, offer))
        log("[webrtcbin] offer:\n" + self.offer_sdp)
        GLib.idle_add(self.start_ours)

    def on_webrtc_candidate(self, _webrtc, _mline, candidate):
        GLib.idle_add(lambda: self.bin.emit("add-remote-candidate", candidate) and False)

    def start_ours(self):
        if self.opipe.set_state(Gst.State.READY) == Gst.StateChangeReturn.FAILURE:
            return self.finish(False, "our pipeline cannot go to READY")
        # The pre-negotiated channel exists on both sides before any data.
        self.create(self.bin, "ours", "pre", negotiated=True)
        GLib.timeout_add(20, self.when_gathered)
        return GLib.SOURCE_REMOVE

    def when_gathered(self):
        if self.bin.get_property("ice-gathering-state").value_nick != "complete":
            return GLib.SOURCE_CONTINUE
        if self.mode == "answer":
            self.answer()
        else:
            self.make_offer()
        return GLib.SOURCE_REMOVE

    def answer(self):
        answer_sdp = self.bin.emit("answer-sdp-offer", self.offer_sdp, Gst.Caps.from_string(CODECS))
        if answer_sdp is None:
            return self.finish(False, "answer-sdp-offer refused webrtcbin's offer")
        log("[ours] answer:\n" + answer_sdp)
        if "m=application" not in answer_sdp or "a=sctp-port:" not in answer_sdp:
            return self.finish(False, "our answer has no data channel section")
        _, sdp = GstSdp.SDPMessage.new_from_text(answer_sdp)
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, sdp)
        self.webrtc.emit("set-remote-description", answer, Gst.Promise.new())
        self.opipe.set_state(Gst.State.PLAYING)

    # --- we offer, webrtcbin answers ------------------------------------------------------------
    def make_offer(self):
        self.create(self.bin, "ours", "from-ours")
        offer_sdp = self.bin.emit("create-sdp-offer", Gst.Caps.from_string(OFFER_CODECS))
        if offer_sdp is None:
            return self.finish(False, "create-sdp-offer refused")
        log("[ours] offer:\n" + offer_sdp)
        if "m=application" not in offer_sdp:
            return self.finish(False, "our offer has no data channel section")
        _, sdp = GstSdp.SDPMessage.new_from_text(offer_sdp)
        offer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.OFFER, sdp)
        promise = Gst.Promise.new_with_change_func(self.on_remote_offer_set, None)
        self.webrtc.emit("set-remote-description", offer, promise)

    def on_remote_offer_set(self, promise, _data):
        promise.wait()
        promise = Gst.Promise.new_with_change_func(self.on_answer_created, None)
        self.webrtc.emit("create-answer", None, promise)

    def on_answer_created(self, promise, _data):
        promise.wait()
        reply = promise.get_reply()
        answer = reply.get_value("answer")
        if answer is None:
            GLib.idle_add(self.finish, False, f"webrtcbin made no answer: {reply}")
            return
        self.webrtc.emit("set-local-description", answer, Gst.Promise.new())
        answer_sdp = answer.sdp.as_text()
        self.kept.append((reply, answer))
        log("[webrtcbin] answer:\n" + answer_sdp)
        GLib.idle_add(self.apply_answer, answer_sdp)

    def apply_answer(self, answer_sdp):
        if not self.bin.emit("apply-sdp-answer", answer_sdp):
            return self.finish(False, "apply-sdp-answer refused webrtcbin's answer")
        self.opipe.set_state(Gst.State.PLAYING)
        return GLib.SOURCE_REMOVE

    def run(self):
        GLib.timeout_add_seconds(DEADLINE_S, self.finish, False, f"timeout after {DEADLINE_S} s")
        self.wpipe.set_state(Gst.State.PLAYING)
        # webrtcbin's side of the pre-negotiated channel; in answer mode also its DCEP channel
        # before the offer, so that the offer has m=application.
        self.create(self.webrtc, "webrtcbin", "pre", negotiated=True)
        if self.mode == "answer":
            self.create(self.webrtc, "webrtcbin", "from-webrtcbin")
        else:
            GLib.idle_add(self.start_ours)
        self.loop.run()
        remote_port = self.bin.get_property("remote-sctp-port")
        max_size = self.bin.get_property("max-message-size")
        stats = self.bin.get_property("stats")
        for pipe in (self.wpipe, self.opipe):
            pipe.set_state(Gst.State.NULL)
        ok, why = self.result
        log(f"frames decoded: {self.frames}; received: {self.received}")
        log(f"remote-sctp-port {remote_port}, max-message-size {max_size}")
        log(f"stats: {stats.to_string() if stats else None}")
        # webrtcbin 1.22 says a=sctp-port:5000 and no a=max-message-size (65536, RFC 8841 §6.1).
        if ok and remote_port != 5000:
            ok, why = False, f"remote-sctp-port is {remote_port}, webrtcbin said 5000"
        if ok and max_size != 65536:
            ok, why = False, f"max-message-size is {max_size}, webrtcbin said none (65536)"
        opened = stats.get_uint64("data-channels-opened")[1] if stats else 0
        if ok and opened != 3:
            ok, why = False, f"stats say {opened} data channels opened, not 3"
        log(("PASS: " if ok else "FAIL: ") + why)
        return 0 if ok else 1


def main():
    Gst.init(None)
    for factory in ("dtlstransportbin", "webrtcbin", "vp8enc", "nicesrc", "sctpenc"):
        if not Gst.ElementFactory.find(factory):
            log(f"FAIL: element {factory} not found (GST_PLUGIN_PATH?)")
            return 1
    mode = sys.argv[1] if len(sys.argv) > 1 else "answer"
    if mode not in ("answer", "offer"):
        log(f"FAIL: mode {mode!r} is not 'answer' or 'offer'")
        return 1
    return Interop(mode).run()


if __name__ == "__main__":
    sys.exit(main())
