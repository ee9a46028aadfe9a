// Core demo: two DtlsTransports wired in memory do a DTLS-SRTP handshake on the real clock, then
// exchange SRTP and SRTCP through SrtpSessions keyed with what the handshake exported.
//
// Usage: core_demo [--profile SRTP_NAME] [--packets N]
// Exit status 0 only if the handshake connected, both sides exported the same keys and every
// packet made the round trip intact.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dtls_transport.hpp"
#include "srtp_profile.hpp"
#include "srtp_session.hpp"

namespace dt = dtlstransport;
using namespace std::chrono_literals;

namespace {

double ms_since(dt::TimePoint start) {
  return std::chrono::duration<double, std::milli>(dt::Clock::now() - start).count();
}

// One side of the association: its transport, the datagrams the peer sent it (queued, because a
// transport must not be fed from inside another transport's callback), and what it reported.
struct Side {
  std::string name;
  bool ice_controlling = false;
  std::unique_ptr<dt::DtlsTransport> transport;
  std::deque<std::vector<uint8_t>> inbox;
  std::optional<dt::SrtpKeys> keys;
  std::optional<double> connected_ms;
  size_t datagrams_sent = 0;
  size_t bytes_sent = 0;
};

bool finished(const Side& side) {
  const auto state = side.transport->state();
  return state == dt::DtlsState::Connected || state == dt::DtlsState::Closed ||
         state == dt::DtlsState::Failed;
}

// Feeds queued datagrams and fires due timers until both sides settle or `limit` passes; sleeps
// until the earliest timer when there is nothing to deliver.
void pump(Side& a, Side& b, dt::TimePoint limit, bool until_settled) {
  while (dt::Clock::now() < limit) {
    bool delivered = false;
    for (Side* side : {&a, &b}) {
      while (!side->inbox.empty()) {
        auto datagram = std::move(side->inbox.front());
        side->inbox.pop_front();
        side->transport->handle_datagram(datagram, dt::Clock::now());
        delivered = true;
      }
    }
    if (delivered) continue;
    if (until_settled && finished(a) && finished(b)) return;
    if (!until_settled) return;  // nothing left in flight

    auto wake = limit;
    for (Side* side : {&a, &b}) {
      if (auto due = side->transport->next_timeout()) wake = std::min(wake, *due);
    }
    if (wake > dt::Clock::now()) std::this_thread::sleep_until(wake);
    for (Side* side : {&a, &b}) {
      auto due = side->transport->next_timeout();
      if (due && *due <= dt::Clock::now()) side->transport->handle_timeout(dt::Clock::now());
    }
  }
}

bool keys_match(const dt::SrtpKeys& a, const dt::SrtpKeys& b) {
  // RFC 5764 §4.2: what one side protects with is what the other unprotects with.
  return a.profile == b.profile && a.local_key == b.remote_key && a.local_salt == b.remote_salt &&
         a.remote_key == b.local_key && a.remote_salt == b.local_salt && !a.local_key.empty() &&
         !a.local_salt.empty();
}

// An RTP packet (RFC 3550 §5.1): V=2, PT 96, the given sequence number, a payload pattern that
// depends on the sequence number so a mixed-up packet would not compare equal.
std::vector<uint8_t> make_rtp(uint32_t ssrc, uint16_t seq, size_t payload_size) {
  std::vector<uint8_t> packet(12 + payload_size);
  const uint32_t timestamp = uint32_t{seq} * 3000;
  packet[0] = 0x80;
  packet[1] = 96;
  packet[2] = static_cast<uint8_t>(seq >> 8);
  packet[3] = static_cast<uint8_t>(seq);
  for (int i = 0; i < 4; ++i) {
    packet[4 + i] = static_cast<uint8_t>(timestamp >> (24 - 8 * i));
    packet[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  }
  for (size_t i = 0; i < payload_size; ++i) packet[12 + i] = static_cast<uint8_t>(seq * 7 + i);
  return packet;
}

// An RTCP receiver report with no report blocks (RFC 3550 §6.4.2): 8 bytes.
std::vector<uint8_t> make_rtcp_rr(uint32_t ssrc) {
  std::vector<uint8_t> packet = {0x80, 201, 0x00, 0x01, 0, 0, 0, 0};
  for (int i = 0; i < 4; ++i) packet[4 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  return packet;
}

struct Traffic {
  size_t ok = 0;
  size_t failed = 0;
  dt::SrtpResult first_error = dt::SrtpResult::Ok;
};

void note(Traffic& traffic, dt::SrtpResult result) {
  if (result == dt::SrtpResult::Ok) return;
  if (traffic.failed++ == 0) traffic.first_error = result;
}

// `count` RTP packets and `count / 100 + 1` RTCP packets protected by `from`, unprotected by `to`,
// compared with the original.
// Protects `original` with `from`, unprotects it with `to` and checks it came back intact.
dt::SrtpResult round_trip(dt::SrtpSession& from, dt::SrtpSession& to,
                          const std::vector<uint8_t>& original, bool rtcp) {
  const size_t room = rtcp ? dt::SrtpSession::kRtcpTrailerRoom : dt::SrtpSession::kRtpTrailerRoom;
  std::vector<uint8_t> buffer(original.size() + room);
  std::copy(original.begin(), original.end(), buffer.begin());
  size_t length = original.size();
  auto result = rtcp ? from.protect_rtcp(buffer, length) : from.protect_rtp(buffer, length);
  if (result == dt::SrtpResult::Ok) {
    result = rtcp ? to.unprotect_rtcp(buffer, length) : to.unprotect_rtp(buffer, length);
  }
  if (result == dt::SrtpResult::Ok &&
      (length != original.size() || !std::equal(original.begin(), original.end(), buffer.begin())))
    result = dt::SrtpResult::Error;
  return result;
}

Traffic send_media(dt::SrtpSession& from, dt::SrtpSession& to, uint32_t ssrc, size_t count) {
  Traffic traffic;
  auto count_result = [&traffic](dt::SrtpResult result) {
    note(traffic, result);
    if (result == dt::SrtpResult::Ok) ++traffic.ok;
  };
  for (size_t i = 0; i < count; ++i) {
    count_result(round_trip(from, to, make_rtp(ssrc, static_cast<uint16_t>(i), 160), false));
  }
  for (size_t i = 0; i < count / 100 + 1; ++i) {
    count_result(round_trip(from, to, make_rtcp_rr(ssrc), true));
  }
  return traffic;
}

// A packet changed in flight must be rejected (RFC 3711 §3.3 step 5).
bool tamper_rejected(dt::SrtpSession& from, dt::SrtpSession& to, uint32_t ssrc) {
  const auto original = make_rtp(ssrc, 60000, 160);
  std::vector<uint8_t> buffer(original.size() + dt::SrtpSession::kRtpTrailerRoom);
  std::copy(original.begin(), original.end(), buffer.begin());
  size_t length = original.size();
  if (from.protect_rtp(buffer, length) != dt::SrtpResult::Ok) return false;
  buffer[20] ^= 0x01;
  return to.unprotect_rtp(buffer, length) == dt::SrtpResult::AuthFailure;
}

int fail(const char* what) {
  std::printf("FAILED: %s\n", what);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // Line-buffered even into a pipe, so a log shows how far a failing run got.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::vector<dt::SrtpProfile> profiles = dt::default_srtp_profiles();
  size_t packets = 1000;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--profile" && i + 1 < argc) {
      auto parsed = dt::parse_srtp_profiles(argv[++i]);
      if (!parsed) {
        std::fprintf(stderr, "core_demo: %s\n", parsed.error().message.c_str());
        return 2;
      }
      profiles = *parsed;
    } else if (arg == "--packets" && i + 1 < argc) {
      // Bounded so sequence numbers stay below the tampered packet's (60000) and never wrap.
      packets = std::strtoul(argv[++i], nullptr, 10);
      if (packets == 0 || packets > 50000) {
        std::fprintf(stderr, "core_demo: --packets must be 1..50000\n");
        return 2;
      }
    } else {
      std::fprintf(stderr, "usage: %s [--profile SRTP_NAME[:SRTP_NAME...]] [--packets N]\n",
                   argv[0]);
      return 2;
    }
  }

  std::printf("gst-dtlstransport core demo: two DTLS-SRTP transports wired in memory\n");
  std::printf("offered SRTP profiles: %s\n", dt::format_srtp_profiles(profiles).c_str());

  // A and B both say actpass (auto); RFC 5763 §5 leaves the choice to us: the ICE-controlling
  // side becomes the DTLS server (Pion's rule).
  Side a{.name = "A", .ice_controlling = true};
  Side b{.name = "B", .ice_controlling = false};
  const auto program_start = dt::Clock::now();

  // (No structured bindings here: clang 14, used for the fuzz build, cannot capture them.)
  for (const auto& ends : {std::pair{&a, &b}, std::pair{&b, &a}}) {
    Side* self = ends.first;
    Side* peer = ends.second;
    dt::DtlsConfig config;
    config.srtp_profiles = profiles;
    dt::DtlsCallbacks callbacks;
    callbacks.send_datagram = [self, peer](std::span<const uint8_t> datagram) {
      ++self->datagrams_sent;
      self->bytes_sent += datagram.size();
      peer->inbox.emplace_back(datagram.begin(), datagram.end());
    };
    callbacks.state_changed = [self, program_start](dt::DtlsState state, dt::FailureReason reason,
                                                    const std::string& detail) {
      std::printf("[%8.2f ms] %s: state %s", ms_since(program_start), self->name.c_str(),
                  dt::dtls_state_name(state));
      if (state == dt::DtlsState::Failed)
        std::printf(" (%s: %s)", dt::failure_reason_name(reason), detail.c_str());
      std::printf("\n");
      if (state == dt::DtlsState::Connected) self->connected_ms = ms_since(program_start);
    };
    callbacks.srtp_keys = [self](const dt::SrtpKeys& keys) { self->keys = keys; };
    auto created = dt::DtlsTransport::create(std::move(config), std::move(callbacks));
    if (!created) {
      std::printf("FAILED: cannot create transport %s: %s\n", self->name.c_str(),
                  created.error().message.c_str());
      return 1;
    }
    self->transport = std::move(created.value());
  }
  std::printf("transports created (certificates generated) in %.2f ms\n", ms_since(program_start));
  std::printf("A local fingerprint: %s\n", a.transport->local_fingerprint().to_string().c_str());
  std::printf("B local fingerprint: %s\n", b.transport->local_fingerprint().to_string().c_str());

  // Signalling, in memory: each side learns the other's fingerprint and says actpass.
  const auto handshake_start = dt::Clock::now();
  for (const auto& ends : {std::pair{&a, &b}, std::pair{&b, &a}}) {
    Side* self = ends.first;
    const Side* peer = ends.second;
    dt::DtlsParameters remote;
    remote.role = dt::DtlsRole::Auto;
    remote.fingerprints = {peer->transport->local_fingerprint()};
    auto started =
        self->transport->start(dt::DtlsRole::Auto, remote, self->ice_controlling, dt::Clock::now());
    if (!started) {
      std::printf("FAILED: start %s: %s\n", self->name.c_str(), started.error().message.c_str());
      return 1;
    }
    std::printf("%s: ICE %s, DTLS role %s\n", self->name.c_str(),
                self->ice_controlling ? "controlling" : "controlled",
                dt::dtls_role_name(self->transport->role()));
  }

  pump(a, b, dt::Clock::now() + 10s, true);
  const double handshake_ms =
      std::max(a.connected_ms.value_or(0), b.connected_ms.value_or(0)) -
      std::chrono::duration<double, std::milli>(handshake_start - program_start).count();

  for (const Side* side : {&a, &b}) {
    if (side->transport->state() != dt::DtlsState::Connected) {
      std::printf("%s ended in state %s: %s\n", side->name.c_str(),
                  dt::dtls_state_name(side->transport->state()),
                  side->transport->failure_detail().c_str());
      return fail("handshake did not connect");
    }
  }
  std::printf(
      "handshake: %.2f ms, %zu datagrams / %zu bytes from A, %zu datagrams / %zu bytes "
      "from B\n",
      handshake_ms, a.datagrams_sent, a.bytes_sent, b.datagrams_sent, b.bytes_sent);
  for (const Side* side : {&a, &b}) {
    const auto profile = side->transport->srtp_profile();
    std::printf("%s: role %s, %s, cipher %s, SRTP profile %s\n", side->name.c_str(),
                dt::dtls_role_name(side->transport->role()),
                side->transport->dtls_version().c_str(), side->transport->cipher_suite().c_str(),
                profile ? std::string(dt::openssl_name(*profile)).c_str() : "(none)");
  }
  if (!a.keys || !b.keys) return fail("a side exported no SRTP keys");
  if (!keys_match(*a.keys, *b.keys)) return fail("the two sides' SRTP keys differ");
  std::printf("keys match: %s, master key %zu bytes, master salt %zu bytes, each direction\n",
              std::string(dt::openssl_name(a.keys->profile)).c_str(), a.keys->local_key.size(),
              a.keys->local_salt.size());

  dt::SrtpSession srtp_a;
  dt::SrtpSession srtp_b;
  if (auto status = srtp_a.set_keys(*a.keys); !status) {
    std::printf("FAILED: SRTP keys for A: %s\n", status.error().message.c_str());
    return 1;
  }
  if (auto status = srtp_b.set_keys(*b.keys); !status) {
    std::printf("FAILED: SRTP keys for B: %s\n", status.error().message.c_str());
    return 1;
  }

  const auto srtp_start = dt::Clock::now();
  const Traffic a_to_b = send_media(srtp_a, srtp_b, 0x11111111, packets);
  const Traffic b_to_a = send_media(srtp_b, srtp_a, 0x22222222, packets);
  const double srtp_ms = ms_since(srtp_start);
  const size_t rtcp = packets / 100 + 1;
  std::printf("SRTP A->B: %zu RTP + %zu RTCP packets sent, %zu received intact, %zu failed%s%s\n",
              packets, rtcp, a_to_b.ok, a_to_b.failed, a_to_b.failed ? ", first: " : "",
              a_to_b.failed ? dt::srtp_result_name(a_to_b.first_error) : "");
  std::printf("SRTP B->A: %zu RTP + %zu RTCP packets sent, %zu received intact, %zu failed%s%s\n",
              packets, rtcp, b_to_a.ok, b_to_a.failed, b_to_a.failed ? ", first: " : "",
              b_to_a.failed ? dt::srtp_result_name(b_to_a.first_error) : "");
  std::printf("SRTP round trip: %.2f ms for %zu packets\n", srtp_ms, 2 * (packets + rtcp));
  if (a_to_b.failed || b_to_a.failed || a_to_b.ok != packets + rtcp || b_to_a.ok != packets + rtcp)
    return fail("SRTP round trip lost or corrupted packets");
  if (!tamper_rejected(srtp_a, srtp_b, 0x11111111))
    return fail("a tampered SRTP packet was not rejected");
  std::printf("tampered packet rejected: auth failure, as it must be\n");

  // Orderly close: A sends close_notify, B sees it.
  a.transport->stop();
  pump(a, b, dt::Clock::now() + 2s, false);
  std::printf("closed: A %s, B %s\n", dt::dtls_state_name(a.transport->state()),
              dt::dtls_state_name(b.transport->state()));

  std::printf(
      "SUCCESS: DTLS handshake in %.2f ms (%s), keys match, %zu SRTP/SRTCP packets "
      "round-tripped intact\n",
      handshake_ms, std::string(dt::openssl_name(a.keys->profile)).c_str(), a_to_b.ok + b_to_a.ok);
  return 0;
}
