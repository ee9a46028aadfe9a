// Two DtlsTransports wired in memory on a simulated clock, with seeded loss, jitter (reordering)
// and duplication per direction. Deterministic: the same seed gives the same run.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "dtls_transport.hpp"

namespace dtlstransport::testing {

struct LinkConditions {
  double loss = 0.0;       // probability that a datagram is dropped
  double duplicate = 0.0;  // probability that a datagram is delivered twice
  std::chrono::microseconds latency{500};
  std::chrono::microseconds jitter{0};  // uniform extra delay: datagrams of a flight reorder
  bool black_hole = false;              // drop everything
};

// What one side saw, for assertions.
struct EndpointLog {
  std::vector<DtlsState> states;
  FailureReason failure = FailureReason::None;
  std::string failure_detail;
  std::vector<SrtpKeys> keys;
  std::vector<size_t> sent_sizes;
  std::vector<std::vector<uint8_t>> application_data;
  std::optional<TimePoint> connected_at;
  size_t reconnected = 0;  // DtlsCallbacks::reconnected calls
};

class MemoryLink {
 public:
  MemoryLink(DtlsConfig config_a, DtlsConfig config_b, LinkConditions a_to_b = {},
             LinkConditions b_to_a = {}, uint32_t seed = 1);
  ~MemoryLink();
  MemoryLink(const MemoryLink&) = delete;
  MemoryLink& operator=(const MemoryLink&) = delete;

  // The wall clock OpenSSL reads while this is the newest link alive: the real time at
  // construction plus the simulated time since (see gettimeofday() in memory_link.cpp).
  std::chrono::microseconds simulated_wall_clock() const;

  DtlsTransport& a() { return *a_; }
  DtlsTransport& b() { return *b_; }
  EndpointLog& log_a() { return log_a_; }
  EndpointLog& log_b() { return log_b_; }
  TimePoint now() const { return now_; }
  TimePoint start_time() const { return start_; }

  // Starts both sides with each other's sha-256 fingerprint (unless overridden).
  void start(DtlsRole role_a, DtlsRole role_b, bool a_controlling = true);
  void start_with(DtlsRole role_a, const DtlsParameters& remote_for_a, DtlsRole role_b,
                  const DtlsParameters& remote_for_b, bool a_controlling = true);

  // Runs the simulated network until `done` holds, nothing is left to do, or `limit` of simulated
  // time passes. Returns whether `done` held.
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds limit = std::chrono::seconds(60));
  bool run_until_settled(std::chrono::milliseconds limit = std::chrono::seconds(60));
  void advance(std::chrono::milliseconds duration);

  // One side's process restarts: its transport is replaced by a fresh one made from `config` (not
  // started; start it with the returned reference) and its log starts empty. Datagrams in flight
  // to it still arrive (same address); the other side is untouched.
  DtlsTransport& restart_b(DtlsConfig config);
  DtlsTransport& restart_a(DtlsConfig config);
  // A datagram from outside (a spoofer) reaching `a` or `b` now.
  void inject(bool to_b, std::span<const uint8_t> bytes);

  static bool settled(DtlsState state) {
    return state == DtlsState::Connected || state == DtlsState::Closed ||
           state == DtlsState::Failed;
  }

 private:
  struct InFlight {
    TimePoint at;
    bool to_b;
    std::vector<uint8_t> bytes;
  };
  void send(bool to_b, std::span<const uint8_t> bytes);
  std::unique_ptr<DtlsTransport> make(DtlsConfig config, bool is_b);
  bool step(TimePoint limit);

  LinkConditions a_to_b_, b_to_a_;
  std::mt19937 rng_;
  TimePoint start_{std::chrono::seconds(1000)};
  TimePoint now_{start_};
  std::chrono::nanoseconds wall_at_start_{0};
  EndpointLog log_a_, log_b_;
  std::vector<InFlight> in_flight_;
  std::unique_ptr<DtlsTransport> a_, b_;
};

}  // namespace dtlstransport::testing
