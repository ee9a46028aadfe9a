#!/usr/bin/env python3
"""examples/whip_client.py against a WHIP endpoint (RFC 9725) built here on webrtcbin.

The endpoint is a small http.server on 127.0.0.1 (a thread of this process): POST with
Content-Type application/sdp and `Authorization: Bearer secret` -> webrtcbin (bundle-policy
max-bundle, gathering on 127.0.0.1) set-remote-description(offer), create-answer,
set-local-description, waits for its ICE gathering to complete and answers 201 Created with its
local description (all candidates) and a Location; DELETE of that Location -> 200 and webrtcbin's
pipeline torn down. POST /whip/redirect answers 307 to /whip/endpoint (RFC 9725 §4.5).

The client runs as a subprocess (the command line of docs/recipes.md) and streams VP8 + Opus for
DURATION_S s through one dtlstransportbin. Pass when it exits 0, the endpoint decoded at least
MIN_VIDEO VP8 frames (rtpvp8depay ! vp8dec) and MIN_AUDIO Opus buffers (rtpopusdepay ! opusdec)
from the two BUNDLEd m= sections, the offer was the one RFC 9725 asks for (application/sdp, the
bearer token, sendonly, BUNDLE, end-of-candidates), the redirect was followed, and the session was
DELETEd with the token. Then the refusals: a wrong token (401), an endpoint that answers 403 and
one that answers 415 each make the client exit non-zero naming the status; an answer without
a=fingerprint makes it exit non-zero with apply-sdp-answer's reason, and still DELETE the session.
"""
import http.server
import os
import subprocess
import sys
import threading
import time
import uuid

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import Gst, GstSdp, GstWebRTC  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.environ.get("WHIP_CLIENT",
                        os.path.join(HERE, "..", "..", "examples", "whip_client.py"))
TOKEN = "secret"
DURATION_S = 3
MIN_VIDEO = 30  # of ~90 frames sent in DURATION_S at 30 fps
MIN_AUDIO = 50  # of ~150 Opus frames (20 ms) sent in DURATION_S
CLIENT_TIMEOUT_S = 40
GATHER_TIMEOUT_S = 10


def log(*args):
    print(*args, flush=True)


class Endpoint:
    """A WHIP endpoint. `refuse`: answer every POST with this status; `strip_fingerprint`:
    answer with a=fingerprint removed (an answer the client must refuse)."""

    def __init__(self, refuse=None, strip_fingerprint=False):
        self.refuse = refuse
        self.strip_fingerprint = strip_fingerprint
        self.posts = []  # (path, Content-Type, Authorization)
        self.offer = None
        self.answer = None
        self.session_path = None
        self.deletes = []  # (path, Authorization, status)
        self.decoded = {"VP8": 0, "OPUS": 0}
        self.errors = []
        self.pipeline = None
        self.lock = threading.Lock()
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                endpoint.on_post(self)

            def do_DELETE(self):
                endpoint.on_delete(self)

            def log_message(self, fmt, *args):
                log("[endpoint] " + fmt % args)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def reply(handler, status, body=b"", headers=()):
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def on_post(self, handler):
        length = int(handler.headers.get("Content-Length", "0"))
        body = handler.rfile.read(length).decode("utf-8", "replace")
        content_type = handler.headers.get("Content-Type")
        auth = handler.headers.get("Authorization")
        self.posts.append((handler.path, content_type, auth))
        if handler.path == "/whip/redirect":
            return self.reply(handler, 307, headers=[("Location", "/whip/endpoint")])
        if handler.path != "/whip/endpoint":
            return self.reply(handler, 404, b"no such endpoint")
        if auth != f"Bearer {TOKEN}":
            return self.reply(handler, 401, b"bad token",
                              [("WWW-Authenticate", 'Bearer error="invalid_token"')])
        if self.refuse:
            return self.reply(handler, self.refuse, b"refused by the test endpoint")
        if content_type != "application/sdp":
            return self.reply(handler, 415, b"application/sdp only")
        self.offer = body
        try:
            answer = self.answer_offer(body)
        except Exception as error:  # noqa: BLE001 - reported to the client and the test
            self.errors.append(f"answering: {error}")
            return self.reply(handler, 500, str(error).encode())
        if self.strip_fingerprint:
            answer = "".join(line for line in answer.splitlines(keepends=True)
                             if not line.startswith("a=fingerprint"))
        self.answer = answer
        self.session_path = f"/whip/session/{uuid.uuid4()}"
        self.reply(handler, 201, answer.encode(),
                   [("Content-Type", "application/sdp"), ("Location", self.session_path)])

    def on_delete(self, handler):
        auth = handler.headers.get("Authorization")
        if self.session_path is None or handler.path != self.session_path:
            self.deletes.append((handler.path, auth, 404))
            return self.reply(handler, 404, b"no such session")
        self.deletes.append((handler.path, auth, 200))
        self.teardown()
        self.reply(handler, 200)

    # --- webrtcbin -------------------------------------------------------------------------
    def answer_offer(self, offer_text):
        self.pipeline = Gst.Pipeline.new("endpoint")
        webrtc = Gst.ElementFactory.make("webrtcbin", "w")
        webrtc.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
        self.pipeline.add(webrtc)
        # Its libnice agent skips loopback by default. Keep the reference (see the interop test).
        self.ice = webrtc.get_property("ice-agent")
        if not self.ice.emit("add-local-ip-address", "127.0.0.1"):
            raise RuntimeError("webrtcbin's ICE agent refused 127.0.0.1")
        webrtc.connect("pad-added", self.on_pad)
        bus = self.pipeline.get_bus()
        bus.enable_sync_message_emission()
        bus.connect("sync-message", self.on_message)
        self.pipeline.set_state(Gst.State.PLAYING)

        ok, sdp = GstSdp.SDPMessage.new_from_text(offer_text)
        if ok != GstSdp.SDPResult.OK:
            raise RuntimeError("the offer is not SDP")
        offer = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.OFFER, sdp)
        promise = Gst.Promise.new()
        webrtc.emit("set-remote-description", offer, promise)
        promise.wait()
        reply = promise.get_reply()
        if reply is not None and reply.has_field("error"):
            raise RuntimeError(f"webrtcbin refused the offer: {reply.get_value('error')}")
        promise = Gst.Promise.new()
        webrtc.emit("create-answer", None, promise)
        promise.wait()
        reply = promise.get_reply()  # kept alive while the answer is used
        answer = reply.get_value("answer") if reply else None
        if answer is None:
            raise RuntimeError(f"webrtcbin made no answer: {reply}")
        promise = Gst.Promise.new()
        webrtc.emit("set-local-description", answer, promise)
        promise.wait()
        # No trickle: the answer carries every candidate.
        deadline = time.monotonic() + GATHER_TIMEOUT_S
        while (webrtc.get_property("ice-gathering-state") !=
               GstWebRTC.WebRTCICEGatheringState.COMPLETE):
            if time.monotonic() > deadline:
                raise RuntimeError("webrtcbin's ICE gathering did not complete")
            time.sleep(0.01)
        return webrtc.get_property("local-description").sdp.as_text()

    def on_message(self, _bus, message):
        if message.type == Gst.MessageType.ERROR:
            err, debug = message.parse_error()
            self.errors.append(f"webrtcbin pipeline: {err.message} ({debug})")

    def on_pad(self, _webrtc, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        caps = pad.get_current_caps() or pad.query_caps(None)
        name = caps.get_structure(0).get_string("encoding-name") if caps.get_size() else None
        if name is None:  # caps not known yet: the transceiver's kind says which m= section
            kind = pad.get_property("transceiver").get_property("kind")
            name = {GstWebRTC.WebRTCKind.VIDEO: "VP8", GstWebRTC.WebRTCKind.AUDIO: "OPUS"}.get(kind)
        log(f"[endpoint] webrtcbin pad-added {pad.get_name()}: {caps.to_string()} -> {name}")
        chains = {"VP8": "rtpvp8depay ! vp8dec", "OPUS": "rtpopusdepay ! opusdec"}
        if name not in chains:
            self.errors.append(f"webrtcbin src pad with unexpected caps {caps.to_string()}")
            return
        tail = Gst.parse_bin_from_description(
            chains[name] + " ! fakesink name=decoded signal-handoffs=true sync=false async=false", True)
        tail.get_by_name("decoded").connect("handoff", self.on_decoded, name)
        self.pipeline.add(tail)
        tail.sync_state_with_parent()
        if pad.link(tail.get_static_pad("sink")) != Gst.PadLinkReturn.OK:
            self.errors.append(f"cannot link webrtcbin's {name} pad")

    def on_decoded(self, _sink, _buffer, _pad, name):
        with self.lock:
            self.decoded[name] += 1

    def teardown(self):
        if self.pipeline is not None:
            self.pipeline.set_state(Gst.State.NULL)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.teardown()


def run_client(url, token, duration=DURATION_S):
    command = [sys.executable, CLIENT, url, "--token", token, "--duration", str(duration),
               "--local-addresses", "127.0.0.1"]
    log("$ " + " ".join(command))
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=CLIENT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, "", f"the client did not exit within {CLIENT_TIMEOUT_S} s"
    for line in (done.stdout + done.stderr).splitlines():
        log("  | " + line)
    return done.returncode, done.stdout, done.stderr


def check(failures, ok, why):
    if not ok:
        failures.append(why)
        log("  FAILED: " + why)


def publish(failures):
    """The client publishes VP8 + Opus for DURATION_S s; the endpoint decodes both."""
    log("--- publish through a 307 redirect, token, VP8 + Opus, DELETE")
    endpoint = Endpoint()
    try:
        rc, _out, err = run_client(endpoint.url + "/whip/redirect", TOKEN)
    finally:
        endpoint.close()
    log(f"[endpoint] decoded: {endpoint.decoded}; POSTs {endpoint.posts}; "
        f"DELETEs {endpoint.deletes}; errors {endpoint.errors}")
    check(failures, rc == 0, f"the client exited {rc}: {err.strip()[-300:]}")
    check(failures, not endpoint.errors, f"endpoint errors: {endpoint.errors}")
    check(failures, [p for p, _, _ in endpoint.posts] == ["/whip/redirect", "/whip/endpoint"],
          f"the 307 redirect was not followed with a POST: {endpoint.posts}")
    check(failures, all(c == "application/sdp" and a == f"Bearer {TOKEN}"
                        for _, c, a in endpoint.posts),
          f"POSTs without Content-Type application/sdp or the bearer token: {endpoint.posts}")
    offer = endpoint.offer or ""
    log("[endpoint] offer:\n" + offer + "[endpoint] answer:\n" + (endpoint.answer or ""))
    for needed in ("m=video ", "m=audio ", "a=group:BUNDLE 0 1", "a=sendonly",
                   "a=end-of-candidates", "a=rtpmap:96 VP8/90000", "a=rtpmap:111 OPUS/48000/2"):
        check(failures, needed in offer, f"the offer has no {needed!r}")
    check(failures, "a=sendrecv" not in offer, "the offer says sendrecv, not sendonly")
    check(failures, endpoint.decoded["VP8"] >= MIN_VIDEO,
          f"the endpoint decoded {endpoint.decoded['VP8']} VP8 frames, need {MIN_VIDEO}")
    check(failures, endpoint.decoded["OPUS"] >= MIN_AUDIO,
          f"the endpoint decoded {endpoint.decoded['OPUS']} Opus buffers, need {MIN_AUDIO}")
    check(failures, endpoint.session_path is not None and
          endpoint.deletes == [(endpoint.session_path, f"Bearer {TOKEN}", 200)],
          f"the session {endpoint.session_path} was not DELETEd once with the token: "
          f"{endpoint.deletes}")


def refused(failures, what, endpoint, token, expect_in_error, expect_delete):
    log(f"--- {what}")
    try:
        rc, _out, err = run_client(endpoint.url + "/whip/endpoint", token, duration=1)
    finally:
        endpoint.close()
    check(failures, rc not in (0, None), f"{what}: the client exited {rc}, expected an error")
    check(failures, expect_in_error in err,
          f"{what}: standard error does not say {expect_in_error!r}: {err.strip()[-300:]}")
    check(failures, "Traceback" not in err, f"{what}: a traceback, not a message")
    deleted = [d for d in endpoint.deletes if d[2] == 200]
    check(failures, bool(deleted) == expect_delete,
          f"{what}: DELETEs {endpoint.deletes}, expected {'one' if expect_delete else 'none'}")
    check(failures, sum(endpoint.decoded.values()) == 0,
          f"{what}: media decoded from a refused session: {endpoint.decoded}")


def main():
    Gst.init(None)
    for factory in ("dtlstransportbin", "webrtcbin", "vp8dec", "opusdec", "rtpfunnel"):
        if not Gst.ElementFactory.find(factory):
            log(f"FAIL: element {factory} not found (GST_PLUGIN_PATH?)")
            return 1
    failures = []
    begin = time.monotonic()
    publish(failures)
    refused(failures, "wrong token -> 401", Endpoint(), "wrong", "HTTP 401 Unauthorized", False)
    refused(failures, "endpoint answers 403", Endpoint(refuse=403), TOKEN, "HTTP 403 Forbidden",
            False)
    refused(failures, "endpoint answers 415", Endpoint(refuse=415), TOKEN,
            "HTTP 415 Unsupported Media Type", False)
    refused(failures, "answer without a=fingerprint", Endpoint(strip_fingerprint=True), TOKEN,
            "apply-sdp-answer refused: no a=fingerprint", True)
    log(f"total {time.monotonic() - begin:.1f} s")
    if failures:
        log("FAIL: " + "; ".join(failures))
        return 1
    log("PASS: VP8 and Opus published through WHIP and decoded by webrtcbin; session DELETEd; "
        "401, 403, 415 and an unusable answer reported")
    return 0


if __name__ == "__main__":
    sys.exit(main())
