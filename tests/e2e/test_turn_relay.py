#!/usr/bin/env python3
"""TURN relay and STUN: dtlstransportbin's turn-server / stun-server against a real coturn.

The test starts Debian's coturn (`turnserver`, package coturn) on 127.0.0.1 with a free port and one
long-term-credential user (RFC 8489 §9.2, RFC 8656 §3.1) and runs three cases, two bins in one
process each time, both with local-addresses=127.0.0.1:

  relay      turn-server=turn://u:p@127.0.0.1:PORT. Only the candidates announced as "typ relay"
             are handed to the peer, and each NiceAgent (`ice-agent`) gets force-relay, so only
             pairs whose local end is the relay are checked: all traffic goes through coturn. Pass
             when both bins gathered, are connected, 50 RTP packets (appsrc -> SRTP -> appsink,
             checked byte for byte) arrived each way, each bin's selected local-candidate (stats)
             is its relay candidate, and coturn logged the two allocations.
  stun+turn  the same plus stun-server=stun://127.0.0.1:PORT (the test first checks that coturn
             answers Binding requests). On loopback there is no NAT: the server-reflexive address
             equals the host candidate's, so libnice drops it as redundant (RFC 8445 §5.1.3) and
             no "typ srflx" is announced. The case asserts that coturn answered a Binding request
             from each agent (the stun-server was used) and that media flows, without
             force-relay: ICE may then pick a direct pair (see relay_case), so the selected pair's
             type is only printed.
  bad-pass   turn-server=turn://u:WRONG@...: coturn answers 401, libnice gives up silently (no
             signal, no error): gathering completes with the host candidate only, coturn's log
             shows the 401s (so the server was reached) and no successful allocation, and the
             element posts a warning saying the TURN server gave no relay candidate (without the
             password).

coturn is killed (its process group) at the end, and by the kernel if this process dies first.
Skipped (exit 77) when `turnserver` is not installed.
"""
import ctypes
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

USER, PASSWORD, REALM = "u", "p", "test"
PACKETS = 50  # RTP packets to receive each way
CASE_DEADLINE_S = 30
GATHER_DEADLINE_S = 15
SKIP = 77  # meson's "skipped" exit code


def log(*args):
    print(*args, flush=True)


# --- coturn ------------------------------------------------------------------------------------

def free_port():
    """A port free on 127.0.0.1 for both UDP and TCP (coturn listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free port on 127.0.0.1")


def stun_binding(port, timeout_s):
    """Sends RFC 8489 Binding requests to 127.0.0.1:port until one is answered; returns the
    XOR-MAPPED-ADDRESS (ip, port) of the success response, or None after timeout_s."""
    magic = 0x2112A442
    deadline = time.monotonic() + timeout_s
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(0.2)
        while time.monotonic() < deadline:
            transaction = os.urandom(12)
            sock.sendto(struct.pack("!HHI", 0x0001, 0, magic) + transaction, ("127.0.0.1", port))
            try:
                data, _ = sock.recvfrom(2048)
            except (socket.timeout, ConnectionRefusedError):
                continue
            if len(data) < 20:
                continue
            kind, length, cookie = struct.unpack_from("!HHI", data)
            if kind != 0x0101 or cookie != magic or data[8:20] != transaction:
                continue
            offset = 20
            while offset + 4 <= min(len(data), 20 + length):
                attr, attr_len = struct.unpack_from("!HH", data, offset)
                if attr == 0x0020 and attr_len >= 8:  # XOR-MAPPED-ADDRESS (IPv4)
                    xport = struct.unpack_from("!H", data, offset + 6)[0] ^ (magic >> 16)
                    xaddr = struct.unpack_from("!I", data, offset + 8)[0] ^ magic
                    return socket.inet_ntoa(struct.pack("!I", xaddr)), xport
                offset += 4 + (attr_len + 3) // 4 * 4
    return None


def die_with_parent():
    """In the child, before exec: SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG = 1)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)


class Coturn:
    def __init__(self, directory):
        self.port = free_port()
        self.log_path = os.path.join(directory, "turnserver.log")
        args = [
            "turnserver", "-n",  # -n: no configuration file, only these options
            "-v",  # one log line per request (without it coturn logs no request at all)
            "--listening-ip=127.0.0.1", f"--listening-port={self.port}",
            "--relay-ip=127.0.0.1",
            # coturn refuses loopback peers by default (RFC 8656 §21.2 advice): both agents are.
            "--allow-loopback-peers",
            "--lt-cred-mech", f"--user={USER}:{PASSWORD}", f"--realm={REALM}",
            "--no-tls", "--no-dtls", "--no-cli", "--log-binding",
            # Not the system's /var/run/turnserver.pid and /var/lib/turn/turndb.
            f"--pidfile={os.path.join(directory, 'turnserver.pid')}",
            f"--userdb={os.path.join(directory, 'turndb')}",
            "--log-file=stdout", "--simple-log",
        ]
        self.log_file = open(self.log_path, "wb")
        # Its own process group, killed as one in stop(); and killed by the kernel if this process
        # dies first (G_DEBUG=fatal-criticals aborts without running `finally`).
        self.process = subprocess.Popen(args, stdout=self.log_file, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True,
                                        preexec_fn=die_with_parent)
        log(f"coturn: pid {self.process.pid} on 127.0.0.1:{self.port}")

    def wait_ready(self):
        """coturn answers a Binding request: it listens and speaks STUN."""
        mapped = stun_binding(self.port, 10)
        if mapped is None:
            raise RuntimeError(f"coturn did not answer a STUN Binding request within 10 s "
                               f"(exit code {self.process.poll()}); log:\n{self.log()}")
        log(f"coturn: answers Binding requests (mapped address {mapped[0]}:{mapped[1]})")

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            if self.process.poll() is not None:
                break
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(5)
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue
        self.log_file.close()


# --- two bins ----------------------------------------------------------------------------------

SIDE = ("appsrc name={name}_src is-live=true format=time do-timestamp=true "
        "caps=\"application/x-rtp,media=application,payload=96,clock-rate=90000,"
        "encoding-name=X-TEST\" ! {name}.rtp_sink "
        "dtlstransportbin name={name} local-addresses=127.0.0.1 ice-controlling={controlling} "
        "{servers} "
        "{name}.rtp_src ! appsink name={name}_sink emit-signals=true sync=false ")


def rtp_packet(ssrc, seq):
    """An RTP packet (RFC 3550 §5.1) whose payload says who sent it and which one it is."""
    payload = f"relay-test ssrc={ssrc:08x} seq={seq:05d} ".encode() * 8
    return struct.pack("!BBHII", 0x80, 96, seq & 0xFFFF, seq * 3000, ssrc) + payload


def candidate_type(line):
    match = re.search(r" typ (\w+)", line or "")
    return match.group(1) if match else None


class TwoBins:
    """Two bins, trickling to each other only the local candidates whose type is in `forward`."""

    NAMES = ("offerer", "answerer")
    SSRC = {"offerer": 0x11111111, "answerer": 0x22222222}

    def __init__(self, servers, forward, force_relay=False):
        self.forward = forward
        self.force_relay = force_relay
        self.loop = GLib.MainLoop()
        self.outcome = None
        self.pipeline = Gst.parse_launch(
            SIDE.format(name="offerer", controlling="true", servers=servers) +
            SIDE.format(name="answerer", controlling="false", servers=servers))
        self.bins = {n: self.pipeline.get_by_name(n) for n in self.NAMES}
        self.srcs = {n: self.pipeline.get_by_name(n + "_src") for n in self.NAMES}
        self.candidates = {n: [] for n in self.NAMES}  # all announced, forwarded or not
        self.gathered = set()
        self.connected = set()
        self.received = {n: set() for n in self.NAMES}  # seqs that arrived at bin n intact
        self.corrupt = {n: 0 for n in self.NAMES}
        self.warnings = []
        self.seq = 0
        for name, element in self.bins.items():
            peer = self.bins[self.other(name)]
            element.connect("state-changed", self.on_state_changed, name)
            element.connect("on-local-candidate", self.on_local_candidate, name, peer)
            element.connect("on-gathering-done", self.on_gathering_done, name)
            self.pipeline.get_by_name(name + "_sink").connect("new-sample", self.on_sample, name)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)

    @staticmethod
    def other(name):
        return "answerer" if name == "offerer" else "offerer"

    def finish(self, ok, why):
        if self.outcome is None:
            self.outcome = (ok, why)
            self.loop.quit()
        return GLib.SOURCE_REMOVE

    # Signal handlers run on libnice's and the streaming threads: touch only the bins and hop to
    # the main loop for the rest.
    def on_state_changed(self, _element, state, name):
        log(f"[{name}] state-changed: {state.value_nick}")
        if state.value_nick == "connected":
            GLib.idle_add(self.add_to, self.connected, name)
        elif state.value_nick in ("failed", "closed"):
            GLib.idle_add(self.finish, False, f"{name} went to {state.value_nick}")

    @staticmethod
    def add_to(names, name):
        names.add(name)
        return GLib.SOURCE_REMOVE

    def on_local_candidate(self, _element, candidate, name, peer):
        forwarded = candidate_type(candidate) in self.forward
        log(f"[{name}] on-local-candidate{'' if forwarded else ' (not forwarded)'}: {candidate}")
        self.candidates[name].append(candidate)
        if forwarded and not peer.emit("add-remote-candidate", candidate):
            GLib.idle_add(self.finish, False, f"{self.other(name)} refused {candidate}")

    def on_gathering_done(self, _element, name):
        log(f"[{name}] on-gathering-done")
        GLib.idle_add(self.add_to, self.gathered, name)

    def on_sample(self, sink, name):
        buffer = sink.emit("pull-sample").get_buffer()
        data = buffer.extract_dup(0, buffer.get_size())
        seq = struct.unpack_from("!H", data, 2)[0] if len(data) >= 12 else -1
        if data == rtp_packet(self.SSRC[self.other(name)], seq):
            self.received[name].add(seq)
        else:
            self.corrupt[name] += 1
        return Gst.FlowReturn.OK

    def on_message(self, _bus, message):
        if message.type == Gst.MessageType.ERROR:
            err, debug = message.parse_error()
            self.finish(False, f"error from {message.src.get_name()}: {err.message} ({debug})")
        elif message.type == Gst.MessageType.WARNING:
            err, _ = message.parse_warning()
            self.warnings.append(f"{message.src.get_name()}: {err.message}")
            log(f"WARNING from {message.src.get_name()}: {err.message}")

    def start(self):
        """NULL->READY (gathering starts), then the signalling: credentials and fingerprints."""
        if self.pipeline.set_state(Gst.State.READY) == Gst.StateChangeReturn.FAILURE:
            raise RuntimeError("cannot go to READY (is GST_PLUGIN_PATH set?)")
        for name, element in self.bins.items():
            peer = self.bins[self.other(name)]
            peer.set_property("remote-ice-ufrag", element.get_property("local-ice-ufrag"))
            peer.set_property("remote-ice-pwd", element.get_property("local-ice-pwd"))
            peer.set_property("remote-fingerprints", element.get_property("local-fingerprint"))
            if self.force_relay:
                # Pairs are formed from READY->PAUSED on: only ones whose local end is relayed.
                agent = element.get_property("ice-agent")
                agent.set_property("force-relay", True)
                if not agent.get_property("force-relay"):
                    raise RuntimeError("the NiceAgent has no working force-relay property")

    def run_until(self, deadline_s, tick, why_late):
        """Runs the main loop, calling tick() every 10 ms, until finish() or deadline_s."""
        deadline = time.monotonic() + deadline_s

        def poll():
            if time.monotonic() > deadline:
                self.finish(False, why_late)
            else:
                tick()
            return GLib.SOURCE_CONTINUE

        source = GLib.timeout_add(10, poll)
        self.loop.run()
        GLib.source_remove(source)
        return self.outcome

    def send(self):
        """One RTP packet each way per tick (the bins drop and count them until keys exist)."""
        for name in self.NAMES:
            self.srcs[name].emit("push-buffer",
                                 Gst.Buffer.new_wrapped(rtp_packet(self.SSRC[name], self.seq)))
        self.seq += 1
        everyone = set(self.NAMES)
        if self.gathered == everyone and self.connected == everyone and all(
                len(r) >= PACKETS for r in self.received.values()):
            self.finish(True, f"gathered, connected, >= {PACKETS} RTP packets received intact "
                        "each way")

    def run_media(self):
        """Until both bins gathered, connected and received PACKETS, or CASE_DEADLINE_S."""
        self.start()
        self.pipeline.set_state(Gst.State.PLAYING)
        outcome = self.run_until(CASE_DEADLINE_S, self.send, f"timeout after {CASE_DEADLINE_S} s")
        return outcome, {n: self.bins[n].get_property("stats") for n in self.NAMES}

    def run_gathering(self):
        """Until both bins finished gathering, or GATHER_DEADLINE_S (the bins stay in READY)."""
        self.start()

        def tick():
            if self.gathered == set(self.NAMES):
                self.finish(True, "gathering done on both bins")

        return self.run_until(GATHER_DEADLINE_S, tick,
                              f"gathering not done after {GATHER_DEADLINE_S} s")

    def stop(self):
        self.pipeline.set_state(Gst.State.NULL)
        self.pipeline.get_bus().remove_signal_watch()


# --- cases -------------------------------------------------------------------------------------

def types(candidates):
    return sorted(candidate_type(c) for c in candidates)


def relay_case(coturn, with_stun):
    servers = f"turn-server=turn://{USER}:{PASSWORD}@127.0.0.1:{coturn.port}"
    if with_stun:
        servers += f" stun-server=stun://127.0.0.1:{coturn.port}"
    log_before = len(coturn.log())
    # Without force-relay, ICE on loopback may well pick a direct pair: a check arriving through
    # the relay shows the peer's host address as a peer-reflexive candidate (RFC 8445 §7.3.1.3),
    # and that address is reachable. force-relay (set on the agent from `ice-agent`) makes the
    # relay the only way; the stun+turn case runs without it.
    two = TwoBins(servers, forward={"relay"}, force_relay=not with_stun)
    try:
        (ok, why), stats = two.run_media()
    finally:
        two.stop()
    errors = [] if ok else [why]
    for side in two.NAMES:
        got = types(two.candidates[side])
        log(f"[{side}] candidate types {got}; received {len(two.received[side])} packets intact, "
            f"{two.corrupt[side]} corrupt")
        if got.count("relay") != 1 or "host" not in got:
            errors.append(f"{side}: expected a host and one relay candidate, got {got}")
        if two.corrupt[side]:
            errors.append(f"{side}: {two.corrupt[side]} packets differ from what was sent")
        local = stats[side].get_value("local-candidate")
        remote = stats[side].get_value("remote-candidate")
        log(f"[{side}] selected local  {local!r}\n[{side}] selected remote {remote!r}")
        if not with_stun and candidate_type(local) != "relay":
            errors.append(f"{side}: the selected local candidate is not our relay: {local!r}")
        if not with_stun and candidate_type(remote) not in ("relay", "prflx"):
            errors.append(f"{side}: the selected remote candidate is {remote!r}")
    if two.warnings:
        errors.append(f"unexpected warnings: {two.warnings}")
    server_log = coturn.log()[log_before:]
    allocations = len(re.findall(r"ALLOCATE processed, success", server_log))
    log(f"coturn: {allocations} successful Allocate requests")
    if allocations < 2:
        errors.append(f"coturn logged {allocations} successful Allocate, expected >= 2")
    if with_stun:
        # The Binding requests of the agents (ours in wait_ready() came before log_before).
        bindings = len(re.findall(r"BINDING processed, success", server_log))
        srflx = sum(types(two.candidates[s]).count("srflx") for s in two.NAMES)
        log(f"coturn: {bindings} Binding requests answered; srflx candidates announced: {srflx}")
        if bindings < 2:
            errors.append(f"coturn answered {bindings} Binding requests, expected >= 2 (one per "
                          "agent): stun-server not used")
    return errors


def bad_password_case(coturn):
    servers = f"turn-server=turn://{USER}:wrong-{PASSWORD}@127.0.0.1:{coturn.port}"
    log_before = len(coturn.log())
    two = TwoBins(servers, forward=set())
    try:
        ok, why = two.run_gathering()
    finally:
        two.stop()
    errors = [] if ok else [why]
    for side in two.NAMES:
        got = types(two.candidates[side])
        log(f"[{side}] candidate types {got}")
        if got != ["host"]:
            errors.append(f"{side}: expected only the host candidate, got {got}")
    server_log = coturn.log()[log_before:]
    # What libnice 0.1.21 does here (NICE_DEBUG=all): it never answers coturn's 401 challenge
    # with an authenticated Allocate, it retransmits the first one until "bind discovery timed
    # out" (~2 s); with the right password it does (the relay case). Either way: no allocation.
    refused = re.findall(r".*processed, error 401.*", server_log)
    log(f"coturn: {len(refused)} requests refused with 401, e.g. {refused[:1]}")
    if len(refused) < 2:
        errors.append(f"coturn refused {len(refused)} requests with 401, expected >= 2 (one per "
                      "agent): was the TURN server contacted at all?")
    if re.search(r"ALLOCATE processed, success", server_log):
        errors.append("coturn accepted an Allocate with the wrong password")
    log(f"warnings posted: {two.warnings or 'none'}")
    # libnice is silent about the failed allocation; the element says it, without the password.
    for side in two.NAMES:
        said = [w for w in two.warnings if w.startswith(side) and "no relay candidate" in w]
        if not said:
            errors.append(f"{side}: no warning that the TURN server gave no relay candidate")
    if any("wrong-p" in w for w in two.warnings):
        errors.append("a warning shows the TURN password")
    return errors


def main():
    Gst.init(None)
    if not Gst.ElementFactory.find("dtlstransportbin"):
        log("FAILURE: dtlstransportbin not found: set GST_PLUGIN_PATH to the build's gst/ dir")
        return 1
    if not shutil.which("turnserver"):
        log("SKIP: turnserver not found (Debian package coturn)")
        return SKIP
    failures = []
    with tempfile.TemporaryDirectory(prefix="turn-relay-") as directory:
        coturn = Coturn(directory)
        try:
            coturn.wait_ready()
            for case, run in (("relay", lambda: relay_case(coturn, False)),
                              ("stun+turn", lambda: relay_case(coturn, True)),
                              ("bad-pass", lambda: bad_password_case(coturn))):
                log(f"=== case {case}")
                errors = run()
                log(f"--- case {case}: {'FAIL' if errors else 'PASS'}")
                for error in errors:
                    log(f"    {error}")
                if errors:
                    failures.append(case)
        finally:
            coturn.stop()
            if failures:
                log("coturn log:\n" + coturn.log())
    if failures:
        log(f"FAILURE: {', '.join(failures)}")
        return 1
    log("SUCCESS: relay, stun+turn, bad-pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
