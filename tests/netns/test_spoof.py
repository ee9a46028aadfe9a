#!/usr/bin/env python3
"""Spoofed datagrams against a running call cannot end or degrade it (issue 8, item 1).

A (DTLS server) and B (DTLS client) run the static recipe in two namespaces with media both
ways. From B's namespace a raw socket sends, with B's source address and port to A's port, a
battery of forged datagrams: the original bug (epoch 1, sequence ahead of the window, 1–23 byte
bodies, each content type), epoch 0/1/2 records of each content type with bodies of 0–64 bytes,
length fields larger and smaller than the datagram, truncated headers, several records per
datagram, plaintext fatal alerts and close_notify (epochs 0 and 1), a forged epoch-0
ClientHello and HelloRequest, and random SRTP/SRTCP-looking packets. Then the same against B from
A's namespace. libnice passes these on since they come from the selected remote address.

Pass: neither side emits state-changed after `connected` (nor a WARNING), media keeps decoding
both ways after each battery, and the target's `dropped-malformed` rose (and
`dropped-auth-failure` for the SRTP-looking packets).
"""
import os
import random
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402

DTLS12 = 0xFEFD
TYPES = (20, 21, 22, 23)  # change_cipher_spec, alert, handshake, application_data
AHEAD = 1 << 40           # a sequence number far ahead of any replay window


def record(content_type, epoch, seq, body, version=DTLS12, length=None):
    """A DTLS record (RFC 6347 §4.1): type, version, epoch, 48-bit sequence, length, body."""
    return (struct.pack("!BHH", content_type, version, epoch) + seq.to_bytes(6, "big")
            + struct.pack("!H", len(body) if length is None else length) + body)


def handshake(msg_type, body, message_seq=0):
    """A handshake message with its DTLS header (RFC 6347 §4.2.2), unfragmented."""
    n = len(body).to_bytes(3, "big")
    return bytes([msg_type]) + n + struct.pack("!H", message_seq) + b"\0\0\0" + n + body


def client_hello(rng):
    body = (struct.pack("!H", DTLS12) + rng.randbytes(32) + b"\0"  # version, random, session id
            + b"\0"                                                 # cookie
            + struct.pack("!HH", 2, 0xC02B)                         # one cipher suite
            + b"\1\0")                                              # null compression
    return handshake(1, body)


def battery(rng):
    """(category, payload) of every forged datagram."""
    out = []
    # The original bug: epoch 1, ahead of the window, shorter than nonce + tag.
    for content_type in TYPES:
        for size in range(1, 24):
            out.append(("dtls", record(content_type, 1, AHEAD + size, rng.randbytes(size))))
    # Every content type at epochs 0/1/2, bodies 0–64 bytes, sequence ahead or behind.
    for epoch in (0, 1, 2):
        for content_type in TYPES:
            for size in range(0, 65):
                seq = AHEAD + size if size % 2 else size
                out.append(("dtls", record(content_type, epoch, seq, rng.randbytes(size))))
    # Length field larger / smaller than the datagram.
    for content_type in TYPES:
        for epoch in (0, 1):
            body = rng.randbytes(40)
            for length in (41, 60, 1000, 0xFFFF, 39, 24, 1, 0):
                out.append(("dtls", record(content_type, epoch, AHEAD, body, length=length)))
    # Truncated headers (1–12 of the 13 bytes).
    for content_type in TYPES:
        header = record(content_type, 1, AHEAD, b"")[:13]
        for size in range(1, 13):
            out.append(("dtls", header[:size]))
    # Several records in one datagram: valid-looking ones with short and garbage ones.
    for _ in range(40):
        parts = []
        for _ in range(rng.randint(2, 5)):
            parts.append(record(rng.choice(TYPES), rng.choice((0, 1, 2)), AHEAD + rng.randrange(1000),
                                rng.randbytes(rng.randint(0, 64))))
        out.append(("dtls", b"".join(parts)))
    # Unknown versions on otherwise plausible records.
    for version in (0xFEFF, 0x0303, 0xFEFC, 0x0000):
        out.append(("dtls", record(22, 1, AHEAD, rng.randbytes(40), version=version)))
    # Plaintext alerts: fatal (internal_error, handshake_failure, bad_certificate) and close_notify.
    for epoch in (0, 1):
        for alert in (b"\x02\x50", b"\x02\x28", b"\x02\x2a", b"\x01\x00"):
            for seq in (0, 5, AHEAD):
                out.append(("dtls", record(21, epoch, seq, alert)))
    # A forged epoch-0 ClientHello and HelloRequest (RFC 6347 §4.2.8 / RFC 5246 §7.4.1.1).
    for seq in (0, 1, AHEAD):
        out.append(("dtls", record(22, 0, seq, client_hello(rng), version=0xFEFF)))
        out.append(("dtls", record(22, 0, seq, client_hello(rng))))
        out.append(("dtls", record(22, 0, seq, handshake(0, b""))))
        out.append(("dtls", record(22, 1, seq, handshake(0, b""))))
    # Random SRTP (payload type 111) and SRTCP (sender report) looking packets.
    for _ in range(100):
        header = struct.pack("!BBHII", 0x80, 111, rng.randrange(65536), rng.randrange(1 << 32),
                             rng.randrange(1 << 32))
        out.append(("srtp", header + rng.randbytes(rng.randint(20, 200))))
    for _ in range(20):
        header = struct.pack("!BBHI", 0x80, 200, 6, rng.randrange(1 << 32))
        out.append(("srtp", header + rng.randbytes(rng.randint(30, 80))))
    return out


def counter(process, field, after):
    """The FIELD of the first stats event after time AFTER (waits for it, bounded)."""
    def check(p):
        for event in netns.events(p, "stats", after):
            return event
        return None
    event = process.wait_for(check, 5)
    if not event:
        raise RuntimeError(f"{process.name}: no stats after {after}")
    return event["stats"][field], event["t"]


def attack(pair, call, target, source, rng):
    """One battery against TARGET's port from SOURCE's namespace with SOURCE's address/port.
    Returns (numbers, problems)."""
    victim, other = call.peers[target], call.peers[source]
    payloads = battery(rng)
    src, dst = pair.address[call.ns[source]], pair.address[call.ns[target]]
    packets = [netns.udp_datagram(src, netns.PORT, dst, netns.PORT, p) for _, p in payloads]
    before = time.monotonic()
    malformed0, _ = counter(victim, "dropped-malformed", before)
    auth0, _ = counter(victim, "dropped-auth-failure", before)
    start = time.monotonic()
    sent = netns.spoof(call.ns[source], packets)
    end = time.monotonic()
    time.sleep(0.2)
    malformed1, _ = counter(victim, "dropped-malformed", end + 0.1)
    auth1, _ = counter(victim, "dropped-auth-failure", end + 0.1)
    # Media after the battery: 2 s of stats on both sides.
    settle = time.monotonic()
    for peer in (victim, other):
        peer.wait_for(lambda p: len(netns.events(p, "stats", settle)) >= 3, 6)
    decoded_victim = netns.decoded_since(victim, settle)
    decoded_other = netns.decoded_since(other, settle)
    dtls = sum(1 for kind, _ in payloads if kind == "dtls")
    srtp = sum(1 for kind, _ in payloads if kind == "srtp")
    numbers = {
        "target": f"{target.upper()}({call.role(target)})", "sent": sent, "dtls": dtls,
        "srtp": srtp, "seconds": end - start,
        "dropped_malformed": malformed1 - malformed0, "dropped_auth_failure": auth1 - auth0,
        "decoded_after_target": decoded_victim, "decoded_after_other": decoded_other,
    }
    problems = []
    if sent != len(packets):
        problems.append(f"only {sent}/{len(packets)} spoofed packets sent")
    if malformed1 <= malformed0:
        problems.append(f"{victim.name}: dropped-malformed did not rise ({malformed0} -> {malformed1})")
    if auth1 <= auth0:
        problems.append(f"{victim.name}: dropped-auth-failure did not rise ({auth0} -> {auth1})")
    for peer, count in ((victim, decoded_victim), (other, decoded_other)):
        if count < 20:
            problems.append(f"{peer.name}: media stopped decoding after the battery "
                            f"({count} buffers in 2 s)")
    return numbers, problems


def main():
    netns.require_root()
    netns.install_sigterm_exit()
    rng = random.Random(8)
    problems = []
    with tempfile.TemporaryDirectory(prefix="netns-spoof-") as directory, \
            netns.NamespacePair("spoof") as pair:
        call = netns.Call(pair, directory)
        a, b = call.start("a"), call.start("b")
        try:
            connected = {p.name: netns.wait_connected(p, 20) for p in (a, b)}
            if not all(connected.values()):
                netns.dump(a, b)
                print(f"FAIL: the call did not connect: {connected}")
                return 1
            since = max(connected.values())
            for p in (a, b):
                if not netns.wait_decoding(p, since, 10):
                    netns.dump(a, b)
                    print(f"FAIL: {p.name} decodes no media before the attack")
                    return 1
            for target, source in (("a", "b"), ("b", "a")):
                numbers, found = attack(pair, call, target, source, rng)
                netns.result(f"spoof-{target}", **numbers)
                problems += found
            for p in (a, b):
                after = [e["state"] for e in netns.events(p, "state", connected[p.name] + 1e-9)]
                if after:
                    problems.append(f"{p.name}: state changed after connected: {after}")
                warnings = [e["text"] for e in netns.events(p, "warning") + netns.events(p, "error")]
                if warnings:
                    problems.append(f"{p.name}: {warnings}")
                if not p.alive():
                    problems.append(f"{p.name}: exited ({p.popen.returncode})")
            ice = {p.name: [e["ice"] for e in netns.events(p, "ice")] for p in (a, b)}
            print(f"ice-state transitions: {ice}")
        finally:
            if problems:
                netns.dump(a, b)
    return netns.finish(problems)


if __name__ == "__main__":
    sys.exit(main())
