// Handshakes over a lossy, reordering, duplicating in-memory network on a simulated clock.
// Seeded: every run of this file sees the same packets lost.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <thread>
#include <vector>

#include "dtls_transport.hpp"
#include "memory_link.hpp"

namespace dtlstransport {
namespace {

using testing::LinkConditions;
using testing::MemoryLink;
using namespace std::chrono_literals;

const Certificate& identity(int which) {
  static const Certificate first = *Certificate::generate();
  static const Certificate second = *Certificate::generate();
  return which == 0 ? first : second;
}

DtlsConfig config_with(int which) {
  DtlsConfig config;
  config.certificates = {identity(which)};
  return config;
}

struct Outcome {
  bool connected = false;
  std::chrono::milliseconds time_to_connect{0};
};

// Time until both sides are connected, in simulated time.
Outcome handshake(LinkConditions conditions, uint32_t seed, DtlsRole role_a = DtlsRole::Client) {
  MemoryLink link(config_with(0), config_with(1), conditions, conditions, seed);
  link.start(role_a, role_a == DtlsRole::Client ? DtlsRole::Server : DtlsRole::Client);
  link.run_until_settled(40s);
  Outcome outcome;
  outcome.connected =
      link.a().state() == DtlsState::Connected && link.b().state() == DtlsState::Connected;
  if (outcome.connected) {
    const TimePoint last = std::max(*link.log_a().connected_at, *link.log_b().connected_at);
    outcome.time_to_connect =
        std::chrono::duration_cast<std::chrono::milliseconds>(last - link.start_time());
  }
  return outcome;
}

std::chrono::milliseconds percentile(std::vector<std::chrono::milliseconds> values, double p) {
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index];
}

TEST(DtlsLoss, HandshakesCompleteUnderRandomLoss) {
  constexpr int kSeeds = 60;
  std::printf("simulated time to connected (1 ms RTT, first retry 400 ms, x2 backoff, cap 4 s):\n");
  for (double loss : {0.0, 0.1, 0.3}) {
    std::vector<std::chrono::milliseconds> times;
    for (uint32_t seed = 1; seed <= kSeeds; ++seed) {
      LinkConditions conditions;
      conditions.loss = loss;
      const Outcome outcome =
          handshake(conditions, seed, seed % 2 ? DtlsRole::Client : DtlsRole::Server);
      ASSERT_TRUE(outcome.connected) << "loss " << loss << " seed " << seed;
      // Well within the 30 s deadline, whatever the seed.
      EXPECT_LT(outcome.time_to_connect, 20s) << "loss " << loss << " seed " << seed;
      times.push_back(outcome.time_to_connect);
    }
    std::printf(
        "  loss %2.0f%% per direction: median %5lld ms, p90 %5lld ms, max %5lld ms (%d runs)\n",
        loss * 100, static_cast<long long>(percentile(times, 0.5).count()),
        static_cast<long long>(percentile(times, 0.9).count()),
        static_cast<long long>(percentile(times, 1.0).count()), kSeeds);
    if (loss == 0.0) {
      EXPECT_LT(percentile(times, 1.0), 10ms) << "no loss needs no retransmission";
    }
  }
}

TEST(DtlsLoss, ReorderedAndDuplicatedFlightsComplete) {
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    LinkConditions conditions;
    conditions.jitter = 3ms;  // datagrams of one flight overtake each other
    conditions.duplicate = 0.5;
    const Outcome outcome = handshake(conditions, seed);
    ASSERT_TRUE(outcome.connected) << "seed " << seed;
    EXPECT_LT(outcome.time_to_connect, 1s) << "seed " << seed;
  }
}

TEST(DtlsLoss, ReorderDuplicateAndLossTogether) {
  int connected = 0;
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    LinkConditions conditions;
    conditions.loss = 0.2;
    conditions.jitter = 3ms;
    conditions.duplicate = 0.3;
    connected += handshake(conditions, seed).connected;
  }
  EXPECT_EQ(connected, 30);
}

TEST(DtlsLoss, BlackHoledPeerFailsAtTheDeadline) {
  LinkConditions hole;
  hole.black_hole = true;
  MemoryLink link(config_with(0), config_with(1), hole, hole, 7);
  link.start(DtlsRole::Client, DtlsRole::Server);
  ASSERT_TRUE(link.run_until_settled(60s));
  EXPECT_EQ(link.a().state(), DtlsState::Failed);
  EXPECT_EQ(link.a().failure_reason(), FailureReason::HandshakeTimeout);
  EXPECT_EQ(link.b().failure_reason(), FailureReason::HandshakeTimeout);
  EXPECT_GE(link.now() - link.start_time(), 30s);
  EXPECT_LT(link.now() - link.start_time(), 30s + 10ms);
  // The client kept retrying with backoff: 400, 800, 1600, 3200, then every 4 s.
  const size_t client_hellos = link.log_a().sent_sizes.size();
  EXPECT_GE(client_hellos, 8u);
  EXPECT_LE(client_hellos, 13u);
  EXPECT_TRUE(link.log_a().keys.empty());
}

TEST(DtlsLoss, RetransmissionFollowsTheConfiguredSchedule) {
  DtlsConfig a = config_with(0);
  a.initial_retransmit_timeout = 100ms;
  a.max_retransmit_timeout = 400ms;
  a.handshake_timeout = 2s;
  LinkConditions hole;
  hole.black_hole = true;
  MemoryLink link(std::move(a), config_with(1), hole, hole, 3);
  std::vector<TimePoint> sends;
  link.start(DtlsRole::Client, DtlsRole::Server);
  std::vector<std::chrono::milliseconds> timers;
  TimePoint previous = link.now();
  while (auto next = link.a().next_timeout()) {
    timers.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(*next - previous));
    previous = *next;
    link.advance(std::chrono::duration_cast<std::chrono::milliseconds>(*next - link.now()));
    if (link.a().state() != DtlsState::Connecting) break;
  }
  ASSERT_GE(timers.size(), 5u);
  EXPECT_EQ(timers[0], 100ms);
  EXPECT_EQ(timers[1], 200ms);
  EXPECT_EQ(timers[2], 400ms);
  EXPECT_EQ(timers[3], 400ms);
  EXPECT_EQ(link.a().failure_reason(), FailureReason::HandshakeTimeout);
}

// OpenSSL's DTLS timer runs on the wall clock and only public calls reach it: when the caller's
// clock passes the retransmission deadline before OpenSSL's timer has expired (here the caller's
// clock jumps ahead of the real one, no MemoryLink is alive), nothing is sent and the deadline
// moves to the time OpenSSL says is left, instead of the retransmission being lost.
TEST(DtlsLoss, RetransmissionWaitsForOpensslsTimerWhenTheCallersClockRunsAhead) {
  DtlsConfig config = config_with(0);
  // Long enough that the wall clock cannot reach it while the test runs its first half, even on a
  // loaded machine under valgrind.
  config.initial_retransmit_timeout = 3s;
  size_t sent = 0;
  DtlsCallbacks callbacks;
  callbacks.send_datagram = [&sent](std::span<const uint8_t>) { ++sent; };
  auto created = DtlsTransport::create(std::move(config), std::move(callbacks));
  ASSERT_TRUE(created.ok());
  DtlsTransport& client = **created;
  const TimePoint start = Clock::now();
  ASSERT_TRUE(client.start(DtlsRole::Client, {DtlsRole::Server, {}}, true, start).ok());
  ASSERT_EQ(sent, 1u);  // the ClientHello
  ASSERT_EQ(client.next_timeout(), start + 3s);

  // The caller's clock says 3 s have passed; the wall clock says almost none.
  client.handle_timeout(start + 3s);
  ASSERT_LT(Clock::now() - start, 3s) << "precondition: the wall clock must not have caught up";
  EXPECT_EQ(sent, 1u) << "retransmitted before OpenSSL's own timer expired";
  const auto rearmed = client.next_timeout();
  ASSERT_TRUE(rearmed.has_value()) << "the retransmission was lost";
  EXPECT_GT(*rearmed, start + 3s);
  EXPECT_LE(*rearmed, start + 6s);

  // Once the wall clock has caught up, the retransmission happens.
  std::this_thread::sleep_until(start + 3050ms);
  client.handle_timeout(*rearmed);
  EXPECT_EQ(sent, 2u);
  EXPECT_EQ(client.state(), DtlsState::Connecting);
}

}  // namespace
}  // namespace dtlstransport
