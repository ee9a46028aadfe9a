#!/usr/bin/env python3
"""Interop: gst-plugins-bad's webrtcbin <-> dtlstransportbin on 127.0.0.1, SDP by the bin's own
action signals (no SDP written here).

Mode `answer` (default): webrtcbin offers two m-lines, VP8 video and Opus audio (sendrecv,
max-bundle); our bin answers them in one call, `answer-sdp-offer` (remote credentials,
fingerprint, a=setup -> role, candidates, pt-map from a=rtpmap/a=rtcp-fb; the answer from our
parameters, both m-lines BUNDLEd on our one transport), whose time is printed. Mode `offer`: our
bin offers both (`create-sdp-offer`), webrtcbin answers, `apply-sdp-answer` applies it. On our
side rtpfunnel merges the two payloaders into rtp_sink and rtpptdemux splits rtp_src by payload
type. Video and audio flow both ways; pass when each side has decoded >= MIN_FRAMES video frames
and >= MIN_FRAMES audio buffers within DEADLINE_S, our
bin is connected as the DTLS client when it answers (RFC 8842 §5.3: the answerer to actpass is
active) and as the server when it offers (webrtcbin answers active), pt-map carries the peer's
rtcp-fb-nack-pli, and both sides use the SRTP profile the DTLS server must pick: its own most
preferred profile among those the client offered (RFC 5764 §4.1.1). Our side reports it in `srtp-profile` and in `stats`; webrtcbin's dtlsenc/dtlsdec
report the cipher and authentication they were keyed with.
"""
import sys
import time

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

MIN_FRAMES = 30
# The SRTP profiles gst-plugins-bad 1.22's DTLS elements (inside webrtcbin) configure, in their
# order of preference: only this one (SSL_set_tlsext_use_srtp in gstdtlsconnection.c; also the
# only profile name in libgstdtls.so).
WEBRTCBIN_PROFILES = ["SRTP_AES128_CM_SHA1_80"]
# What dtlsenc/dtlsdec's srtp-cipher/srtp-auth (GstDtlsSrtpCipher, GstDtlsSrtpAuth) mean.
DTLS_ELEMENT_PROFILES = {(1, 1): "SRTP_AES128_CM_SHA1_32", (1, 2): "SRTP_AES128_CM_SHA1_80"}
DEADLINE_S = 60
# What our bin sends and accepts (answer-sdp-offer takes the offer's payload types, which are
# the ones both sides' payloaders use: VP8 96, Opus 111) and what it offers (create-sdp-offer:
# with the payload types our payloaders use).
CODECS = ("application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000;"
          "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,"
          "encoding-params=(string)2")
OFFER_CODECS = ("application/x-rtp,media=video,payload=96,encoding-name=VP8,clock-rate=90000,"
                "rtcp-fb-nack=(boolean)true,rtcp-fb-nack-pli=(boolean)true,"
                "rtcp-fb-ccm-fir=(boolean)true;"
                "application/x-rtp,media=audio,payload=111,encoding-name=OPUS,clock-rate=48000,"
                "encoding-params=(string)2")
VIDEO = ("videotestsrc is-live=true pattern={pattern} "
         "! video/x-raw,width=320,height=240,framerate=30/1 "
         "! vp8enc deadline=1 keyframe-max-dist=15 ! rtpvp8pay pt=96 ")
AUDIO = ("audiotestsrc is-live=true freq={freq} volume=0.2 ! audioconvert ! audioresample "
         "! opusenc ! rtpopuspay pt=111 ")
# How each side decodes what arrives, by encoding name.
DECODERS = {"VP8": "rtpvp8depay ! vp8dec", "OPUS": "rtpopusdepay ! opusdec"}
KINDS = {"VP8": "video", "OPUS": "audio"}


def log(*args):
    print(*args, flush=True)


class Interop:
    def __init__(self, mode):
        self.mode = mode  # "answer": webrtcbin offers, we answer; "offer": we offer
        self.loop = GLib.MainLoop()
        self.result = None
        # Decoded video frames and audio buffers, per receiving side.
        self.frames = {(side, kind): 0 for side in ("webrtcbin", "dtlstransportbin")
                       for kind in ("video", "audio")}
        self.offer_sdp = None
        self.answer_sdp = None
        self.states = []

        # webrtcbin side: a video and an audio transceiver (sendrecv), one BUNDLEd transport.
        self.wpipe = Gst.parse_launch(
            "webrtcbin name=w bundle-policy=max-bundle " +
            VIDEO.format(pattern="ball") +
            "! application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000 ! w. " +
            AUDIO.format(freq=440) +
            "! application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 "
            "! w.")
        self.webrtc = self.wpipe.get_by_name("w")
        # Its libnice agent skips loopback by default: gather on 127.0.0.1 only.
        # Keep the reference: PyGObject (3.42) drops one it does not own when `ice` dies, which
        # destroys webrtcbin's agent.
        self.ice = self.webrtc.get_property("ice-agent")
        if not self.ice.emit("add-local-ip-address", "127.0.0.1"):
            raise RuntimeError("webrtcbin's ICE agent refused add-local-ip-address 127.0.0.1")
        self.webrtc.connect("on-negotiation-needed", self.on_negotiation_needed)
        self.webrtc.connect("on-ice-candidate", self.on_webrtc_candidate)
        self.webrtc.connect("pad-added", self.on_webrtc_pad)

        # Our side: both payloaders into one rtp_sink; rtp_src split by payload type.
        self.opipe = Gst.parse_launch(
            VIDEO.format(pattern="smpte") + "! bundle. " + AUDIO.format(freq=660) + "! bundle. "
            "rtpfunnel name=bundle ! t.rtp_sink "
            "dtlstransportbin name=t ice-controlling=false local-addresses=127.0.0.1 "
            "t.rtp_src ! rtpptdemux name=demux")
        self.bin = self.opipe.get_by_name("t")
        self.bin.connect("state-changed", self.on_state_changed)
        demux = self.opipe.get_by_name("demux")
        demux.connect("request-pt-map", self.on_request_pt_map)
        demux.connect("pad-added", self.on_demux_pad)

        for pipe, name in ((self.wpipe, "webrtcbin"), (self.opipe, "dtlstransportbin")):
            bus = pipe.get_bus()
            bus.add_signal_watch()
            bus.connect("message", self.on_message, name)

    # --- helpers ---------------------------------------------------------------------------
    def finish(self, ok, why):
        if self.result is None:
            self.result = (ok, why)
            self.loop.quit()

    def on_message(self, _bus, message, name):
        if message.type == Gst.MessageType.ERROR:
            err, debug = message.parse_error()
            self.finish(False, f"{name} pipeline error: {err.message} ({debug})")
        elif message.type == Gst.MessageType.WARNING:
            err, _ = message.parse_warning()
            log(f"[{name}] WARNING from {message.src.get_name()}: {err.message}")

    def on_state_changed(self, _bin, state):
        nick = state.value_nick
        self.states.append(nick)
        log(f"[dtlstransportbin] state-changed: {nick}")
        if nick == "failed":
            GLib.idle_add(self.finish, False, "dtlstransportbin went to failed")

    def on_frame(self, _sink, _buffer, _pad, key):
        self.frames[key] += 1
        if all(n >= MIN_FRAMES for n in self.frames.values()):
            GLib.idle_add(self.finish, True, "video frames and audio decoded both ways")

    def decode(self, pipe, pad, side):
        """Links `pad` (RTP of one encoding) to its depayloader, decoder and a counting sink."""
        caps = pad.get_current_caps() or pad.query_caps(None)
        name = caps.get_structure(0).get_string("encoding-name") if caps.get_size() else None
        name = (name or "").upper()
        if name not in DECODERS:
            GLib.idle_add(self.finish, False, f"{side}: RTP of an unexpected kind: {caps}")
            return
        tail = Gst.parse_bin_from_description(
            DECODERS[name] + " ! fakesink name=count signal-handoffs=true sync=false async=false", True)
        tail.get_by_name("count").connect("handoff", self.on_frame, (side, KINDS[name]))
        pipe.add(tail)
        tail.sync_state_with_parent()
        if pad.link(tail.get_static_pad("sink")) != Gst.PadLinkReturn.OK:
            GLib.idle_add(self.finish, False, f"{side}: cannot link {pad.get_name()} to {name}")

    def on_webrtc_pad(self, _webrtc, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        log(f"[webrtcbin] pad-added {pad.get_name()}: {pad.get_current_caps()}")
        self.decode(self.wpipe, pad, "webrtcbin")

    def on_request_pt_map(self, _demux, pt):
        # rtpptdemux asks for each payload type it sees: the bin's pt-map (from the peer's SDP).
        pt_map = self.bin.get_property("pt-map")
        for i in range(pt_map.get_size() if pt_map else 0):
            if pt_map.get_structure(i).get_value("payload") == pt:
                caps = Gst.Caps.new_empty()
                caps.append_structure(pt_map.get_structure(i).copy())
                return caps
        return None

    def on_demux_pad(self, _demux, pad):
        log(f"[dtlstransportbin] rtpptdemux pad-added {pad.get_name()}: {pad.get_current_caps()}")
        self.decode(self.opipe, pad, "dtlstransportbin")

    # --- webrtcbin offers, we answer (answer-sdp-offer) -----------------------------------------
    def on_negotiation_needed(self, webrtc):
        if self.mode != "answer":
            return  # we offer: webrtcbin answers our offer
        promise = Gst.Promise.new_with_change_func(self.on_offer_created, None)
        webrtc.emit("create-offer", None, promise)

    def on_offer_created(self, promise, _data):
        promise.wait()
        # Keep the reply alive while the offer is used: PyGObject frees a temporary GstStructure
        # wrapper together with the boxed values read from it.
        reply = promise.get_reply()
        offer = reply.get_value("offer")
        self.webrtc.emit("set-local-description", offer, Gst.Promise.new())
        self.offer_sdp = offer.sdp.as_text()
        self.offer = (reply, offer)
        log("[webrtcbin] offer:\n" + self.offer_sdp)
        GLib.idle_add(self.start_ours)
        return None

    def on_webrtc_candidate(self, _webrtc, _mline, candidate):
        log(f"[webrtcbin] on-ice-candidate: {candidate}")
        GLib.idle_add(self.add_candidate, candidate)

    def add_candidate(self, candidate):
        if not self.bin.emit("add-remote-candidate", candidate):
            log(f"  (dtlstransportbin refused {candidate!r})")
        return GLib.SOURCE_REMOVE

    def start_ours(self):
        # NULL->READY: certificate, local-fingerprint, gathering on 127.0.0.1. The description
        # we give carries the candidates gathered so far: wait for all of them (loopback: ms).
        if self.opipe.set_state(Gst.State.READY) == Gst.StateChangeReturn.FAILURE:
            self.finish(False, "dtlstransportbin pipeline cannot go to READY")
            return GLib.SOURCE_REMOVE
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
        # The whole translation in one call: remote credentials, fingerprints, a=setup -> role,
        # candidates, pt-map from a=rtpmap/a=fmtp/a=rtcp-fb; the answer from our parameters.
        begin = time.perf_counter()
        self.answer_sdp = self.bin.emit("answer-sdp-offer", self.offer_sdp,
                                         Gst.Caps.from_string(CODECS))
        elapsed = time.perf_counter() - begin
        if self.answer_sdp is None:
            self.finish(False, "answer-sdp-offer refused webrtcbin's offer (see the WARNING)")
            return
        log(f"[dtlstransportbin] answer-sdp-offer (parse + answer) took {elapsed * 1e3:.3f} ms; "
            "answer:\n" + self.answer_sdp)
        ok, sdp = GstSdp.SDPMessage.new_from_text(self.answer_sdp)
        if ok != GstSdp.SDPResult.OK:
            self.finish(False, "our answer does not parse as SDP")
            return
        answer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, sdp)
        self.webrtc.emit("set-remote-description", answer, Gst.Promise.new())
        # >= PAUSED: connectivity checks start; PLAYING: DTLS once ICE has a pair.
        self.opipe.set_state(Gst.State.PLAYING)

    # --- we offer (create-sdp-offer), webrtcbin answers, we apply it (apply-sdp-answer) ------
    def make_offer(self):
        self.offer_sdp = self.bin.emit("create-sdp-offer", Gst.Caps.from_string(OFFER_CODECS))
        if self.offer_sdp is None:
            self.finish(False, "create-sdp-offer refused (see the WARNING)")
            return
        log("[dtlstransportbin] offer:\n" + self.offer_sdp)
        ok, sdp = GstSdp.SDPMessage.new_from_text(self.offer_sdp)
        if ok != GstSdp.SDPResult.OK:
            self.finish(False, "our offer does not parse as SDP")
            return
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
        self.answer_sdp = answer.sdp.as_text()
        self.answer_kept = (reply, answer)
        log("[webrtcbin] answer:\n" + self.answer_sdp)
        GLib.idle_add(self.apply_answer)

    def apply_answer(self):
        if not self.bin.emit("apply-sdp-answer", self.answer_sdp):
            self.finish(False, "apply-sdp-answer refused webrtcbin's answer (see the WARNING)")
            return GLib.SOURCE_REMOVE
        self.opipe.set_state(Gst.State.PLAYING)
        return GLib.SOURCE_REMOVE

    def webrtcbin_profiles(self):
        """{element name: profile} for the dtlsenc/dtlsdec elements inside webrtcbin."""
        profiles = {}
        iterator = self.webrtc.iterate_recurse()
        while True:
            result, element = iterator.next()
            if result == Gst.IteratorResult.RESYNC:
                iterator.resync()
                profiles.clear()
                continue
            if result != Gst.IteratorResult.OK:
                break
            factory = element.get_factory()
            if factory and factory.get_name() in ("dtlsenc", "dtlsdec"):
                key = (element.get_property("srtp-cipher"), element.get_property("srtp-auth"))
                profiles[f"{factory.get_name()} {element.get_name()}"] = \
                    DTLS_ELEMENT_PROFILES.get(key, f"unknown cipher/auth {key}")
        return profiles

    def run(self):
        GLib.timeout_add_seconds(DEADLINE_S, self.finish, False, f"timeout after {DEADLINE_S} s")
        self.wpipe.set_state(Gst.State.PLAYING)
        if self.mode == "offer":
            GLib.idle_add(self.start_ours)
        self.loop.run()
        stats = self.bin.get_property("stats")
        dtls_role = self.bin.get_property("dtls-role").value_nick
        profile = self.bin.get_property("srtp-profile")
        pt_map = self.bin.get_property("pt-map")
        remote_role = self.bin.get_property("remote-role").value_nick
        controlling = self.bin.get_property("ice-controlling")
        offered = (self.bin.get_property("srtp-profiles") or "").split(":")
        final_state = self.bin.get_property("state").value_nick
        peer_state = self.webrtc.get_property("connection-state")
        peer_profiles = self.webrtcbin_profiles()
        states_while_playing = list(self.states)
        # Our pipeline leaves PLAYING with close_notify (state-changed: closed).
        for pipe in (self.wpipe, self.opipe):
            pipe.set_state(Gst.State.NULL)
        ok, why = self.result
        log("decoded: " + ", ".join(f"{side} {kind} {n}" for (side, kind), n in self.frames.items())
            + f" (need {MIN_FRAMES} each)")
        log(f"webrtcbin connection-state: {peer_state.value_nick}")
        log(f"states: {self.states} (now {final_state}); dtls-role {dtls_role}; "
            f"srtp-profile {profile}")
        log(f"stats: {stats.to_string() if stats else None}")
        log(f"pt-map: {pt_map.to_string() if pt_map else None}")
        log(f"srtp-profiles offered: {offered}; webrtcbin's DTLS elements: {peer_profiles}")
        # The DTLS server (webrtcbin) picks its most preferred profile that we offered.
        expected = next((p for p in WEBRTCBIN_PROFILES if p in offered), None)
        if ok and expected is None:
            ok, why = False, f"we offered {offered}, none of webrtcbin's {WEBRTCBIN_PROFILES}"
        if ok and profile != expected:
            ok, why = False, f"srtp-profile is {profile}, expected {expected}"
        if ok and stats.get_string("srtp-profile") != profile:
            ok, why = False, (f"stats say srtp-profile {stats.get_string('srtp-profile')}, "
                              f"the property says {profile}")
        if ok and (not peer_profiles or set(peer_profiles.values()) != {profile}):
            ok, why = False, f"webrtcbin's DTLS elements use {peer_profiles}, we use {profile}"
        if ok and final_state != "connected":
            ok, why = False, f"state is {final_state} after the frames, not connected"
        if ok and stats.get_string("dtls-version") != "DTLSv1.2":
            ok, why = False, f"stats say dtls-version {stats.get_string('dtls-version')}"
        if ok and stats.get_string("dtls-role") != dtls_role:
            ok, why = False, f"stats say dtls-role {stats.get_string('dtls-role')}, not {dtls_role}"
        if ok and stats.get_uint64("packets-sent")[1] == 0:
            ok, why = False, "stats say no packet sent"
        # A clean loopback link with a correctly keyed peer: nothing fails authentication or
        # replay. (Packets before the keys are counted in dropped-no-keys, which may be > 0.)
        for counter in ("dropped-auth-failure", "dropped-replay"):
            if ok and stats.get_uint64(counter)[1] != 0:
                ok, why = False, f"stats say {counter} = {stats.get_uint64(counter)[1]}"
        # RFC 8842 §5.3: we answer webrtcbin's actpass with active (client); webrtcbin answers
        # our actpass with active, which makes us the server.
        expected_role = "client" if self.mode == "answer" else "server"
        if ok and dtls_role != expected_role:
            ok, why = False, f"expected DTLS {expected_role} ({self.mode} mode), got {dtls_role}"
        if ok and remote_role != ("server" if expected_role == "client" else "client"):
            ok, why = False, f"remote-role is {remote_role}, we are {expected_role}"
        if ok and controlling != (self.mode == "offer"):
            ok, why = False, f"ice-controlling is {controlling} in {self.mode} mode"
        # pt-map comes from the remote description's a=rtpmap / a=rtcp-fb (webrtcbin sends
        # nack pli for VP8): what rtpbin needs for PLI.
        vp8 = [pt_map.get_structure(i) for i in range(pt_map.get_size())
               if pt_map.get_structure(i).get_string("encoding-name") == "VP8"] if pt_map else []
        if ok and not vp8:
            ok, why = False, f"pt-map has no VP8 entry: {pt_map}"
        if ok and not vp8[0].get_boolean("rtcp-fb-nack-pli")[1]:
            ok, why = False, f"pt-map's VP8 entry lacks rtcp-fb-nack-pli: {vp8[0].to_string()}"
        opus = [pt_map.get_structure(i) for i in range(pt_map.get_size())
                if pt_map.get_structure(i).get_string("encoding-name").upper() == "OPUS"]
        if ok and not opus:
            ok, why = False, f"pt-map has no OPUS entry: {pt_map.to_string()}"
        if ok and (not states_while_playing or states_while_playing[-1] != "connected"):
            ok, why = False, (f"state-changed sequence {states_while_playing} does not end in "
                              "connected while playing")
        if ok and peer_state != GstWebRTC.WebRTCPeerConnectionState.CONNECTED:
            ok, why = False, f"webrtcbin's connection-state is {peer_state.value_nick}"
        if ok and stats.get_uint64("packets-received")[1] == 0:
            ok, why = False, "stats say no packet received"
        log(("PASS: " if ok else "FAIL: ") + why)
        return 0 if ok else 1


def main():
    Gst.init(None)
    for factory in ("dtlstransportbin", "webrtcbin", "vp8enc", "opusenc", "rtpfunnel",
                    "rtpptdemux", "nicesrc"):
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
