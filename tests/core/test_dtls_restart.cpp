// One-sided restart: a peer whose process restarts with the same configuration (same certificate,
// same fingerprints, same roles) reconnects to the survivor, whichever DTLS role it has. The
// survivor's association is replaced only by a new handshake that completed and verified the
// peer's fingerprint; forged hellos cost at most one rate-limited handshake attempt.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "dtls_transport.hpp"
#include "memory_link.hpp"
#include "packet_classifier.hpp"
#include "srtp_session.hpp"

namespace dtlstransport {
namespace {

using testing::LinkConditions;
using testing::MemoryLink;
using namespace std::chrono_literals;
using Bytes = std::vector<uint8_t>;

const Certificate& identity(int which) {
  static const Certificate certificates[] = {*Certificate::generate(), *Certificate::generate(),
                                             *Certificate::generate(), *Certificate::generate()};
  return certificates[which];
}

DtlsConfig config_with(int which) {
  DtlsConfig config;
  config.certificates = {identity(which)};
  return config;
}

DtlsRole other(DtlsRole role) {
  return role == DtlsRole::Client ? DtlsRole::Server : DtlsRole::Client;
}

void expect_mirrored_keys(const SrtpKeys& a, const SrtpKeys& b) {
  EXPECT_EQ(a.profile, b.profile);
  EXPECT_EQ(a.local_key, b.remote_key);
  EXPECT_EQ(a.local_salt, b.remote_salt);
  EXPECT_EQ(a.remote_key, b.local_key);
  EXPECT_EQ(a.remote_salt, b.local_salt);
}

// RTP protected with one side's keys is unprotected with the other's, both ways.
void expect_srtp_works(const SrtpKeys& a, const SrtpKeys& b) {
  for (const auto& [sender_keys, receiver_keys] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
    SrtpSession sender, receiver;
    ASSERT_TRUE(sender.set_keys(*sender_keys).ok());
    ASSERT_TRUE(receiver.set_keys(*receiver_keys).ok());
    Bytes packet(12 + 100 + SrtpSession::kRtpTrailerRoom, 0x33);
    packet[0] = 0x80;
    packet[1] = 96;
    packet[3] = 1;
    size_t length = 12 + 100;
    ASSERT_EQ(sender.protect_rtp(packet, length), SrtpResult::Ok);
    ASSERT_EQ(receiver.unprotect_rtp(packet, length), SrtpResult::Ok);
    EXPECT_EQ(length, 12u + 100u);
  }
}

void expect_application_data_flows(MemoryLink& link) {
  const size_t a_had = link.log_a().application_data.size();
  const size_t b_had = link.log_b().application_data.size();
  const Bytes ping = {'p', 'i', 'n', 'g'};
  ASSERT_TRUE(link.a().send_application_data(ping).ok());
  ASSERT_TRUE(link.b().send_application_data(ping).ok());
  EXPECT_TRUE(link.run_until(
      [&] {
        return link.log_a().application_data.size() > a_had &&
               link.log_b().application_data.size() > b_had;
      },
      5s))
      << "application data no longer flows";
}

const std::vector<DtlsState> kConnectedOnce = {DtlsState::Connecting, DtlsState::Connected};

// `a` survives in `survivor_role`; `b` restarts in the other role with `restarted_identity`.
struct Restart {
  explicit Restart(DtlsRole survivor_role, LinkConditions conditions = {}, uint32_t seed = 1)
      : role(survivor_role), link(config_with(0), config_with(1), conditions, conditions, seed) {
    link.start(role, other(role));
    EXPECT_TRUE(link.run_until_settled());
    EXPECT_EQ(link.a().state(), DtlsState::Connected);
    EXPECT_EQ(link.b().state(), DtlsState::Connected);
    first_keys = link.log_a().keys.at(0);
    first_certificate = link.a().remote_certificate_der();
    link.advance(3s);  // the call goes on for a while
  }

  // `told` is what the restarted side was told of the survivor: its current fingerprint unless
  // given.
  void restart_b(int restarted_identity = 1, std::optional<Fingerprint> told = std::nullopt) {
    DtlsTransport& b = link.restart_b(config_with(restarted_identity));
    restarted_at = link.now();
    ASSERT_TRUE(b.start(other(role),
                        DtlsParameters{role, {told.value_or(link.a().local_fingerprint())}}, false,
                        link.now())
                    .ok());
  }

  bool recovered() {
    return link.b().state() == DtlsState::Connected && link.a().reconnects() == 1;
  }

  DtlsRole role;
  MemoryLink link;
  SrtpKeys first_keys;
  std::vector<uint8_t> first_certificate;
  TimePoint restarted_at;
};

class SurvivorRole : public ::testing::TestWithParam<DtlsRole> {};

std::string role_name(const ::testing::TestParamInfo<DtlsRole>& info) {
  return std::string("survivor_") + dtls_role_name(info.param);
}

TEST_P(SurvivorRole, RestartedPeerReconnectsWithFreshKeysAndTheSurvivorSeesNoStateChange) {
  Restart restart(GetParam());
  restart.restart_b();
  MemoryLink& link = restart.link;
  ASSERT_TRUE(link.run_until([&] { return restart.recovered(); }, 10s))
      << "restarted side " << dtls_state_name(link.b().state()) << ", survivor reconnects "
      << link.a().reconnects();
  EXPECT_LT(link.now() - restart.restarted_at, 10s);
  // The survivor: still connected all along, told once, new keys that match the restarted side's.
  EXPECT_EQ(link.log_a().states, kConnectedOnce);
  EXPECT_EQ(link.log_a().reconnected, 1u);
  EXPECT_EQ(link.a().handshakes(), 2u);
  ASSERT_EQ(link.log_a().keys.size(), 2u);
  ASSERT_EQ(link.log_b().keys.size(), 1u);
  EXPECT_FALSE(link.log_a().keys[1].local_key == restart.first_keys.local_key);
  expect_mirrored_keys(link.log_a().keys[1], link.log_b().keys[0]);
  expect_srtp_works(link.log_a().keys[1], link.log_b().keys[0]);
  // The restarted side: an ordinary first handshake.
  EXPECT_EQ(link.log_b().states, kConnectedOnce);
  EXPECT_EQ(link.b().reconnects(), 0u);
  EXPECT_EQ(Fingerprint::of_der(HashAlgorithm::Sha256, link.a().remote_certificate_der()),
            link.b().local_fingerprint());
  EXPECT_EQ(link.a().srtp_profile(), link.b().srtp_profile());
  expect_application_data_flows(link);
  // And it settles: no further handshakes.
  link.advance(5s);
  EXPECT_EQ(link.a().reconnects(), 1u);
  EXPECT_EQ(link.log_a().keys.size(), 2u);
  EXPECT_EQ(link.log_b().keys.size(), 1u);
}

TEST_P(SurvivorRole, RestartRecoversUnderLoss) {
  LinkConditions lossy;
  lossy.loss = 0.2;
  lossy.jitter = 2ms;
  for (uint32_t seed = 1; seed <= 10; ++seed) {
    Restart restart(GetParam(), lossy, seed);
    restart.restart_b();
    MemoryLink& link = restart.link;
    ASSERT_TRUE(link.run_until([&] { return restart.recovered(); }, 10s))
        << "seed " << seed << ": restarted side " << dtls_state_name(link.b().state())
        << ", survivor reconnects " << link.a().reconnects();
    EXPECT_EQ(link.log_a().states, kConnectedOnce) << "seed " << seed;
    ASSERT_EQ(link.log_a().keys.size(), 2u) << "seed " << seed;
    expect_mirrored_keys(link.log_a().keys[1], link.log_b().keys.at(0));
  }
}

// A restarted peer whose certificate is not the one the survivor was told about never replaces
// the survivor's association, though the new handshake runs (and fails, without a trace).
TEST_P(SurvivorRole, RestartedPeerWithAnotherCertificateNeverReplacesTheAssociation) {
  Restart restart(GetParam());
  restart.restart_b(/*restarted_identity=*/2);
  MemoryLink& link = restart.link;
  link.advance(12s);
  EXPECT_GE(link.a().reconnect_attempts(), 1u) << "the new handshake must have been tried";
  EXPECT_EQ(link.a().state(), DtlsState::Connected);
  EXPECT_EQ(link.log_a().states, kConnectedOnce);
  EXPECT_EQ(link.a().reconnects(), 0u);
  EXPECT_EQ(link.log_a().reconnected, 0u);
  ASSERT_EQ(link.log_a().keys.size(), 1u);
  EXPECT_EQ(link.a().remote_certificate_der(), restart.first_certificate);
  EXPECT_NE(link.b().state(), DtlsState::Connected);
  EXPECT_TRUE(link.log_b().keys.empty());
}

// Certificate rotation: the survivor is given a new identity while connected. Its association
// keeps the old one (the peer's verified certificate does not change, data still flows); the
// next handshake, the peer's restart, presents the new one, which a peer told the new
// fingerprint verifies.
TEST_P(SurvivorRole, RotatedIdentityIsPresentedAtTheNextHandshakeOnly) {
  Restart restart(GetParam());
  MemoryLink& link = restart.link;
  const Fingerprint old_fingerprint = identity(0).fingerprint();
  const std::vector<uint8_t> peer_saw = link.b().remote_certificate_der();
  auto rotated = DtlsContext::create(identity(3), default_srtp_profiles());
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  link.a().set_context(*rotated);
  EXPECT_EQ(link.a().local_fingerprint(), identity(3).fingerprint());
  link.advance(2s);
  expect_application_data_flows(link);
  EXPECT_EQ(link.b().remote_certificate_der(), peer_saw) << "the association changed identity";
  EXPECT_EQ(Fingerprint::of_der(HashAlgorithm::Sha256, peer_saw), old_fingerprint);

  restart.restart_b();  // told the new fingerprint
  ASSERT_TRUE(link.run_until([&] { return restart.recovered(); }, 10s))
      << "restarted side " << dtls_state_name(link.b().state()) << " (" << link.b().failure_detail()
      << "), survivor reconnects " << link.a().reconnects();
  EXPECT_EQ(Fingerprint::of_der(HashAlgorithm::Sha256, link.b().remote_certificate_der()),
            identity(3).fingerprint());
  EXPECT_EQ(link.log_a().states, kConnectedOnce);
  expect_mirrored_keys(link.log_a().keys.at(1), link.log_b().keys.at(0));
  expect_application_data_flows(link);
}

// A peer that restarts knowing only the old fingerprint refuses the rotated identity; the
// survivor's association stays as it was.
TEST_P(SurvivorRole, PeerToldOnlyTheOldFingerprintRefusesTheRotatedIdentity) {
  Restart restart(GetParam());
  MemoryLink& link = restart.link;
  auto rotated = DtlsContext::create(identity(3), default_srtp_profiles());
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  link.a().set_context(*rotated);
  restart.restart_b(1, identity(0).fingerprint());
  ASSERT_TRUE(link.run_until([&] { return link.b().state() == DtlsState::Failed; }, 10s))
      << dtls_state_name(link.b().state());
  EXPECT_EQ(link.b().failure_reason(), FailureReason::FingerprintMismatch);
  EXPECT_EQ(link.b().presented_fingerprint(), identity(3).fingerprint().to_string());
  EXPECT_EQ(link.a().state(), DtlsState::Connected);
  EXPECT_EQ(link.a().reconnects(), 0u);
  EXPECT_EQ(link.a().remote_certificate_der(), restart.first_certificate);
}

// Before start(), the first handshake already uses the new identity.
TEST(DtlsRestart, ContextSetBeforeStartIsTheFirstHandshakes) {
  MemoryLink link(config_with(0), config_with(1));
  auto rotated = DtlsContext::create(identity(3), default_srtp_profiles());
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  link.a().set_context(*rotated);
  link.start(DtlsRole::Server, DtlsRole::Client);
  ASSERT_TRUE(link.run_until_settled());
  ASSERT_EQ(link.b().state(), DtlsState::Connected);
  EXPECT_EQ(Fingerprint::of_der(HashAlgorithm::Sha256, link.b().remote_certificate_der()),
            identity(3).fingerprint());
}

INSTANTIATE_TEST_SUITE_P(Roles, SurvivorRole, ::testing::Values(DtlsRole::Server, DtlsRole::Client),
                         role_name);

// A genuine ClientHello, taken from a fresh client's first flight.
Bytes real_client_hello() {
  Bytes hello;
  DtlsCallbacks callbacks;
  callbacks.send_datagram = [&hello](std::span<const uint8_t> d) {
    if (hello.empty()) hello.assign(d.begin(), d.end());
  };
  auto client = DtlsTransport::create(config_with(2), callbacks);
  EXPECT_TRUE(client.ok());
  EXPECT_TRUE((*client)->start(DtlsRole::Client, {DtlsRole::Server, {}}, false, TimePoint{}).ok());
  EXPECT_TRUE(is_dtls_client_hello(hello));
  return hello;
}

Bytes hello_request() {
  // Record header (handshake, DTLS 1.2, epoch 0, sequence 0, length 12), then a HelloRequest.
  Bytes record = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12};
  record.resize(record.size() + 12, 0);
  return record;
}

// Hundreds of forged hellos a second for 3 s at the survivor: at most one new handshake per
// second starts, the state never changes, the association keeps working.
void flood(MemoryLink& link, const std::function<Bytes(int)>& forged) {
  for (int i = 0; i < 1500; ++i) {
    link.inject(/*to_b=*/false, forged(i));
    link.advance(2ms);
    ASSERT_EQ(link.a().state(), DtlsState::Connected) << "after forged hello " << i;
  }
}

TEST(DtlsRestart, ForgedClientHelloFloodCostsAtMostOneHandshakeAttemptPerSecond) {
  MemoryLink link(config_with(0), config_with(1));
  link.start(DtlsRole::Server, DtlsRole::Client);
  ASSERT_TRUE(link.run_until_settled());
  const auto certificate = link.a().remote_certificate_der();
  const Bytes hello = real_client_hello();
  constexpr size_t kRandomOffset = kDtlsRecordHeaderLength + 12 + 2;
  flood(link, [&](int i) {
    Bytes forged = hello;
    forged[kRandomOffset] = static_cast<uint8_t>(i);  // a new client every time
    forged[kRandomOffset + 1] = static_cast<uint8_t>(i >> 8);
    return forged;
  });
  link.advance(12s);  // the last attempt times out
  EXPECT_GE(link.a().reconnect_attempts(), 1u);
  EXPECT_LE(link.a().reconnect_attempts(), 4u);  // 3 s of flood, one per second
  EXPECT_EQ(link.log_a().states, kConnectedOnce);
  EXPECT_EQ(link.log_b().states, kConnectedOnce);
  EXPECT_EQ(link.a().reconnects(), 0u);
  EXPECT_EQ(link.log_a().keys.size(), 1u);
  EXPECT_EQ(link.log_b().keys.size(), 1u);
  EXPECT_EQ(link.a().remote_certificate_der(), certificate);
  expect_application_data_flows(link);
}

// A forged HelloRequest can make the surviving client re-handshake with the real server: that
// handshake is fully authenticated (same peer certificate) and only re-keys, at most once a
// second; the state never changes and both sides always end with matching keys.
TEST(DtlsRestart, ForgedHelloRequestFloodAtMostReKeysWithTheRealPeerOncePerSecond) {
  MemoryLink link(config_with(0), config_with(1));
  link.start(DtlsRole::Client, DtlsRole::Server);
  ASSERT_TRUE(link.run_until_settled());
  const auto certificate = link.a().remote_certificate_der();
  flood(link, [](int) { return hello_request(); });
  link.advance(12s);
  EXPECT_GE(link.a().reconnect_attempts(), 1u);
  EXPECT_LE(link.a().reconnect_attempts(), 4u);
  EXPECT_EQ(link.log_a().states, kConnectedOnce);
  EXPECT_EQ(link.log_b().states, kConnectedOnce);
  EXPECT_EQ(link.a().remote_certificate_der(), certificate);
  ASSERT_EQ(link.log_a().keys.size(), link.log_b().keys.size());
  expect_mirrored_keys(link.log_a().keys.back(), link.log_b().keys.back());
  expect_srtp_works(link.log_a().keys.back(), link.log_b().keys.back());
  expect_application_data_flows(link);
}

// A HelloRequest never reaches a transport that is not a connected client: a server that starts
// long before its client sends them, and the fresh client still connects in one ordinary
// handshake.
TEST(DtlsRestart, HelloRequestsDoNotDisturbAFreshStart) {
  MemoryLink link(config_with(0), config_with(1));
  ASSERT_TRUE(link.b()
                  .start(DtlsRole::Server, {DtlsRole::Client, {link.a().local_fingerprint()}}, true,
                         link.now())
                  .ok());
  link.advance(3500ms);
  EXPECT_GE(link.log_b().sent_sizes.size(), 3u) << "the waiting server asks for a ClientHello";
  ASSERT_TRUE(link.a()
                  .start(DtlsRole::Client, {DtlsRole::Server, {link.b().local_fingerprint()}},
                         false, link.now())
                  .ok());
  ASSERT_TRUE(link.run_until_settled());
  EXPECT_EQ(link.log_a().states, kConnectedOnce);
  EXPECT_EQ(link.log_b().states, kConnectedOnce);
  EXPECT_EQ(link.a().reconnect_attempts(), 0u);
  EXPECT_EQ(link.a().handshakes(), 1u);
  ASSERT_EQ(link.log_a().keys.size(), 1u);
  expect_mirrored_keys(link.log_a().keys[0], link.log_b().keys[0]);
}

}  // namespace
}  // namespace dtlstransport
