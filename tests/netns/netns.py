"""Two hosts on one machine for the two-process fault tests (suite 'netns').

NamespacePair makes two network namespaces joined by a veth pair (A = 10.99.0.1, B = 10.99.0.2,
both with lo up) and an nftables table in each, through which faults are injected: loss(ns, pct)
drops that share of the UDP arriving in ns, cut(ns) drops all UDP both ways, heal(ns) removes the
rules. Namespace and interface names are unique per process, so pairs of concurrent tests (or
several pairs in one test) never meet; addresses repeat, since each pair is its own network.

spawn(ns, argv) starts a process inside a namespace in its own session; a thread reads its stdout
and keeps every line with the monotonic time it arrived (lines that are JSON objects are also
kept parsed, see peer.py). Everything started and created is removed by close(), which the
tests call from `finally`; a pair is also a context manager.

Needs root (ip netns, nft), as CI runs.
"""
import itertools
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

ADDRESS_A = "10.99.0.1"
ADDRESS_B = "10.99.0.2"
_counter = itertools.count()


def run(argv, timeout=10):
    """Runs a setup command; its failure is the test's failure, with the command's message."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: exit {result.returncode}: {result.stderr.strip()}")
    return result.stdout


def require_root():
    """Exit 77 (meson: skipped) when the test cannot make namespaces; the CI summary counts a skip
    as a failure, so CI, which runs as root, must run these."""
    if os.geteuid() != 0:
        print("SKIP: the netns tests need root (ip netns, nftables)")
        sys.exit(77)


class Process:
    """A process started by spawn(); its stdout lines are collected by a thread as (time, line)."""

    def __init__(self, name, ns, argv):
        self.name = name
        self.argv = argv
        self.lines = []    # (monotonic time, text)
        self.events = []   # parsed JSON objects, in order
        self._cond = threading.Condition()
        self.started = time.monotonic()
        self.popen = subprocess.Popen(["ip", "netns", "exec", ns] + argv,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, text=True, errors="replace",
                                      start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.popen.stdout:
            now = time.monotonic()
            line = line.rstrip("\n")
            event = None
            if line.startswith("{"):
                try:
                    event = json.loads(line)
                except ValueError:
                    event = None
            with self._cond:
                self.lines.append((now, line))
                if isinstance(event, dict):
                    self.events.append(event)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def alive(self):
        return self.popen.poll() is None

    def wait_for(self, predicate, timeout):
        """Waits (bounded) until predicate(self) is true; returns its last value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(self)
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    return value
                self._cond.wait(min(left, 0.2))

    def snapshot(self):
        with self._cond:
            return list(self.events)

    def text(self):
        with self._cond:
            return "\n".join(line for _, line in self.lines)

    def kill(self, sig=signal.SIGKILL):
        """Sends SIG to the process group (what `ip netns exec` ran replaced itself with the
        command, so the group holds just it and its children)."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self):
        """SIGINT, then SIGKILL; bounded."""
        for sig, wait in ((signal.SIGINT, 3), (signal.SIGKILL, 5)):
            if self.popen.poll() is not None:
                break
            self.kill(sig)
            try:
                self.popen.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        self._reader.join(timeout=2)

    def tail(self, n=40):
        with self._cond:
            return "\n".join(line for _, line in self.lines[-n:])


class NamespacePair:
    """Namespaces A and B, a veth pair between them, nftables tables for the faults."""

    def __init__(self, tag="t"):
        index = next(_counter)
        unique = f"{os.getpid()}-{index}"
        self.a = f"dtn-{tag}-{unique}-a"
        self.b = f"dtn-{tag}-{unique}-b"
        self.address = {self.a: ADDRESS_A, self.b: ADDRESS_B}
        # Interface names: at most 15 characters.
        short = f"{os.getpid() % 100000}{index % 100}"
        veth_a, veth_b = f"va{short}", f"vb{short}"
        self.processes = []
        self._made = []
        try:
            for ns in (self.a, self.b):
                run(["ip", "netns", "add", ns])
                self._made.append(ns)
            run(["ip", "link", "add", veth_a, "netns", self.a, "type", "veth",
                 "peer", "name", veth_b, "netns", self.b])
            for ns, veth in ((self.a, veth_a), (self.b, veth_b)):
                self.ip(ns, "link", "set", "lo", "up")
                self.ip(ns, "addr", "add", self.address[ns] + "/24", "dev", veth)
                self.ip(ns, "link", "set", veth, "up")
                self.nft(ns, "add table inet t")
                self.nft(ns, "add chain inet t in { type filter hook input priority 0 ; }")
                self.nft(ns, "add chain inet t out { type filter hook output priority 0 ; }")
            self.veth = {self.a: veth_a, self.b: veth_b}
            # The veth link takes a moment to come up (no carrier before both ends are up).
            deadline = time.monotonic() + 5
            while "LOWER_UP" not in self.ip(self.a, "link", "show", veth_a):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{veth_a} did not come up")
                time.sleep(0.05)
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def ip(self, ns, *args):
        return run(["ip", "-n", ns] + list(args))

    def nft(self, ns, rule):
        return run(["ip", "netns", "exec", ns, "nft", rule])

    def loss(self, ns, percent):
        """Drops PERCENT % of the UDP datagrams arriving in NS, at random."""
        self.nft(ns, f"add rule inet t in meta l4proto udp numgen random mod 100 < {int(percent)} drop")

    def cut(self, ns):
        """Drops all UDP into and out of NS."""
        self.nft(ns, "add rule inet t in meta l4proto udp drop")
        self.nft(ns, "add rule inet t out meta l4proto udp drop")

    def heal(self, ns):
        """Removes every fault rule of NS."""
        self.nft(ns, "flush chain inet t in")
        self.nft(ns, "flush chain inet t out")

    def spawn(self, ns, argv, name=None):
        process = Process(name or ns, ns, argv)
        self.processes.append(process)
        return process

    def close(self):
        for process in self.processes:
            process.stop()
        for ns in reversed(self._made):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
        self._made = []


def udp_datagram(src, sport, dst, dport, payload):
    """An IPv4 packet carrying one UDP datagram, for a raw socket: the kernel fills in the IP
    checksum (and total length); UDP checksum 0 means none (RFC 768, legal on IPv4)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
    return header + udp


SPOOF_SENDER = r"""
import socket, sys, time
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
data = sys.stdin.buffer.read()
sent = 0
while data:
    size = int.from_bytes(data[:4], "big")
    packet, data = data[4:4 + size], data[4 + size:]
    dst = socket.inet_ntoa(packet[16:20])
    sock.sendto(packet, (dst, 0))
    sent += 1
    time.sleep(0.002)
print(sent)
"""


def spoof(ns, packets, timeout=60):
    """Sends PACKETS (whole IPv4 packets from udp_datagram) from a raw socket inside NS, paced 2 ms
    apart; returns how many were sent."""
    blob = b"".join(len(p).to_bytes(4, "big") + p for p in packets)
    result = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", SPOOF_SENDER],
                            input=blob, capture_output=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"spoof sender failed: {result.stderr.decode(errors='replace')}")
    return int(result.stdout.strip() or 0)


def certificates(directory, sides=("a", "b")):
    """An ECDSA P-256 self-signed certificate + key per side, as docs/recipes.md makes them;
    returns {side: path of the PEM}."""
    paths = {}
    for side in sides:
        key, crt, pem = (os.path.join(directory, f"{side}.{ext}") for ext in ("key", "crt", "pem"))
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "2", "-subj", f"/CN=dtlstransport-{side}", "-keyout", key,
             "-out", crt], timeout=30)
        with open(pem, "w") as out:
            for part in (crt, key):
                with open(part) as f:
                    out.write(f.read())
        paths[side] = pem
    return paths


def fingerprint(pem):
    """'sha-256 AB:CD:…' of the certificate in PEM."""
    out = run(["openssl", "x509", "-in", pem, "-noout", "-fingerprint", "-sha256"])
    return "sha-256 " + out.strip().split("=", 1)[1]


def stats_series(process, field):
    """[(t, value)] of a stats field from the peer's once-a-second stats events."""
    return [(e["t"], e["stats"].get(field)) for e in process.snapshot()
            if e.get("ev") == "stats" and field in e.get("stats", {})]


def last_stats(process):
    for event in reversed(process.snapshot()):
        if event.get("ev") == "stats":
            return event
    return None


def result(name, **values):
    """Prints the line the closing note harvests: RESULT name key=value …"""
    parts = []
    for key, value in values.items():
        if isinstance(value, float):
            value = f"{value:.2f}"
        parts.append(f"{key}={value}")
    print(f"RESULT {name} " + " ".join(parts), flush=True)


PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer.py")
PORT = 40000  # the same fixed port on both hosts: each is its own network


class Call:
    """The two peers of docs/recipes.md's static setup on a NamespacePair: A (10.99.0.1) is the DTLS
    server and ICE controlled, B (10.99.0.2) the DTLS client and ICE controlling, as in the recipe.
    start(side) spawns peer.py in that side's namespace (again, with the same arguments, after a
    kill: a restart)."""

    CREDENTIALS = {"a": ("aaaaufrag", "aaaapassword0123456789AB"),
                   "b": ("bbbbufrag", "bbbbpassword0123456789AB")}

    def __init__(self, pair, directory, auto_restart=False):
        self.pair = pair
        self.ns = {"a": pair.a, "b": pair.b}
        pems = certificates(directory)
        fingerprints = {side: fingerprint(pem) for side, pem in pems.items()}
        self.argv = {}
        for side, other in (("a", "b"), ("b", "a")):
            argv = [sys.executable, PEER,
                    "--role", "server" if side == "a" else "client",
                    "--local", pair.address[self.ns[side]], "--port", str(PORT),
                    "--remote", pair.address[self.ns[other]], "--remote-port", str(PORT),
                    "--cert", pems[side], "--remote-fingerprint", fingerprints[other],
                    "--ufrag", self.CREDENTIALS[side][0], "--pwd", self.CREDENTIALS[side][1],
                    "--remote-ufrag", self.CREDENTIALS[other][0],
                    "--remote-pwd", self.CREDENTIALS[other][1]]
            if side == "b":
                argv.append("--controlling")
            if auto_restart:
                argv.append("--auto-restart")
            self.argv[side] = argv
        self.peers = {}

    def start(self, side):
        self.peers[side] = self.pair.spawn(self.ns[side], self.argv[side], name=side.upper())
        return self.peers[side]

    def role(self, side):
        return "server" if side == "a" else "client"


def events(process, kind, since=0.0):
    return [e for e in process.snapshot() if e.get("ev") == kind and e["t"] >= since]


def first(process, kind, key, value, since=0.0):
    """The time of the first event KIND with KEY == VALUE at or after SINCE, or None."""
    for event in events(process, kind, since):
        if event.get(key) == value:
            return event["t"]
    return None


def decoded_since(process, since):
    """Buffers decoded between the first stats event at or after SINCE and the last one."""
    series = [e for e in events(process, "stats") if e["t"] >= since]
    if len(series) < 2:
        return 0
    return series[-1]["decoded"] - series[0]["decoded"]


def wait_connected(process, timeout, since=0.0):
    """The time `state` became connected (at or after SINCE), waiting at most TIMEOUT s."""
    return process.wait_for(lambda p: first(p, "state", "state", "connected", since), timeout)


def wait_decoding(process, since, timeout, buffers=10):
    """The time of the first stats event showing BUFFERS more decoded buffers than at SINCE."""
    def check(p):
        series = [e for e in events(p, "stats") if e["t"] >= since]
        if len(series) < 2:
            return None
        for event in series[1:]:
            if event["decoded"] - series[0]["decoded"] >= buffers:
                return event["t"]
        return None
    return process.wait_for(check, timeout)


def dump(*processes):
    """Each process's output for a failure report: its events but the once-a-second stats, and
    the last two of those."""
    for process in processes:
        with process._cond:
            lines = list(process.lines)
        stats = [line for _, line in lines if '"ev": "stats"' in line]
        other = [line for _, line in lines if '"ev": "stats"' not in line]
        print(f"--- {process.name}: output without stats (last 40 lines), then the last stats ---")
        print("\n".join(other[-40:] + stats[-2:]))


def finish(problems):
    """Prints each problem and PASS or FAIL; the test's exit status."""
    for problem in problems:
        print(f"problem: {problem}")
    print("PASS" if not problems else "FAIL")
    return 0 if not problems else 1


def install_sigterm_exit():
    """meson stops an overrunning test with SIGTERM: make it SystemExit so `finally` cleans up."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("FAIL: terminated (SIGTERM)"))


def wait_media(process, since, timeout):
    """The time decoding started or resumed at or after SINCE (a `decoding` event: the first
    buffer of the process, or the first after a pause), waiting at most TIMEOUT s; else None."""
    return process.wait_for(lambda p: next((e["t"] for e in events(p, "decoding", since)), None),
                            timeout)


def start_and_connect(call, timeout=20):
    """Starts both peers; returns {name: connected time} once both are connected and decoding,
    or None (after dumping their output)."""
    a, b = call.start("a"), call.start("b")
    connected = {p.name: wait_connected(p, timeout) for p in (a, b)}
    if not all(connected.values()):
        dump(a, b)
        print(f"FAIL: the call did not connect within {timeout} s: {connected}")
        return None
    for p in (a, b):
        if not wait_media(p, 0.0, 10):
            dump(a, b)
            print(f"FAIL: {p.name} decodes no media after connecting")
            return None
    return connected
