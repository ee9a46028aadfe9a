#!/usr/bin/env python3
r"""dtlstransportbin talks to a browser: a WHEP-style page and its server, Python stdlib + PyGObject.

    GST_PLUGIN_PATH=build/gst python3 examples/browser_server.py [--port 8080]
    then open http://127.0.0.1:8080/ in a browser (tests/e2e/test_browser.py: Chromium)

The page (examples/browser_page.html) creates an RTCPeerConnection with a video and an audio
transceiver (sendrecv with its camera and microphone, recvonly with ?camera=0), waits until its
candidates are gathered and POSTs its offer to /offer. For each offer the server builds one
pipeline:

  videotestsrc ! vp8enc ! rtpvp8pay ---\
                                        rtpfunnel ! dtlstransportbin (ICE, DTLS-SRTP)
  audiotestsrc ! opusenc ! rtpopuspay --/
  dtlstransportbin.rtp_src ! rtpptdemux --> VP8:  rtpvp8depay ! vp8dec ! fakesink
                                        \-> Opus: rtpopusdepay ! opusdec ! fakesink

answers the offer in one call (`answer-sdp-offer`: the browser's ICE credentials, candidates,
fingerprint, a=setup -> DTLS role, payload types -> pt-map; our answer, BUNDLE, back) and
replies 201 Created with the answer, as WHEP does (RFC 9725's sibling for playback). Video and
audio share the one transport: rtpfunnel merges the two payloaders' RTP into the bin's rtp_sink,
rtpptdemux splits what arrives on rtp_src by payload type (pt-map gives each its caps).

Output: one JSON object per line: {"ev": "listening", "url"}, {"ev": "answered", "ms", ...},
{"ev": "state", "state"} (the bin's state-changed), {"ev": "warning"|"error", "text"},
{"ev": "report", "browser": {...}, "server": {...}} (what a page opened with ?report=1 POSTs to
/report once a second: its getStats() summary, with the frames this server decoded from it).
DELETE on the Location the answer came with ends that session. Ctrl-C ends the server.

--local-addresses 127.0.0.1 makes the bin gather on loopback (libnice skips it by default);
Chromium then needs --allow-loopback-in-peer-connection to offer loopback candidates
(tests/e2e/test_browser.py runs both in a network namespace with only `lo`).
"""
import argparse
import http.server
import json
import os
import signal
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser_page.html")

# What we send and accept: answer-sdp-offer takes the offer's payload types for these.
CODECS = ("application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000;"
          "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,"
          "encoding-params=(string)2")

PIPELINE = """
  videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1
    ! vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay name=vp8pay ! bundle.
  audiotestsrc is-live=true freq=440 volume=0.2 ! audioconvert ! audioresample ! opusenc
    ! rtpopuspay name=opuspay ! bundle.
  rtpfunnel name=bundle ! t.rtp_sink
  dtlstransportbin name=t {options}
  t.rtp_src ! rtpptdemux name=demux
"""

# What is done with each kind the browser sends, by encoding name (others: fakesink).
RECEIVERS = {"VP8": "rtpvp8depay ! vp8dec", "OPUS": "rtpopusdepay ! opusdec"}

_print_lock = threading.Lock()


def emit(ev, **fields):
    with _print_lock:
        print(json.dumps({"ev": ev, **fields}, default=str), flush=True)


class Session:
    """One browser: one pipeline, one dtlstransportbin."""

    def __init__(self, number, local_addresses):
        self.number = number
        options = f"local-addresses={local_addresses}" if local_addresses else ""
        self.pipeline = Gst.parse_launch(PIPELINE.format(options=options))
        self.bin = self.pipeline.get_by_name("t")
        self.decoded = {}  # encoding name -> buffers decoded from the browser
        self.gathered = threading.Event()
        self.bin.connect("on-gathering-done", lambda _bin: self.gathered.set())
        self.bin.connect("state-changed",
                         lambda _bin, state: emit("state", session=number, state=state.value_nick))
        demux = self.pipeline.get_by_name("demux")
        demux.connect("request-pt-map", self.on_request_pt_map)
        demux.connect("pad-added", self.on_demux_pad)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)

    def answer(self, offer):
        """The answer to the browser's offer, or None (the bus then says why)."""
        # NULL -> READY: certificate, ICE credentials, gathering. Answer with every candidate.
        if self.pipeline.set_state(Gst.State.READY) == Gst.StateChangeReturn.FAILURE:
            return None
        if self.bin.get_property("ice-gathering-state").value_nick != "complete":
            self.gathered.wait(5)
        begin = time.perf_counter()
        answer = self.bin.emit("answer-sdp-offer", offer, Gst.Caps.from_string(CODECS))
        elapsed_ms = (time.perf_counter() - begin) * 1e3
        if answer is None:
            return None
        # pt-map now holds the browser's payload types: our payloaders must send with them.
        pt_map = self.bin.get_property("pt-map")
        payload = {}
        for i in range(pt_map.get_size()):
            structure = pt_map.get_structure(i)
            payload[structure.get_string("encoding-name").upper()] = structure.get_value("payload")
        for name, payloader in (("VP8", "vp8pay"), ("OPUS", "opuspay")):
            payloader = self.pipeline.get_by_name(payloader)
            if name in payload:
                payloader.set_property("pt", payload[name])
            else:  # the browser did not offer it (or rejected it): do not send it
                payloader.get_static_pad("src").add_probe(
                    Gst.PadProbeType.BUFFER, lambda *_: Gst.PadProbeReturn.DROP)
        emit("answered", session=self.number, ms=round(elapsed_ms, 3), payload_types=payload)
        # READY -> PLAYING: connectivity checks, then DTLS, then media.
        self.pipeline.set_state(Gst.State.PLAYING)
        return answer

    def on_request_pt_map(self, _demux, pt):
        pt_map = self.bin.get_property("pt-map")
        for i in range(pt_map.get_size() if pt_map else 0):
            if pt_map.get_structure(i).get_value("payload") == pt:
                caps = Gst.Caps.new_empty()
                caps.append_structure(pt_map.get_structure(i).copy())
                return caps
        return None

    def on_demux_pad(self, _demux, pad):
        # Runs on the streaming thread: a new payload type arrived from the browser.
        caps = pad.get_current_caps() or pad.query_caps(None)
        structure = caps.get_structure(0)
        name = (structure.get_string("encoding-name") or "").upper()
        chain = RECEIVERS.get(name)
        # async=false: a sink added while the pipeline changes state must not wait for a preroll
        # on this streaming thread (it also carries the ICE consent answers).
        description = (f"{chain} ! fakesink sync=false async=false name=sink" if chain
                       else "fakesink async=false")
        receiver = Gst.parse_bin_from_description(description, True)
        if chain:
            self.decoded.setdefault(name, 0)
            receiver.get_by_name("sink").get_static_pad("sink").add_probe(
                Gst.PadProbeType.BUFFER, self.on_decoded, name)
        self.pipeline.add(receiver)
        receiver.sync_state_with_parent()
        pad.link(receiver.get_static_pad("sink"))
        emit("receiving", session=self.number, encoding_name=name, pad=pad.get_name())

    def on_decoded(self, _pad, _info, name):
        self.decoded[name] += 1
        return Gst.PadProbeReturn.OK

    def on_message(self, _bus, message):
        if message.type == Gst.MessageType.WARNING:
            err, debug = message.parse_warning()
            emit("warning", session=self.number, text=err.message, debug=debug)
        elif message.type == Gst.MessageType.ERROR:
            err, debug = message.parse_error()
            emit("error", session=self.number, text=err.message, debug=debug)

    def summary(self):
        stats = self.bin.get_property("stats")
        return {"decoded": dict(self.decoded), "state": self.bin.get_property("state").value_nick,
                "dtls_role": self.bin.get_property("dtls-role").value_nick,
                "srtp_profile": self.bin.get_property("srtp-profile"),
                "packets_sent": stats.get_uint64("packets-sent")[1] if stats else None,
                "packets_received": stats.get_uint64("packets-received")[1] if stats else None}

    def stop(self):
        self.pipeline.set_state(Gst.State.NULL)
        self.pipeline.get_bus().remove_signal_watch()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, local_addresses):
        super().__init__(address, Handler)
        self.local_addresses = local_addresses
        self.sessions = {}
        self.lock = threading.Lock()
        self.count = 0

    def new_session(self):
        with self.lock:
            self.count += 1
            session = Session(self.count, self.local_addresses)
            self.sessions[self.count] = session
            return session

    def end_session(self, number):
        with self.lock:
            session = self.sessions.pop(number, None)
        if session:
            session.stop()
        return session is not None

    def latest(self):
        with self.lock:
            return self.sessions[max(self.sessions)] if self.sessions else None


class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, status, body=b"", content_type="text/plain", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()

    def do_GET(self):
        if self.path.split("?")[0] in ("/", "/index.html"):
            with open(PAGE, "rb") as page:
                self.reply(200, page.read(), "text/html; charset=utf-8")
        else:
            self.reply(404, b"not found\n")

    def do_POST(self):
        if self.path == "/offer":
            session = self.server.new_session()
            answer = session.answer(self.body())
            if answer is None:
                self.server.end_session(session.number)
                self.reply(400, b"answer-sdp-offer refused the offer (the server's log says why)\n")
            else:
                self.reply(201, answer.encode(), "application/sdp",
                           [("Location", f"/session/{session.number}")])
        elif self.path == "/report":
            session = self.server.latest()
            emit("report", browser=json.loads(self.body()),
                 server=session.summary() if session else None)
            self.reply(204)
        else:
            self.reply(404, b"not found\n")

    def do_DELETE(self):
        number = self.path.rsplit("/", 1)[-1]
        found = number.isdigit() and self.server.end_session(int(number))
        self.reply(200 if found else 404)

    def log_message(self, *args):
        pass  # no access log: stdout carries the JSON events


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1", help="HTTP address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="HTTP port (default 8080)")
    parser.add_argument("--local-addresses", default="",
                        help="the bin's local-addresses (default: every interface but loopback)")
    args = parser.parse_args()
    Gst.init(None)
    if not Gst.ElementFactory.find("dtlstransportbin"):
        sys.exit("dtlstransportbin not found: set GST_PLUGIN_PATH to the build's gst/ directory")

    server = Server((args.bind, args.port), args.local_addresses)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    emit("listening", url=f"http://{args.bind}:{server.server_address[1]}/")
    loop = GLib.MainLoop()  # runs the buses' watches
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, sig, loop.quit)
    loop.run()
    server.shutdown()
    for number in list(server.sessions):
        server.end_session(number)
    return 0


if __name__ == "__main__":
    sys.exit(main())
