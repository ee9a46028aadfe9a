// The physical floor of figure 2 (issue 12): the element's data-path work done by a plain program
// with nothing in between — libsrtp2 and raw UDP sockets on 127.0.0.1, no GStreamer, no libnice,
// no ICE — so that every figure-2 number of ours can be read as a fraction of what this machine
// can do at all, in the same run.
//
// Per packet: the application's 1200-byte RTP packet written (12-byte header + 1188 bytes of
// 0xab, a 90 kHz timestamp that follows real time, as bench_element's packets), srtp_protect in
// place, sent; received, srtp_unprotect in place, counted. The SRTP contexts are set up as the
// element's core sets them up (src/srtp_session.cpp: wildcard SSRC, replay window 1024,
// allow_repeat_tx), with the same fixed key bytes as figure 2's srtpenc/srtpdec anchor. Both
// sockets get SO_RCVBUF and SO_SNDBUF of 1 MiB, the element's `socket-buffer-size` default.
//
// Modes, for GCM-128 and CM_80:
//   paced single   one thread protects and sends one packet per tick (sendmmsg of 1) at 15 000
//                  pkt/s, another blocks in recvmmsg (MSG_WAITFORONE, up to 64) and unprotects
//                  what it got: figure 2's "single, paced" at the same rate.
//   paced lists    the same with a burst of 32 per tick (one sendmmsg of 32), 15 000 pkt/s:
//                  figure 2's "lists of 32, paced".
//   flat out       one thread: write and protect 32, sendmmsg, recvmmsg (non-blocking) until
//                  the socket is empty, unprotect; as fast as it goes.
// Each mode on fresh sockets and fresh SRTP contexts. CPU = getrusage(RUSAGE_SELF) around the
// run (both threads, joined before the second reading), context switches = voluntary +
// involuntary of the same readings, per packet received — figure 2 measures ours and the
// anchors the same way. Wall = first send to last packet received.
//
// Output: rows (figure 7) plus `metric` lines that bench/run joins with bench_element's to print
// ours / floor. Usage: bench_floor [--quick]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <srtp2/srtp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.hpp"

namespace {

constexpr size_t kRtpSize = 1200;  // as bench_element: the whole RTP packet
constexpr size_t kSlot = kRtpSize + SRTP_MAX_TRAILER_LEN;
constexpr uint32_t kSsrc = 0x11223344;
constexpr int kListSize = 32;    // figure 2's list length
constexpr double kRate = 15000;  // figure 2's paced rate (kCostRate), pkt/s
constexpr int kRecvBatch = 64;
constexpr int kSocketBuffer = 1 << 20;  // the element's socket-buffer-size default

struct Profile {
  const char* name;
  bool gcm;
};
const Profile kGcm{"GCM-128", true};
const Profile kCm80{"CM_80", false};

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "bench_floor: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

int64_t mono_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000000000 + now.tv_nsec;
}

struct Usage {
  double cpu = 0;
  long switches = 0;  // voluntary + involuntary context switches
};

Usage usage(int who) {
  rusage r{};
  getrusage(who, &r);
  Usage u;
  u.cpu = static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
          static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1e-6;
  u.switches = r.ru_nvcsw + r.ru_nivcsw;
  return u;
}

srtp_t make_session(const Profile& profile, bool outbound) {
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof policy);
  if (profile.gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  } else {
    srtp_crypto_policy_set_rtp_default(&policy.rtp);
    srtp_crypto_policy_set_rtcp_default(&policy.rtcp);
  }
  static unsigned char key[SRTP_MAX_KEY_LEN];
  std::memset(key, 0x5a, sizeof key);  // figure 2's anchor key bytes
  policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy.key = key;
  policy.window_size = 1024;
  policy.allow_repeat_tx = 1;
  srtp_t session = nullptr;
  if (srtp_create(&session, &policy) != srtp_err_status_ok) {
    std::fprintf(stderr, "bench_floor: srtp_create(%s) failed\n", profile.name);
    std::exit(1);
  }
  return session;
}

int make_socket() {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  for (int option : {SO_RCVBUF, SO_SNDBUF})
    if (setsockopt(fd, SOL_SOCKET, option, &kSocketBuffer, sizeof kSocketBuffer) != 0)
      die("setsockopt");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) die("bind");
  return fd;
}

// A sender socket connected to a receiver socket, and both directions' SRTP contexts.
struct Link {
  int tx = make_socket();
  int rx = make_socket();
  srtp_t protect;
  srtp_t unprotect;
  explicit Link(const Profile& profile)
      : protect(make_session(profile, true)), unprotect(make_session(profile, false)) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    if (getsockname(rx, reinterpret_cast<sockaddr*>(&address), &length) != 0) die("getsockname");
    if (connect(tx, reinterpret_cast<sockaddr*>(&address), length) != 0) die("connect");
    // The receiver thread's way out when the sender is done and packets were lost.
    timeval timeout{0, 300000};
    if (setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) die("setsockopt");
  }
  ~Link() {
    srtp_dealloc(protect);
    srtp_dealloc(unprotect);
    close(tx);
    close(rx);
  }
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;
};

// `count` packet slots with their iovecs and mmsghdrs, for sendmmsg or recvmmsg.
struct Batch {
  std::vector<uint8_t> bytes;
  std::vector<iovec> iov;
  std::vector<mmsghdr> msgs;
  explicit Batch(int count) : bytes(kSlot * count), iov(count), msgs(count) {
    for (int i = 0; i < count; ++i) {
      iov[i].iov_base = slot(i);
      iov[i].iov_len = kSlot;
      std::memset(&msgs[i], 0, sizeof msgs[i]);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
  }
  uint8_t* slot(int i) { return bytes.data() + kSlot * static_cast<size_t>(i); }
};

// Writes the application's packet (bench_element's make_packet) and protects it in place.
void write_and_protect(srtp_t session, Batch& batch, int i, uint16_t seq) {
  uint8_t* p = batch.slot(i);
  std::memset(p + 12, 0xab, kRtpSize - 12);
  p[0] = 0x80;
  p[1] = 96;
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  const uint32_t rtp_ts = static_cast<uint32_t>(mono_ns() / 100000 * 9);
  for (int k = 0; k < 4; ++k) {
    p[4 + k] = static_cast<uint8_t>(rtp_ts >> (24 - 8 * k));
    p[8 + k] = static_cast<uint8_t>(kSsrc >> (24 - 8 * k));
  }
  int length = static_cast<int>(kRtpSize);
  if (srtp_protect(session, p, &length) != srtp_err_status_ok) {
    std::fprintf(stderr, "bench_floor: srtp_protect failed\n");
    std::exit(1);
  }
  batch.iov[i].iov_len = static_cast<size_t>(length);
}

void send_all(int fd, Batch& batch, int n) {
  for (int done = 0; done < n;) {
    const int r = sendmmsg(fd, batch.msgs.data() + done, static_cast<unsigned>(n - done), 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      die("sendmmsg");
    }
    done += r;
  }
}

// Unprotects the r datagrams recvmmsg put in `batch`; returns how many authenticated.
uint64_t unprotect_all(srtp_t session, Batch& batch, int r, uint64_t& failures) {
  uint64_t ok = 0;
  for (int i = 0; i < r; ++i) {
    int length = static_cast<int>(batch.msgs[i].msg_len);
    if (srtp_unprotect(session, batch.slot(i), &length) == srtp_err_status_ok &&
        length == static_cast<int>(kRtpSize)) {
      ++ok;
    } else {
      ++failures;
    }
  }
  return ok;
}

struct Result {
  uint64_t sent = 0, received = 0, failures = 0;
  double wall = 0, cpu = 0, sender_cpu = 0, receiver_cpu = 0;
  long switches = 0;
  double pps() const { return wall > 0 ? static_cast<double>(received) / wall : 0; }
  double per_cpu_second() const { return cpu > 0 ? static_cast<double>(received) / cpu : 0; }
  double loss_pct() const {
    return sent > 0 ? 100.0 * static_cast<double>(sent - received) / static_cast<double>(sent) : 0;
  }
  double switches_per_packet() const {
    return received > 0 ? static_cast<double>(switches) / static_cast<double>(received) : 0;
  }
};

// Two threads: this one sends `packets` in bursts of `burst` paced at `rate`; a receiver thread
// blocks in recvmmsg and unprotects.
Result paced(const Profile& profile, int packets, int burst, double rate) {
  Link link(profile);
  Result result;
  std::atomic<bool> sender_done{false};
  std::atomic<int64_t> last_received_ns{0};
  const Usage before = usage(RUSAGE_SELF);
  const int64_t t0 = mono_ns();
  std::thread receiver([&] {
    const Usage start = usage(RUSAGE_THREAD);
    Batch batch(kRecvBatch);
    while (result.received < static_cast<uint64_t>(packets)) {
      for (int i = 0; i < kRecvBatch; ++i) batch.iov[i].iov_len = kSlot;
      const int r = recvmmsg(link.rx, batch.msgs.data(), kRecvBatch, MSG_WAITFORONE, nullptr);
      if (r < 0) {
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && sender_done.load()) break;  // quiet
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
        die("recvmmsg");
      }
      result.received += unprotect_all(link.unprotect, batch, r, result.failures);
      last_received_ns.store(mono_ns(), std::memory_order_relaxed);
    }
    result.receiver_cpu = usage(RUSAGE_THREAD).cpu - start.cpu;
  });
  {
    const Usage start = usage(RUSAGE_THREAD);
    Batch batch(burst);
    uint16_t seq = 1;
    for (int sent = 0; sent < packets;) {
      const int64_t due = t0 + static_cast<int64_t>(sent / rate * 1e9);
      if (due > mono_ns()) {
        const timespec at{static_cast<time_t>(due / 1000000000),
                          static_cast<long>(due % 1000000000)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
        }
      }
      const int n = std::min(burst, packets - sent);
      for (int i = 0; i < n; ++i) write_and_protect(link.protect, batch, i, seq++);
      send_all(link.tx, batch, n);
      sent += n;
    }
    result.sent = static_cast<uint64_t>(packets);
    result.sender_cpu = usage(RUSAGE_THREAD).cpu - start.cpu;
    sender_done = true;
  }
  receiver.join();
  const Usage after = usage(RUSAGE_SELF);
  result.cpu = after.cpu - before.cpu;
  result.switches = after.switches - before.switches;
  result.wall = static_cast<double>(last_received_ns.load() - t0) * 1e-9;
  return result;
}

// One thread, flat out: write and protect a list, sendmmsg it, drain the receiving socket with
// non-blocking recvmmsg and unprotect, again.
Result flat_out(const Profile& profile, int packets) {
  Link link(profile);
  Result result;
  Batch out(kListSize);
  Batch in(kRecvBatch);
  auto drain = [&] {
    for (;;) {
      for (int i = 0; i < kRecvBatch; ++i) in.iov[i].iov_len = kSlot;
      const int r = recvmmsg(link.rx, in.msgs.data(), kRecvBatch, MSG_DONTWAIT, nullptr);
      if (r <= 0) return;
      result.received += unprotect_all(link.unprotect, in, r, result.failures);
    }
  };
  const Usage before = usage(RUSAGE_SELF);
  const int64_t t0 = mono_ns();
  uint16_t seq = 1;
  for (int sent = 0; sent < packets;) {
    const int n = std::min(kListSize, packets - sent);
    for (int i = 0; i < n; ++i) write_and_protect(link.protect, out, i, seq++);
    send_all(link.tx, out, n);
    sent += n;
    drain();
  }
  drain();
  const int64_t t1 = mono_ns();
  const Usage after = usage(RUSAGE_SELF);
  result.sent = static_cast<uint64_t>(packets);
  result.wall = static_cast<double>(t1 - t0) * 1e-9;
  result.cpu = after.cpu - before.cpu;
  result.sender_cpu = result.cpu;
  result.switches = after.switches - before.switches;
  return result;
}

void note(const std::string& what, const Result& r) {
  std::printf(
      "# %-30s sent %7llu received %7llu lost %5llu (unprotect failures %llu) in %.3f s wall, "
      "%.3f s CPU (sender thread %.3f, receiver thread %.3f): %.0f pkt/s, %.0f pkt/CPU-s, "
      "%.3f context switches/pkt\n",
      what.c_str(), static_cast<unsigned long long>(r.sent),
      static_cast<unsigned long long>(r.received),
      static_cast<unsigned long long>(r.sent - r.received),
      static_cast<unsigned long long>(r.failures), r.wall, r.cpu, r.sender_cpu, r.receiver_cpu,
      r.pps(), r.per_cpu_second(), r.switches_per_packet());
}

// `metric <TAB> name <TAB> value` lines: bench/run joins them with bench_element's.
void metric(const std::string& name, double value) {
  std::printf("metric\t%s\t%.4f\n", name.c_str(), value);
}

void report(const Profile& profile, const char* mode, const char* label, const Result& r) {
  const char* figure = "7 Floor: libsrtp2 + raw UDP, 1200B";
  const std::string p = std::string(profile.name) + " ";
  note(std::string("floor ") + p + label, r);
  const std::string key = std::string("floor.") + profile.name + "." + mode + ".";
  metric(key + "pkt_cpu_s", r.per_cpu_second());
  metric(key + "pkt_s", r.pps());
  metric(key + "loss_pct", r.loss_pct());
  metric(key + "cs_pkt", r.switches_per_packet());
  bench::print_row(figure, p + label + " pkt/CPU-s", r.per_cpu_second(), -1, "pkt/CPU-s",
                   bench::Better::Higher, 0);
  if (std::strcmp(mode, "lists_flat") == 0)
    bench::print_row(figure, p + label + " pkt/s", r.pps(), -1, "pkt/s", bench::Better::Higher, 0);
  bench::print_row(figure, p + label + " loss", r.loss_pct(), -1, "%", bench::Better::Lower, 2);
  bench::print_row(figure, p + label + " context switches/pkt", r.switches_per_packet(), -1,
                   "switches/pkt", bench::Better::Lower, 3);
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const bool quick = bench::has_flag(argc, argv, "--quick");
  if (srtp_init() != srtp_err_status_ok) {
    std::fprintf(stderr, "bench_floor: srtp_init failed\n");
    return 1;
  }
  // Figure 2's sizes: paced runs of 2 s (0.5 s quick) at 15 000 pkt/s, flat-out runs of 200 000
  // packets (20 000 quick).
  const int paced_packets = static_cast<int>(kRate * (quick ? 0.5 : 2.0));
  const int flat_packets = quick ? 20000 : 200000;
  bool ok = true;
  for (const Profile* profile : {&kGcm, &kCm80}) {
    flat_out(*profile, flat_packets / 10);  // warm-up: caches, the allocator, the CPU clock
    const Result single = paced(*profile, paced_packets, 1, kRate);
    const Result lists = paced(*profile, paced_packets, kListSize, kRate);
    const Result flat = flat_out(*profile, flat_packets);
    report(*profile, "single_paced", "paced single, 2 threads", single);
    report(*profile, "lists_paced", "paced lists of 32, 2 threads", lists);
    report(*profile, "lists_flat", "flat out lists of 32, 1 thread", flat);
    for (const Result* r : {&single, &lists, &flat}) ok = ok && r->failures == 0;
  }
  srtp_shutdown();
  if (!ok) std::printf("# bench_floor: some packets failed to unprotect\n");
  return ok ? 0 : 1;
}
