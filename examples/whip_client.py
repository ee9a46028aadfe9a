#!/usr/bin/env python3
"""A WHIP client (RFC 9725): publishes VP8 video and Opus audio to a WHIP endpoint through one
dtlstransportbin. Python standard library (urllib) and PyGObject only.

    GST_PLUGIN_PATH=build/gst python3 examples/whip_client.py https://host/whip/endpoint \\
        [--token TOKEN] [--duration 10] [--local-addresses 192.0.2.10]

What it does, in order:
  1. builds  videotestsrc ! vp8enc ! rtpvp8pay pt=96 \\
                                                   rtpfunnel ! dtlstransportbin
             audiotestsrc ! opusenc ! rtpopuspay pt=111 /
     (one bin, one ICE/DTLS transport: the two RTP streams are BUNDLEd on its rtp_sink, told
     apart by payload type and SSRC);
  2. NULL->READY (certificate, ICE credentials, gathering); once gathering is done, the offer
     from `create-sdp-offer`: one m= section per media, BUNDLE, every candidate and
     a=end-of-candidates (no trickle, so no PATCH is needed), a=sendonly (RFC 9725 §4.2);
  3. POSTs it (Content-Type: application/sdp, `Authorization: Bearer TOKEN` with --token) to the
     endpoint URL, following 307/308 redirects; expects 201 Created with an application/sdp
     answer and a Location header (the WHIP session's URL);
  4. applies the answer with `apply-sdp-answer` (remote ICE credentials and candidates,
     fingerprints, the DTLS role from a=setup, pt-map); the payloaders take the answer's payload
     types; PLAYING;
  5. streams for --duration seconds after DTLS is connected, then sends close_notify (`stop`)
     and DELETEs the session's URL (RFC 9725 §4.3), also after a failure once the session exists
     and on Ctrl-C.

Exit status 0 when all of that happened; otherwise 1 with one line on standard error saying what
went wrong: the HTTP status and reason (and the start of the body) of a refused POST or DELETE,
the element's WARNING for an answer it refused, a timeout.
"""
import argparse
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

PIPELINE = (
    "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 "
    "! vp8enc deadline=1 keyframe-max-dist=30 ! rtpvp8pay name=vp8pay pt=96 ! funnel. "
    "audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample "
    "! opusenc ! rtpopuspay name=opuspay pt=111 ! funnel. "
    "rtpfunnel name=funnel ! whip.rtp_sink "
    "dtlstransportbin name=whip")
# What we send, with the payload types the payloaders use (create-sdp-offer needs `payload`).
# Fields other than the codec's identity become a=fmtp lines, rtcp-fb-* a=rtcp-fb lines.
CODECS = ("application/x-rtp,media=video,payload=96,encoding-name=VP8,clock-rate=90000,"
          "rtcp-fb-nack=(boolean)true,rtcp-fb-nack-pli=(boolean)true;"
          "application/x-rtp,media=audio,payload=111,encoding-name=OPUS,clock-rate=48000,"
          "encoding-params=(string)2,minptime=(string)10,useinbandfec=(string)1")
PAYLOADERS = {"VP8": "vp8pay", "OPUS": "opuspay"}
MAX_REDIRECTS = 5


class WhipError(Exception):
    """Ends the run with this message (and exit status 1)."""


def log(text):
    print(f"whip_client: {text}", flush=True)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib turns a redirected POST into a GET (or refuses it); RFC 9725 §4.5 redirects are
    # 307/308, which keep the method and body: followed by hand in post_offer().
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def http_error_text(method, url, error):
    body = error.read(200).decode("utf-8", "replace").strip()
    return (f"{method} {url}: HTTP {error.code} {error.reason}" +
            (f" ({body})" if body else ""))


def post_offer(url, offer, token, timeout):
    """POSTs the offer; returns (answer, session URL)."""
    headers = {"Content-Type": "application/sdp", "Accept": "application/sdp"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    for _ in range(MAX_REDIRECTS + 1):
        request = urllib.request.Request(url, data=offer.encode(), headers=headers,
                                         method="POST")
        try:
            with OPENER.open(request, timeout=timeout) as response:
                status, reason = response.status, response.reason
                content_type = response.headers.get("Content-Type", "")
                location = response.headers.get("Location")
                body = response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            if error.code in (307, 308) and error.headers.get("Location"):
                url = urllib.parse.urljoin(url, error.headers["Location"])
                log(f"redirected ({error.code}) to {url}")
                continue
            raise WhipError("the WHIP endpoint refused the offer: " +
                            http_error_text("POST", url, error)) from None
        except urllib.error.URLError as error:
            raise WhipError(f"POST {url}: {error.reason}") from None
        if status != 201:
            raise WhipError(f"POST {url}: HTTP {status} {reason}, expected 201 Created "
                            "(RFC 9725 §4.2)")
        if content_type.split(";")[0].strip().lower() != "application/sdp":
            raise WhipError(f"POST {url}: the answer's Content-Type is {content_type!r}, "
                            "not application/sdp")
        if not location:
            raise WhipError(f"POST {url}: 201 Created without a Location header: no WHIP "
                            "session URL to end the session with (RFC 9725 §4.2)")
        return body, urllib.parse.urljoin(url, location)
    raise WhipError(f"POST: more than {MAX_REDIRECTS} redirects")


def delete_session(url, token, timeout):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers, method="DELETE")
    try:
        with OPENER.open(request, timeout=timeout) as response:
            log(f"DELETE {url}: HTTP {response.status} {response.reason}")
    except urllib.error.HTTPError as error:
        raise WhipError("the WHIP session was not ended: " +
                        http_error_text("DELETE", url, error)) from None
    except urllib.error.URLError as error:
        raise WhipError(f"DELETE {url}: {error.reason}") from None


class WhipClient:
    def __init__(self, args):
        self.args = args
        self.pipeline = Gst.parse_launch(PIPELINE)
        self.bin = self.pipeline.get_by_name("whip")
        if args.local_addresses:
            self.bin.set_property("local-addresses", args.local_addresses)
        if args.stun_server:
            self.bin.set_property("stun-server", args.stun_server)
        self.bus = self.pipeline.get_bus()
        self.gathered = threading.Event()
        self.state = "new"  # the last state-changed
        self.state_changed = threading.Condition()
        self.bin.connect("on-gathering-done", lambda _bin: self.gathered.set())
        self.bin.connect("state-changed", self.on_state_changed)
        self.session_url = None

    # Emitted from the element's threads: record and wake the main thread only.
    def on_state_changed(self, _bin, state):
        with self.state_changed:
            self.state = state.value_nick
            self.state_changed.notify_all()

    def bus_problem(self, types=Gst.MessageType.ERROR | Gst.MessageType.WARNING):
        """The first ERROR (or WARNING) waiting on the bus, as text; None if there is none."""
        message = self.bus.pop_filtered(types)
        if message is None:
            return None
        if message.type == Gst.MessageType.ERROR:
            err, _ = message.parse_error()
            return f"error from {message.src.get_name()}: {err.message}"
        err, _ = message.parse_warning()
        return f"{message.src.get_name()}: {err.message}"

    def wait_bus(self, seconds):
        """Waits up to `seconds`; raises on a pipeline ERROR, logs WARNINGs."""
        message = self.bus.timed_pop_filtered(int(seconds * Gst.SECOND),
                                              Gst.MessageType.ERROR | Gst.MessageType.WARNING)
        if message is None:
            return
        if message.type == Gst.MessageType.ERROR:
            err, debug = message.parse_error()
            raise WhipError(f"pipeline error from {message.src.get_name()}: {err.message} "
                            f"({debug})")
        err, _ = message.parse_warning()
        log(f"WARNING from {message.src.get_name()}: {err.message}")

    def offer(self):
        if self.pipeline.set_state(Gst.State.READY) == Gst.StateChangeReturn.FAILURE:
            raise WhipError("the pipeline cannot go to READY: " +
                            (self.bus_problem(Gst.MessageType.ERROR) or "no error posted"))
        # The offer carries every candidate: WHIP's trickle (PATCH) is optional for endpoints.
        deadline = time.monotonic() + self.args.gather_timeout
        while not self.gathered.is_set() and \
                self.bin.get_property("ice-gathering-state").value_nick != "complete":
            if time.monotonic() > deadline:
                raise WhipError(f"ICE gathering not done after {self.args.gather_timeout} s")
            self.wait_bus(0.02)
        candidates = self.bin.get_property("local-candidates")
        if not candidates:
            raise WhipError("no local ICE candidate (check --local-addresses)")
        offer = self.bin.emit("create-sdp-offer", Gst.Caps.from_string(CODECS))
        if offer is None:
            raise WhipError(self.bus_problem(Gst.MessageType.WARNING) or
                            "create-sdp-offer refused")
        # RFC 9725 §4.2: a WHIP client's offer SHOULD be sendonly (the bin writes sendrecv).
        return offer.replace("a=sendrecv\r\n", "a=sendonly\r\n")

    def apply_answer(self, answer):
        if not self.bin.emit("apply-sdp-answer", answer):
            why = self.bus_problem(Gst.MessageType.WARNING) or "apply-sdp-answer refused"
            raise WhipError(f"the endpoint's answer cannot be used: {why}")
        # Send with the payload types the answer lists (RFC 3264 §5.1): pt-map now holds them.
        pt_map = self.bin.get_property("pt-map")
        for i in range(pt_map.get_size()):
            s = pt_map.get_structure(i)
            payloader = PAYLOADERS.get(s.get_string("encoding-name").upper())
            if payloader:
                self.pipeline.get_by_name(payloader).set_property("pt", s.get_value("payload"))
        log(f"answer applied: pt-map {pt_map.to_string()}")

    def stream(self):
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            raise WhipError("the pipeline cannot go to PLAYING: " +
                            (self.bus_problem(Gst.MessageType.ERROR) or "no error posted"))
        deadline = time.monotonic() + self.args.connect_timeout
        while self.state != "connected":
            if self.state == "failed":
                raise WhipError("DTLS failed: see the warnings above")
            if time.monotonic() > deadline:
                raise WhipError(f"not connected after {self.args.connect_timeout} s "
                                f"(DTLS state {self.state}, ICE state "
                                f"{self.bin.get_property('ice-state').value_nick})")
            self.wait_bus(0.05)
        log(f"connected: DTLS {self.bin.get_property('dtls-role').value_nick}, "
            f"{self.bin.get_property('srtp-profile')}; streaming for {self.args.duration} s")
        end = time.monotonic() + self.args.duration
        try:
            while time.monotonic() < end:
                if self.state != "connected":
                    raise WhipError(f"the session went to {self.state} while streaming")
                self.wait_bus(min(0.1, max(0.0, end - time.monotonic())))
        except KeyboardInterrupt:
            log("interrupted: ending the session")
        stats = self.bin.get_property("stats")
        log(f"sent {stats.get_uint64('packets-sent')[1]} SRTP packets "
            f"({stats.get_uint64('bytes-sent')[1]} bytes)")

    def run(self):
        error = None
        try:
            offer = self.offer()
            log(f"POST {self.args.url}")
            answer, self.session_url = post_offer(self.args.url, offer, self.args.token,
                                                  self.args.http_timeout)
            log(f"201 Created: WHIP session {self.session_url}")
            self.apply_answer(answer)
            self.stream()
            self.bin.emit("stop")  # close_notify
        except WhipError as e:
            error = e
        except KeyboardInterrupt:
            error = WhipError("interrupted")
        # Once the session exists it is ended, whatever happened since (RFC 9725 §4.3).
        if self.session_url:
            try:
                delete_session(self.session_url, self.args.token, self.args.http_timeout)
            except WhipError as e:
                if error is None:
                    error = e
                else:
                    log(str(e))
        self.pipeline.set_state(Gst.State.NULL)
        if error is not None:
            raise error
        return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the WHIP endpoint URL")
    parser.add_argument("--token", help="Bearer token (Authorization header, RFC 9725 §4.4)")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds to stream once connected (default 10)")
    parser.add_argument("--local-addresses",
                        help="IPs to gather candidates on (the bin's local-addresses)")
    parser.add_argument("--stun-server", help="stun://host:port, for a server-reflexive candidate")
    parser.add_argument("--gather-timeout", type=float, default=10.0)
    parser.add_argument("--connect-timeout", type=float, default=15.0)
    parser.add_argument("--http-timeout", type=float, default=10.0)
    args = parser.parse_args()
    Gst.init(None)
    for factory in ("dtlstransportbin", "rtpfunnel", "vp8enc", "opusenc"):
        if not Gst.ElementFactory.find(factory):
            print(f"whip_client: error: element {factory} not found"
                  + (" (set GST_PLUGIN_PATH to the build's gst/ directory)"
                     if factory == "dtlstransportbin" else ""), file=sys.stderr)
            return 1
    try:
        status = WhipClient(args).run()
    except WhipError as error:
        print(f"whip_client: error: {error}", file=sys.stderr, flush=True)
        return 1
    log("done")
    return status


if __name__ == "__main__":
    sys.exit(main())
