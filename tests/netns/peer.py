#!/usr/bin/env python3
"""One side of a call for the netns fault tests: dtlstransportbin with the fully static
configuration of docs/recipes.md (fixed ICE credentials, fixed port, certificate file, the peer's
fingerprint and candidate given here), and cheap media both ways:

  audiotestsrc is-live ! opusenc ! rtpopuspay pt=111 ! t.rtp_sink
  t.rtp_src ! rtpopusdepay ! opusdec ! fakesink   (a pad probe counts the decoded buffers)

It prints one JSON object per line, each with "t" = time.monotonic() (CLOCK_MONOTONIC, the same
clock in every process of the machine, so the test can compare it with its own):
  {"ev": "start"}                                    the pipeline is set to PLAYING (from NULL:
                                                     certificate, gathering, checks, DTLS follow)
  {"ev": "state", "state": NICK}                     every state-changed signal
  {"ev": "ice", "ice": NICK}                         every notify::ice-state
  {"ev": "warning"|"error", "text", "debug"}         bus WARNING / ERROR messages
  {"ev": "element", "structure"}                     bus element messages
  {"ev": "decoding", "decoded": N, "gap": S|null}   the first decoded buffer, and the first
                                                     after a pause of more than GAP_S
  {"ev": "stats", "decoded": N, "stats": {field: value}}   once a second
It runs until SIGINT/SIGTERM or --duration seconds (a bound, should the test die first).
Exit 2 with a message when a requested property does not exist.
"""
import argparse
import json
import signal
import sys
import threading
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

_print_lock = threading.Lock()
GAP_S = 0.5  # a pause in decoding longer than this is reported when decoding resumes


def emit(ev, **fields):
    line = json.dumps({"t": time.monotonic(), "ev": ev, **fields}, default=str)
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def nick(value):
    return getattr(value, "value_nick", None) or str(value)


def structure_dict(structure):
    out = {}
    for i in range(structure.n_fields()):
        name = structure.nth_field_name(i)
        value = structure.get_value(name)
        out[name] = value if isinstance(value, (int, float, str, bool)) or value is None else str(value)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--role", choices=("client", "server"), required=True)
    parser.add_argument("--controlling", action="store_true", help="ICE controlling agent")
    parser.add_argument("--local", required=True, help="local address (the only candidate)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--remote", required=True)
    parser.add_argument("--remote-port", type=int, required=True)
    parser.add_argument("--cert", required=True, help="PEM with certificate and key")
    parser.add_argument("--remote-fingerprint", required=True, help="'sha-256 AB:…'")
    parser.add_argument("--ufrag", required=True)
    parser.add_argument("--pwd", required=True)
    parser.add_argument("--remote-ufrag", required=True)
    parser.add_argument("--remote-pwd", required=True)
    parser.add_argument("--auto-restart", action="store_true",
                        help="set auto-restart=true (only when asked: the property is new)")
    parser.add_argument("--duration", type=float, default=300)
    args = parser.parse_args()

    Gst.init(None)
    pipeline = Gst.parse_launch(
        "dtlstransportbin name=t "
        "audiotestsrc is-live=true wave=ticks ! audioconvert ! audioresample ! opusenc "
        "! rtpopuspay pt=111 ! t.rtp_sink "
        "t.rtp_src ! rtpopusdepay ! opusdec ! fakesink name=sink sync=false async=false")
    t = pipeline.get_by_name("t")
    settings = {
        "role": args.role,
        "ice-controlling": "true" if args.controlling else "false",
        "local-addresses": args.local,
        "min-port": str(args.port),
        "max-port": str(args.port),
        "certificate-file": args.cert,
        "local-ice-ufrag": args.ufrag,
        "local-ice-pwd": args.pwd,
        "remote-ice-ufrag": args.remote_ufrag,
        "remote-ice-pwd": args.remote_pwd,
        "remote-fingerprints": args.remote_fingerprint,
        "remote-candidates":
            f"candidate:1 1 UDP 2130706431 {args.remote} {args.remote_port} typ host",
        "pt-map": "application/x-rtp,media=audio,payload=111,clock-rate=48000,encoding-name=OPUS",
    }
    if args.auto_restart:
        settings["auto-restart"] = "true"
    for name, value in settings.items():
        if t.find_property(name) is None:
            emit("error", text=f"no property {name}", debug="")
            print(f"peer: dtlstransportbin has no property {name}", file=sys.stderr)
            return 2
        Gst.util_set_object_arg(t, name, value)

    decoded = [0]
    last_buffer = [None]

    def count(_pad, info):
        # Runs on the streaming thread: a counter, and one event when decoding (re)starts after
        # a gap, so that the test times a resumption to the buffer rather than to the second.
        decoded[0] += 1
        now = time.monotonic()
        if last_buffer[0] is None or now - last_buffer[0] > GAP_S:
            emit("decoding", decoded=decoded[0],
                 gap=None if last_buffer[0] is None else now - last_buffer[0])
        last_buffer[0] = now
        return Gst.PadProbeReturn.OK

    pipeline.get_by_name("sink").get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, count)

    t.connect("state-changed", lambda _t, state: emit("state", state=nick(state)))
    t.connect("notify::ice-state", lambda t, _p: emit("ice", ice=nick(t.get_property("ice-state"))))

    loop = GLib.MainLoop()

    def on_message(_bus, message):
        if message.type == Gst.MessageType.WARNING:
            error, debug = message.parse_warning()
            emit("warning", text=error.message, debug=debug or "")
        elif message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            emit("error", text=error.message, debug=debug or "")
        elif message.type == Gst.MessageType.ELEMENT:
            structure = message.get_structure()
            emit("element", structure=structure.to_string() if structure else "")

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)

    def stats():
        emit("stats", decoded=decoded[0], state=nick(t.get_property("state")),
             ice=nick(t.get_property("ice-state")),
             stats=structure_dict(t.get_property("stats")))
        return True

    GLib.timeout_add(1000, stats)
    GLib.timeout_add(int(args.duration * 1000), loop.quit)
    for sig in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, loop.quit)

    emit("start")
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        emit("error", text="cannot set the pipeline to PLAYING", debug="")
        return 1
    loop.run()
    stats()
    pipeline.set_state(Gst.State.NULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
