// Two DtlsTransports wired in memory: roles, profiles, keys, verification, lifecycle, MTU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <ostream>
#include <string>

#include "dtls_transport.hpp"
#include "memory_link.hpp"
#include "srtp_session.hpp"

namespace dtlstransport {
namespace {

using testing::LinkConditions;
using testing::MemoryLink;
using namespace std::chrono_literals;

const Certificate& shared_certificate(int which) {
  // Generating a key per test is cheap for ECDSA but adds up; two identities serve all tests.
  static const Certificate first = *Certificate::generate();
  static const Certificate second = *Certificate::generate();
  return which == 0 ? first : second;
}

DtlsConfig config_with(int identity) {
  DtlsConfig config;
  config.certificates = {shared_certificate(identity)};
  return config;
}

void expect_mirrored_keys(const SrtpKeys& a, const SrtpKeys& b) {
  EXPECT_EQ(a.profile, b.profile);
  EXPECT_EQ(a.local_key, b.remote_key);
  EXPECT_EQ(a.local_salt, b.remote_salt);
  EXPECT_EQ(a.remote_key, b.local_key);
  EXPECT_EQ(a.remote_salt, b.local_salt);
  EXPECT_EQ(a.local_key.size(), master_key_length(a.profile));
  EXPECT_EQ(a.local_salt.size(), master_salt_length(a.profile));
  EXPECT_FALSE(a.local_key == a.remote_key) << "client and server keys must differ";
}

// Protects RTP and RTCP on one side with its exported keys and unprotects on the other.
void expect_srtp_round_trip(const SrtpKeys& sender_keys, const SrtpKeys& receiver_keys) {
  SrtpSession sender, receiver;
  ASSERT_TRUE(sender.set_keys(sender_keys).ok());
  ASSERT_TRUE(receiver.set_keys(receiver_keys).ok());
  for (uint16_t seq = 1; seq <= 20; ++seq) {
    std::vector<uint8_t> packet(12 + 160 + SrtpSession::kRtpTrailerRoom, 0);
    packet[0] = 0x80;
    packet[1] = 96;
    packet[2] = static_cast<uint8_t>(seq >> 8);
    packet[3] = static_cast<uint8_t>(seq);
    packet[11] = 0x42;  // SSRC
    for (size_t i = 12; i < 12 + 160; ++i) packet[i] = static_cast<uint8_t>(i * seq);
    const std::vector<uint8_t> original(packet.begin(), packet.begin() + 12 + 160);
    size_t length = original.size();
    ASSERT_EQ(sender.protect_rtp(packet, length), SrtpResult::Ok);
    EXPECT_GT(length, original.size());
    ASSERT_EQ(receiver.unprotect_rtp(packet, length), SrtpResult::Ok);
    ASSERT_EQ(length, original.size());
    EXPECT_TRUE(std::equal(original.begin(), original.end(), packet.begin()));
  }
  // A lone RTCP receiver report.
  std::vector<uint8_t> rtcp = {0x80, 201, 0x00, 0x01, 0x00, 0x00, 0x00, 0x42};
  const auto original = rtcp;
  rtcp.resize(rtcp.size() + SrtpSession::kRtcpTrailerRoom);
  size_t length = original.size();
  ASSERT_EQ(sender.protect_rtcp(rtcp, length), SrtpResult::Ok);
  ASSERT_EQ(receiver.unprotect_rtcp(rtcp, length), SrtpResult::Ok);
  ASSERT_EQ(length, original.size());
  EXPECT_TRUE(std::equal(original.begin(), original.end(), rtcp.begin()));
}

TEST(DtlsRole, ResolutionFollowsPionsRule) {
  EXPECT_EQ(*resolve_dtls_role(DtlsRole::Auto, DtlsRole::Client, true), DtlsRole::Server);
  EXPECT_EQ(*resolve_dtls_role(DtlsRole::Auto, DtlsRole::Server, true), DtlsRole::Client);
  EXPECT_EQ(*resolve_dtls_role(DtlsRole::Auto, DtlsRole::Auto, true), DtlsRole::Server);
  EXPECT_EQ(*resolve_dtls_role(DtlsRole::Auto, DtlsRole::Auto, false), DtlsRole::Client);
  EXPECT_EQ(*resolve_dtls_role(DtlsRole::Client, DtlsRole::Auto, true), DtlsRole::Client);
  EXPECT_EQ(*resolve_dtls_role(DtlsRole::Server, DtlsRole::Client, false), DtlsRole::Server);
  EXPECT_FALSE(resolve_dtls_role(DtlsRole::Client, DtlsRole::Client, true).ok());
  EXPECT_FALSE(resolve_dtls_role(DtlsRole::Server, DtlsRole::Server, false).ok());
}

struct RoleCase {
  DtlsRole a, b;
  bool a_controlling;
  DtlsRole expected_a;
};

// Names the case in test output (gtest's byte dump would also read the struct's padding).
void PrintTo(const RoleCase& c, std::ostream* out) {
  *out << dtls_role_name(c.a) << "/" << dtls_role_name(c.b)
       << (c.a_controlling ? ", A controlling" : ", B controlling");
}

class RoleCombinations : public ::testing::TestWithParam<RoleCase> {};

TEST_P(RoleCombinations, ConnectWithMirroredKeysAndWorkingSrtp) {
  const RoleCase c = GetParam();
  MemoryLink link(config_with(0), config_with(1));
  link.start(c.a, c.b, c.a_controlling);
  ASSERT_TRUE(link.run_until_settled());
  ASSERT_EQ(link.a().state(), DtlsState::Connected) << link.a().failure_detail();
  ASSERT_EQ(link.b().state(), DtlsState::Connected) << link.b().failure_detail();
  EXPECT_EQ(link.a().role(), c.expected_a);
  EXPECT_EQ(link.b().role(),
            c.expected_a == DtlsRole::Client ? DtlsRole::Server : DtlsRole::Client);
  const std::vector<DtlsState> expected = {DtlsState::Connecting, DtlsState::Connected};
  EXPECT_EQ(link.log_a().states, expected);
  EXPECT_EQ(link.log_b().states, expected);
  ASSERT_EQ(link.log_a().keys.size(), 1u);
  ASSERT_EQ(link.log_b().keys.size(), 1u);
  expect_mirrored_keys(link.log_a().keys[0], link.log_b().keys[0]);
  EXPECT_EQ(link.a().srtp_profile(), SrtpProfile::AeadAes128Gcm);  // our default preference
  expect_srtp_round_trip(link.log_a().keys[0], link.log_b().keys[0]);
  expect_srtp_round_trip(link.log_b().keys[0], link.log_a().keys[0]);
  EXPECT_EQ(link.a().dtls_version(), "DTLSv1.2");
  EXPECT_FALSE(link.a().cipher_suite().empty());
  // Each side holds the other's certificate once verified.
  EXPECT_EQ(Fingerprint::of_der(HashAlgorithm::Sha256, link.a().remote_certificate_der()),
            link.b().local_fingerprint());
  EXPECT_NE(link.b().remote_certificate_pem().find("BEGIN CERTIFICATE"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    AllRoles, RoleCombinations,
    ::testing::Values(RoleCase{DtlsRole::Client, DtlsRole::Server, true, DtlsRole::Client},
                      RoleCase{DtlsRole::Server, DtlsRole::Client, true, DtlsRole::Server},
                      RoleCase{DtlsRole::Auto, DtlsRole::Auto, true, DtlsRole::Server},
                      RoleCase{DtlsRole::Auto, DtlsRole::Auto, false, DtlsRole::Client},
                      RoleCase{DtlsRole::Auto, DtlsRole::Client, true, DtlsRole::Server},
                      RoleCase{DtlsRole::Auto, DtlsRole::Server, false, DtlsRole::Client},
                      RoleCase{DtlsRole::Client, DtlsRole::Auto, false, DtlsRole::Client},
                      RoleCase{DtlsRole::Server, DtlsRole::Auto, true, DtlsRole::Server}));

class EveryProfile : public ::testing::TestWithParam<SrtpProfile> {};

TEST_P(EveryProfile, NegotiatedWhenOnlyOneOfferedAndKeysWork) {
  DtlsConfig a = config_with(0), b = config_with(1);
  a.srtp_profiles = {GetParam()};
  b.srtp_profiles = {GetParam()};
  MemoryLink link(std::move(a), std::move(b));
  link.start(DtlsRole::Client, DtlsRole::Server);
  ASSERT_TRUE(link.run_until_settled());
  ASSERT_EQ(link.a().state(), DtlsState::Connected) << link.a().failure_detail();
  ASSERT_EQ(link.b().state(), DtlsState::Connected) << link.b().failure_detail();
  EXPECT_EQ(link.a().srtp_profile(), GetParam());
  EXPECT_EQ(link.b().srtp_profile(), GetParam());
  ASSERT_EQ(link.log_a().keys.size(), 1u);
  EXPECT_EQ(link.log_a().keys[0].profile, GetParam());
  expect_mirrored_keys(link.log_a().keys[0], link.log_b().keys[0]);
  expect_srtp_round_trip(link.log_a().keys[0], link.log_b().keys[0]);
  expect_srtp_round_trip(link.log_b().keys[0], link.log_a().keys[0]);
}

INSTANTIATE_TEST_SUITE_P(AllProfiles, EveryProfile,
                         ::testing::Values(SrtpProfile::AeadAes128Gcm, SrtpProfile::AeadAes256Gcm,
                                           SrtpProfile::Aes128CmSha1_80,
                                           SrtpProfile::Aes128CmSha1_32));

TEST(DtlsTransport, ServerPreferenceWinsAmongCommonProfiles) {
  DtlsConfig client = config_with(0), server = config_with(1);
  client.srtp_profiles = {SrtpProfile::AeadAes128Gcm, SrtpProfile::Aes128CmSha1_80};
  server.srtp_profiles = {SrtpProfile::Aes128CmSha1_80, SrtpProfile::AeadAes128Gcm};
  MemoryLink link(std::move(client), std::move(server));
  link.start(DtlsRole::Client, DtlsRole::Server);
  ASSERT_TRUE(link.run_until_settled());
  EXPECT_EQ(link.a().srtp_profile(), SrtpProfile::Aes128CmSha1_80);
}

TEST(DtlsTransport, DisjointProfilesFailBothSides) {
  DtlsConfig a = config_with(0), b = config_with(1);
  a.srtp_profiles = {SrtpProfile::AeadAes128Gcm};
  b.srtp_profiles = {SrtpProfile::Aes128CmSha1_80};
  MemoryLink link(std::move(a), std::move(b));
  link.start(DtlsRole::Client, DtlsRole::Server);
  ASSERT_TRUE(link.run_until_settled());
  EXPECT_EQ(link.a().state(), DtlsState::Failed);
  EXPECT_EQ(link.b().state(), DtlsState::Failed);
  EXPECT_EQ(link.a().failure_reason(), FailureReason::NoCommonSrtpProfile);
  EXPECT_EQ(link.b().failure_reason(), FailureReason::NoCommonSrtpProfile);
  EXPECT_TRUE(link.log_a().keys.empty());
  EXPECT_TRUE(link.log_b().keys.empty());
}

TEST(DtlsTransport, RoleConflictFails) {
  for (DtlsRole role : {DtlsRole::Client, DtlsRole::Server}) {
    MemoryLink link(config_with(0), config_with(1));
    link.start(role, role);
    EXPECT_EQ(link.a().state(), DtlsState::Failed);
    EXPECT_EQ(link.a().failure_reason(), FailureReason::RoleConflict);
    EXPECT_EQ(link.b().failure_reason(), FailureReason::RoleConflict);
    EXPECT_NE(link.a().failure_detail().find("conflict"), std::string::npos);
    const std::vector<DtlsState> expected = {DtlsState::Failed};
    EXPECT_EQ(link.log_a().states, expected);
    EXPECT_TRUE(link.log_a().sent_sizes.empty()) << "nothing is sent on a role conflict";
  }
}

// A fingerprint that is well-formed but belongs to nobody here.
Fingerprint stranger_fingerprint() {
  return *Fingerprint::parse(
      "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:"
      "BB:CC:DD:EE:FF");
}

TEST(DtlsTransport, WrongFingerprintAtClientFailsClosedAndAlertsServer) {
  MemoryLink link(config_with(0), config_with(1));
  link.start_with(DtlsRole::Client, {DtlsRole::Server, {stranger_fingerprint()}}, DtlsRole::Server,
                  {DtlsRole::Client, {link.a().local_fingerprint()}});
  ASSERT_TRUE(link.run_until_settled());
  EXPECT_EQ(link.a().state(), DtlsState::Failed);
  EXPECT_EQ(link.a().failure_reason(), FailureReason::FingerprintMismatch);
  EXPECT_EQ(link.b().state(), DtlsState::Failed);
  EXPECT_EQ(link.b().failure_reason(), FailureReason::FatalAlertReceived);
  EXPECT_NE(link.b().failure_detail().find("bad certificate"), std::string::npos)
      << link.b().failure_detail();
  EXPECT_TRUE(link.log_a().keys.empty());
  EXPECT_TRUE(link.log_b().keys.empty());
  EXPECT_FALSE(link.a().srtp_profile().has_value());
  EXPECT_TRUE(link.a().remote_certificate_der().empty());
}

TEST(DtlsTransport, WrongFingerprintAtServerFailsClosedAndAlertsClient) {
  MemoryLink link(config_with(0), config_with(1));
  link.start_with(DtlsRole::Client, {DtlsRole::Server, {link.b().local_fingerprint()}},
                  DtlsRole::Server, {DtlsRole::Client, {stranger_fingerprint()}});
  ASSERT_TRUE(link.run_until_settled());
  EXPECT_EQ(link.b().failure_reason(), FailureReason::FingerprintMismatch);
  EXPECT_EQ(link.a().failure_reason(), FailureReason::FatalAlertReceived);
  EXPECT_TRUE(link.log_a().keys.empty());
  EXPECT_TRUE(link.log_b().keys.empty());
}

TEST(DtlsTransport, AnyOfSeveralFingerprintsSuffices) {
  MemoryLink link(config_with(0), config_with(1));
  const auto b_sha1 = link.b().local_fingerprint(HashAlgorithm::Sha1);
  link.start_with(DtlsRole::Client, {DtlsRole::Server, {stranger_fingerprint(), b_sha1}},
                  DtlsRole::Server,
                  {DtlsRole::Client, {link.a().local_fingerprint(HashAlgorithm::Sha512)}});
  ASSERT_TRUE(link.run_until_settled());
  EXPECT_EQ(link.a().state(), DtlsState::Connected) << link.a().failure_detail();
  EXPECT_EQ(link.b().state(), DtlsState::Connected) << link.b().failure_detail();
}

TEST(DtlsTransport, LateFingerprintConnectsWhenSet) {
  MemoryLink link(config_with(0), config_with(1));
  link.start_with(DtlsRole::Client, {DtlsRole::Server, {}}, DtlsRole::Server,
                  {DtlsRole::Client, {link.a().local_fingerprint()}});
  link.advance(2s);
  // The handshake is done, but A cannot trust B yet: no keys, still connecting.
  EXPECT_EQ(link.b().state(), DtlsState::Connected);
  EXPECT_EQ(link.a().state(), DtlsState::Connecting);
  EXPECT_TRUE(link.log_a().keys.empty());
  EXPECT_FALSE(link.a().srtp_profile().has_value());
  link.a().set_remote_fingerprints({link.b().local_fingerprint()}, link.now());
  EXPECT_EQ(link.a().state(), DtlsState::Connected);
  ASSERT_EQ(link.log_a().keys.size(), 1u);
  expect_mirrored_keys(link.log_a().keys[0], link.log_b().keys[0]);
}

TEST(DtlsTransport, LateWrongFingerprintFailsAndPeerSeesClose) {
  MemoryLink link(config_with(0), config_with(1));
  link.start_with(DtlsRole::Client, {DtlsRole::Server, {}}, DtlsRole::Server,
                  {DtlsRole::Client, {link.a().local_fingerprint()}});
  link.advance(2s);
  link.a().set_remote_fingerprints({stranger_fingerprint()}, link.now());
  EXPECT_EQ(link.a().state(), DtlsState::Failed);
  EXPECT_EQ(link.a().failure_reason(), FailureReason::FingerprintMismatch);
  EXPECT_TRUE(link.log_a().keys.empty());
  link.advance(1s);
  EXPECT_EQ(link.b().state(), DtlsState::Closed);
}

// On a mismatch the fingerprint the peer actually presented is readable (sha-256 of its
// certificate), in the handshake (verify callback) and when a late fingerprint is checked.
TEST(DtlsTransport, MismatchTellsWhichCertificateThePeerPresented) {
  MemoryLink link(config_with(0), config_with(1));
  link.start_with(DtlsRole::Client, {DtlsRole::Server, {stranger_fingerprint()}}, DtlsRole::Server,
                  {DtlsRole::Client, {link.a().local_fingerprint()}});
  ASSERT_TRUE(link.run_until_settled());
  ASSERT_EQ(link.a().failure_reason(), FailureReason::FingerprintMismatch);
  EXPECT_EQ(link.a().presented_fingerprint(), link.b().local_fingerprint().to_string());
  EXPECT_EQ(link.b().presented_fingerprint(), "") << "B was not the one rejecting";
}

TEST(DtlsTransport, LateMismatchTellsWhichCertificateThePeerPresented) {
  MemoryLink link(config_with(0), config_with(1));
  link.start_with(DtlsRole::Client, {DtlsRole::Server, {}}, DtlsRole::Server,
                  {DtlsRole::Client, {link.a().local_fingerprint()}});
  link.advance(2s);
  EXPECT_EQ(link.a().presented_fingerprint(), "");
  link.a().set_remote_fingerprints({stranger_fingerprint()}, link.now());
  ASSERT_EQ(link.a().failure_reason(), FailureReason::FingerprintMismatch);
  EXPECT_EQ(link.a().presented_fingerprint(), link.b().local_fingerprint().to_string());
}

TEST(DtlsTransport, NoFingerprintEverFailsAtTheDeadline) {
  DtlsConfig a = config_with(0);
  a.handshake_timeout = 5s;
  MemoryLink link(std::move(a), config_with(1));
  link.start_with(DtlsRole::Client, {DtlsRole::Server, {}}, DtlsRole::Server,
                  {DtlsRole::Client, {link.a().local_fingerprint()}});
  ASSERT_TRUE(link.run_until([&] { return link.a().state() == DtlsState::Failed; }, 10s));
  EXPECT_EQ(link.a().failure_reason(), FailureReason::NoRemoteFingerprint);
  EXPECT_GE(link.now() - link.start_time(), 5s);
  EXPECT_LT(link.now() - link.start_time(), 5s + 100ms);
  EXPECT_TRUE(link.log_a().keys.empty());
  // B finished its handshake and was connected: it is told at once, not left talking to nobody.
  link.advance(100ms);
  EXPECT_EQ(link.b().state(), DtlsState::Closed);
}

TEST(DtlsTransport, StopSendsCloseNotifyAndPeerCloses) {
  MemoryLink link(config_with(0), config_with(1));
  link.start(DtlsRole::Auto, DtlsRole::Auto);
  ASSERT_TRUE(link.run_until_settled());
  link.a().stop();
  EXPECT_EQ(link.a().state(), DtlsState::Closed);
  link.advance(100ms);
  EXPECT_EQ(link.b().state(), DtlsState::Closed);
  link.a().stop();  // idempotent
  const std::vector<DtlsState> expected = {DtlsState::Connecting, DtlsState::Connected,
                                           DtlsState::Closed};
  EXPECT_EQ(link.log_a().states, expected);
  EXPECT_EQ(link.log_b().states, expected);
}

// What was negotiated is what an application logs at the end of a call: it stays readable on both
// sides after close_notify.
TEST(DtlsTransport, NegotiatedParametersOutliveTheAssociation) {
  MemoryLink link(config_with(0), config_with(1));
  link.start(DtlsRole::Client, DtlsRole::Server);
  ASSERT_TRUE(link.run_until_settled());
  const auto profile = link.a().srtp_profile();
  const std::string cipher = link.a().cipher_suite();
  ASSERT_TRUE(profile.has_value());
  link.a().stop();
  link.advance(100ms);
  for (DtlsTransport* side : {&link.a(), &link.b()}) {
    ASSERT_EQ(side->state(), DtlsState::Closed);
    EXPECT_EQ(side->srtp_profile(), profile);
    EXPECT_EQ(side->cipher_suite(), cipher);
    EXPECT_EQ(side->dtls_version(), "DTLSv1.2");
    EXPECT_FALSE(side->remote_certificate_pem().empty());
  }
  EXPECT_EQ(link.a().role(), DtlsRole::Client);
  EXPECT_EQ(link.b().role(), DtlsRole::Server);
}

// ICE failing under a connected association (consent expired) fails it with TransportLost: no
// datagram goes out (there is no path), what was negotiated stays readable, the peer is untouched.
TEST(DtlsTransport, TransportLostFailsSilentlyAndKeepsWhatWasNegotiated) {
  MemoryLink link(config_with(0), config_with(1));
  link.start(DtlsRole::Client, DtlsRole::Server);
  ASSERT_TRUE(link.run_until_settled());
  const size_t sent_before = link.log_a().sent_sizes.size();
  link.a().transport_lost("ICE connectivity lost: consent expired");
  EXPECT_EQ(link.a().state(), DtlsState::Failed);
  EXPECT_EQ(link.a().failure_reason(), FailureReason::TransportLost);
  EXPECT_EQ(link.a().failure_detail(), "ICE connectivity lost: consent expired");
  EXPECT_EQ(link.log_a().sent_sizes.size(), sent_before);
  EXPECT_TRUE(link.a().srtp_profile().has_value());
  link.a().transport_lost("again");  // a failed transport stays as it failed
  EXPECT_EQ(link.a().failure_detail(), "ICE connectivity lost: consent expired");
  link.advance(100ms);
  EXPECT_EQ(link.b().state(), DtlsState::Connected);
}

// ICE can fail before DTLS ever started: the transport must not stay `new` for ever.
TEST(DtlsTransport, TransportLostBeforeStartFails) {
  MemoryLink link(config_with(0), config_with(1));
  link.a().transport_lost("ICE failed: no candidate pair worked");
  EXPECT_EQ(link.a().state(), DtlsState::Failed);
  EXPECT_EQ(link.a().failure_reason(), FailureReason::TransportLost);
  const std::vector<DtlsState> expected = {DtlsState::Failed};
  EXPECT_EQ(link.log_a().states, expected);
  EXPECT_FALSE(link.a().start(DtlsRole::Client, {}, true, link.now()));
}

TEST(DtlsTransport, ApplicationDataBothWays) {
  MemoryLink link(config_with(0), config_with(1));
  link.start(DtlsRole::Client, DtlsRole::Server);
  ASSERT_TRUE(link.run_until_settled());
  const std::vector<uint8_t> hello = {'h', 'e', 'l', 'l', 'o'};
  ASSERT_TRUE(link.a().send_application_data(hello).ok());
  ASSERT_TRUE(link.b().send_application_data(hello).ok());
  link.advance(100ms);
  ASSERT_EQ(link.log_b().application_data.size(), 1u);
  EXPECT_EQ(link.log_b().application_data[0], hello);
  ASSERT_EQ(link.log_a().application_data.size(), 1u);
  const std::vector<uint8_t> too_big(16385, 1);
  EXPECT_FALSE(link.a().send_application_data(too_big).ok());
}

// SCTP over DTLS (RFC 8261 §5) sends 1200-byte packets (RFC 8831 §5), one per record: at the
// default MTU of 1200 such a record does not fit, and still goes, alone in its datagram.
TEST(DtlsTransport, ApplicationDataRecordLargerThanTheMtuGoesAlone) {
  MemoryLink link(config_with(0), config_with(1));
  link.start(DtlsRole::Client, DtlsRole::Server);
  ASSERT_TRUE(link.run_until_settled());
  const std::vector<uint8_t> sctp_packet(1200, 7);
  ASSERT_TRUE(link.a().send_application_data(sctp_packet).ok());
  link.advance(100ms);
  ASSERT_EQ(link.log_b().application_data.size(), 1u);
  EXPECT_EQ(link.log_b().application_data[0], sctp_packet);
}

TEST(DtlsTransport, DatagramsBeforeStartAreKept) {
  MemoryLink link(config_with(0), config_with(1));
  // The client starts first; its ClientHello reaches B before B is started (ICE can finish on the
  // other side first: libdatachannel#1554 lost a second here).
  ASSERT_TRUE(link.a()
                  .start(DtlsRole::Client, {DtlsRole::Server, {link.b().local_fingerprint()}}, true,
                         link.now())
                  .ok());
  link.advance(50ms);
  EXPECT_EQ(link.b().state(), DtlsState::New);
  ASSERT_TRUE(link.b()
                  .start(DtlsRole::Server, {DtlsRole::Client, {link.a().local_fingerprint()}},
                         false, link.now())
                  .ok());
  ASSERT_TRUE(link.run_until_settled());
  EXPECT_EQ(link.b().state(), DtlsState::Connected);
  // No retransmission was needed: connected well before the first retry (400 ms).
  EXPECT_LT(*link.log_a().connected_at - link.start_time(), 400ms);
}

TEST(DtlsTransport, StartTwiceIsRejected) {
  MemoryLink link(config_with(0), config_with(1));
  link.start(DtlsRole::Client, DtlsRole::Server);
  const Status again = link.a().start(DtlsRole::Client, {}, true, link.now());
  EXPECT_FALSE(again.ok());
}

TEST(DtlsTransport, CallbacksMayReadStateAndCallBack) {
  std::unique_ptr<DtlsTransport> transport;
  std::vector<std::string> seen;
  DtlsCallbacks callbacks;
  callbacks.state_changed = [&](DtlsState state, FailureReason, const std::string&) {
    seen.push_back(dtls_state_name(transport->state()));
    if (state == DtlsState::Connecting) transport->stop();  // re-entrant call
  };
  auto created = DtlsTransport::create(config_with(0), callbacks);
  ASSERT_TRUE(created.ok());
  transport = std::move(*created);
  ASSERT_TRUE(
      transport->start(DtlsRole::Client, {DtlsRole::Server, {stranger_fingerprint()}}, true, {})
          .ok());
  EXPECT_EQ(transport->state(), DtlsState::Closed);
  ASSERT_EQ(seen.size(), 2u);
}

TEST(DtlsTransport, RejectsUnusableConfiguration) {
  DtlsConfig config = config_with(0);
  config.mtu = 100;
  auto created = DtlsTransport::create(config, {});
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message.find("MTU"), std::string::npos);
  config = config_with(0);
  config.srtp_profiles.clear();
  EXPECT_FALSE(DtlsTransport::create(config, {}).ok());
}

TEST(DtlsTransport, GeneratesAnEcdsaCertificateWhenNoneIsGiven) {
  auto created = DtlsTransport::create({}, {});
  ASSERT_TRUE(created.ok());
  EVP_PKEY* key = (*created)->local_certificate().private_key();
  EXPECT_EQ(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
  EXPECT_EQ((*created)->local_fingerprint().algorithm(), HashAlgorithm::Sha256);
}

// RSA-4096 makes the Certificate message ~1.4 kB: it must be fragmented to fit, never coalesced
// past the MTU by our BIO (mediasoup#1100, janus#252).
std::string rsa4096_pem() {
  const char* openssl = std::getenv("OPENSSL_BIN");
  const std::string command =
      std::string(openssl ? openssl : "openssl") +
      " req -x509 -newkey rsa:4096 -nodes -keyout /dev/stdout -out /dev/stdout -subj /CN=big "
      "-days 2 2>/dev/null";
  std::string pem;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[4096];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) pem.append(buffer, n);
    pclose(pipe);
  }
  return pem;
}

TEST(DtlsTransport, Rsa4096HandshakeStaysWithinTheMtu) {
  auto big = Certificate::from_pem(rsa4096_pem());
  ASSERT_TRUE(big.ok()) << big.error().message;
  for (size_t mtu : {size_t{1200}, size_t{576}}) {
    DtlsConfig a, b;
    a.certificates = {*big};
    b.certificates = {*big};
    a.mtu = b.mtu = mtu;
    MemoryLink link(std::move(a), std::move(b));
    link.start(DtlsRole::Client, DtlsRole::Server);
    ASSERT_TRUE(link.run_until_settled());
    EXPECT_EQ(link.a().state(), DtlsState::Connected) << link.a().failure_detail();
    EXPECT_EQ(link.b().state(), DtlsState::Connected) << link.b().failure_detail();
    for (const auto* log : {&link.log_a(), &link.log_b()}) {
      ASSERT_FALSE(log->sent_sizes.empty());
      EXPECT_LE(*std::max_element(log->sent_sizes.begin(), log->sent_sizes.end()), mtu);
    }
  }
}

}  // namespace
}  // namespace dtlstransport

namespace dtlstransport {
namespace {

// A server's many sessions share one identity and one SSL_CTX.
TEST(DtlsContext, ManyTransportsShareOneContext) {
  auto shared = DtlsContext::create(*Certificate::generate(), default_srtp_profiles());
  ASSERT_TRUE(shared.ok()) << shared.error().message;
  for (int session = 0; session < 3; ++session) {
    DtlsConfig server;
    server.context = *shared;
    MemoryLink link(std::move(server), config_with(1));
    EXPECT_EQ(link.a().local_fingerprint(), (*shared)->certificate().fingerprint());
    link.start(DtlsRole::Server, DtlsRole::Client);
    ASSERT_TRUE(link.run_until_settled());
    EXPECT_EQ(link.a().state(), DtlsState::Connected) << link.a().failure_detail();
    EXPECT_EQ(link.b().state(), DtlsState::Connected) << link.b().failure_detail();
  }
  EXPECT_FALSE(DtlsContext::create(*Certificate::generate(), {}).ok());
}

}  // namespace
}  // namespace dtlstransport
