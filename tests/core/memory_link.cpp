#include "memory_link.hpp"

#include <gtest/gtest.h>
#include <sys/time.h>

#include <algorithm>
#include <ctime>
#include <vector>

namespace dtlstransport::testing {

namespace {

// The links alive, newest last: the newest one's simulated clock is the wall clock of the process.
std::vector<const MemoryLink*>& live_links() {
  static std::vector<const MemoryLink*> links;
  return links;
}

DtlsCallbacks callbacks_for(EndpointLog& log, std::function<void(std::span<const uint8_t>)> send,
                            const TimePoint& now) {
  DtlsCallbacks callbacks;
  callbacks.send_datagram = [&log, send](std::span<const uint8_t> bytes) {
    log.sent_sizes.push_back(bytes.size());
    send(bytes);
  };
  callbacks.state_changed = [&log, &now](DtlsState state, FailureReason reason,
                                         const std::string& detail) {
    log.states.push_back(state);
    if (state == DtlsState::Failed) {
      log.failure = reason;
      log.failure_detail = detail;
    }
    if (state == DtlsState::Connected) log.connected_at = now;
  };
  callbacks.srtp_keys = [&log](const SrtpKeys& keys) { log.keys.push_back(keys); };
  callbacks.application_data = [&log](std::span<const uint8_t> data) {
    log.application_data.emplace_back(data.begin(), data.end());
  };
  callbacks.reconnected = [&log] { ++log.reconnected; };
  return callbacks;
}

}  // namespace

MemoryLink::MemoryLink(DtlsConfig config_a, DtlsConfig config_b, LinkConditions a_to_b,
                       LinkConditions b_to_a, uint32_t seed)
    : a_to_b_(a_to_b), b_to_a_(b_to_a), rng_(seed) {
  timespec real{};
  clock_gettime(CLOCK_REALTIME, &real);
  wall_at_start_ = std::chrono::seconds(real.tv_sec) + std::chrono::nanoseconds(real.tv_nsec);
  live_links().push_back(this);
  a_ = make(std::move(config_a), false);
  b_ = make(std::move(config_b), true);
}

MemoryLink::~MemoryLink() {
  a_.reset();
  b_.reset();
  std::erase(live_links(), this);
}

std::chrono::microseconds MemoryLink::simulated_wall_clock() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(wall_at_start_ + (now_ - start_));
}

std::unique_ptr<DtlsTransport> MemoryLink::make(DtlsConfig config, bool is_b) {
  auto created = DtlsTransport::create(
      std::move(config),
      callbacks_for(
          is_b ? log_b_ : log_a_,
          [this, is_b](std::span<const uint8_t> bytes) { send(!is_b, bytes); }, now_));
  EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().message);
  return created.ok() ? std::move(*created) : nullptr;
}

DtlsTransport& MemoryLink::restart_b(DtlsConfig config) {
  b_.reset();
  log_b_ = EndpointLog{};
  b_ = make(std::move(config), true);
  return *b_;
}

DtlsTransport& MemoryLink::restart_a(DtlsConfig config) {
  a_.reset();
  log_a_ = EndpointLog{};
  a_ = make(std::move(config), false);
  return *a_;
}

void MemoryLink::inject(bool to_b, std::span<const uint8_t> bytes) {
  (to_b ? b_ : a_)->handle_datagram(bytes, now_);
}

void MemoryLink::start(DtlsRole role_a, DtlsRole role_b, bool a_controlling) {
  DtlsParameters for_a{role_b, {b_->local_fingerprint()}};
  DtlsParameters for_b{role_a, {a_->local_fingerprint()}};
  start_with(role_a, for_a, role_b, for_b, a_controlling);
}

void MemoryLink::start_with(DtlsRole role_a, const DtlsParameters& remote_for_a, DtlsRole role_b,
                            const DtlsParameters& remote_for_b, bool a_controlling) {
  ASSERT_TRUE(a_->start(role_a, remote_for_a, a_controlling, now_).ok());
  ASSERT_TRUE(b_->start(role_b, remote_for_b, !a_controlling, now_).ok());
}

void MemoryLink::send(bool to_b, std::span<const uint8_t> bytes) {
  const LinkConditions& conditions = to_b ? a_to_b_ : b_to_a_;
  std::uniform_real_distribution<double> chance(0.0, 1.0);
  // Draw every random number on every send so one condition does not shift the others' streams.
  const bool lost = chance(rng_) < conditions.loss;
  const bool duplicated = chance(rng_) < conditions.duplicate;
  const auto jitter = std::chrono::microseconds(
      static_cast<int64_t>(chance(rng_) * static_cast<double>(conditions.jitter.count())));
  if (conditions.black_hole || lost) return;
  const TimePoint at = now_ + conditions.latency + jitter;
  in_flight_.push_back({at, to_b, {bytes.begin(), bytes.end()}});
  if (duplicated)
    in_flight_.push_back({at + conditions.latency, to_b, {bytes.begin(), bytes.end()}});
}

bool MemoryLink::step(TimePoint limit) {
  std::optional<TimePoint> next;
  auto consider = [&next](std::optional<TimePoint> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  for (const auto& packet : in_flight_) consider(packet.at);
  consider(a_->next_timeout());
  consider(b_->next_timeout());
  if (!next || *next > limit) return false;
  now_ = std::max(now_, *next);

  // Deliver every datagram due now, in arrival order (stable for equal times).
  std::stable_sort(in_flight_.begin(), in_flight_.end(),
                   [](const InFlight& x, const InFlight& y) { return x.at < y.at; });
  std::vector<InFlight> due;
  auto split = std::find_if(in_flight_.begin(), in_flight_.end(),
                            [this](const InFlight& p) { return p.at > now_; });
  due.assign(std::make_move_iterator(in_flight_.begin()), std::make_move_iterator(split));
  in_flight_.erase(in_flight_.begin(), split);
  for (const auto& packet : due) {
    (packet.to_b ? b_ : a_)->handle_datagram(packet.bytes, now_);
  }
  if (auto t = a_->next_timeout(); t && *t <= now_) a_->handle_timeout(now_);
  if (auto t = b_->next_timeout(); t && *t <= now_) b_->handle_timeout(now_);
  return true;
}

bool MemoryLink::run_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const TimePoint end = now_ + limit;
  while (!done()) {
    if (!step(end)) return done();
  }
  return true;
}

bool MemoryLink::run_until_settled(std::chrono::milliseconds limit) {
  return run_until([this] { return settled(a_->state()) && settled(b_->state()); }, limit);
}

void MemoryLink::advance(std::chrono::milliseconds duration) {
  const TimePoint end = now_ + duration;
  while (step(end)) {
  }
  now_ = end;
}

}  // namespace dtlstransport::testing

// OpenSSL times DTLS retransmission with gettimeofday() (3.0: d1_lib.c; 3.2+: ossl_time_now()),
// and DtlsTransport retransmits only when that timer agrees with the caller's deadline (see
// dtls_transport.cpp). While a link is alive, OpenSSL's wall clock is therefore the link's
// simulated clock, so retransmission happens at simulated deadlines. Everything else keeps the
// real clocks (clock_gettime, time()).
extern "C" int gettimeofday(struct timeval* __restrict tv, void* __restrict /*tz*/) noexcept {
  std::chrono::microseconds now;
  if (!dtlstransport::testing::live_links().empty()) {
    now = dtlstransport::testing::live_links().back()->simulated_wall_clock();
  } else {
    timespec real{};
    clock_gettime(CLOCK_REALTIME, &real);
    now = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::seconds(real.tv_sec) + std::chrono::nanoseconds(real.tv_nsec));
  }
  tv->tv_sec = static_cast<time_t>(now.count() / 1000000);
  tv->tv_usec = static_cast<suseconds_t>(now.count() % 1000000);
  return 0;
}
