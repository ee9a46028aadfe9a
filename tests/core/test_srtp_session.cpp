// SrtpSession: round trips for every DTLS-SRTP profile, the failure kinds a receiver counts, and
// interop with a libsrtp2 context configured independently of our code.
#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "srtp_profile.hpp"
#include "srtp_session.hpp"

namespace dtlstransport {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr SrtpProfile kAllProfiles[] = {SrtpProfile::AeadAes128Gcm, SrtpProfile::AeadAes256Gcm,
                                        SrtpProfile::Aes128CmSha1_80, SrtpProfile::Aes128CmSha1_32};

struct TagLengths {
  size_t rtp;
  size_t rtcp;
};

// From the RFCs, not from the code under test: RFC 7714 §14.2 (16-byte GCM tag), RFC 5764 §4.1.2
// (CM_32 truncates the SRTP tag to 4 bytes, SRTCP keeps 10).
TagLengths expected_tags(SrtpProfile profile) {
  switch (profile) {
    case SrtpProfile::AeadAes128Gcm:
    case SrtpProfile::AeadAes256Gcm:
      return {16, 16};
    case SrtpProfile::Aes128CmSha1_80:
      return {10, 10};
    case SrtpProfile::Aes128CmSha1_32:
      return {4, 10};
  }
  return {0, 0};
}

SecureBytes pattern(size_t size, uint8_t seed) {
  SecureBytes bytes(size);
  for (size_t i = 0; i < size; ++i) bytes.data()[i] = static_cast<uint8_t>(seed + 7 * i);
  return bytes;
}

SrtpKeys make_keys(SrtpProfile profile, uint8_t seed = 1) {
  SrtpKeys keys;
  keys.profile = profile;
  keys.local_key = pattern(master_key_length(profile), seed);
  keys.local_salt = pattern(master_salt_length(profile), seed + 50);
  keys.remote_key = pattern(master_key_length(profile), seed + 100);
  keys.remote_salt = pattern(master_salt_length(profile), seed + 150);
  return keys;
}

// The peer's view of the same association: its local keys are our remote ones.
SrtpKeys mirrored(const SrtpKeys& keys) {
  SrtpKeys peer;
  peer.profile = keys.profile;
  peer.local_key = keys.remote_key;
  peer.local_salt = keys.remote_salt;
  peer.remote_key = keys.local_key;
  peer.remote_salt = keys.local_salt;
  return peer;
}

// A packet in a buffer with trailer room behind it, as the element hands it over.
struct Packet {
  Bytes buffer;
  size_t length = 0;

  std::span<uint8_t> span() { return buffer; }
  Bytes bytes() const { return Bytes(buffer.begin(), buffer.begin() + length); }
};

Bytes rtp_plain(uint16_t seq, uint32_t ssrc = 0x11223344, size_t payload = 160) {
  Bytes packet = {0x80,
                  96,
                  static_cast<uint8_t>(seq >> 8),
                  static_cast<uint8_t>(seq),
                  0x00,
                  0x00,
                  static_cast<uint8_t>(seq >> 8),
                  static_cast<uint8_t>(seq),
                  static_cast<uint8_t>(ssrc >> 24),
                  static_cast<uint8_t>(ssrc >> 16),
                  static_cast<uint8_t>(ssrc >> 8),
                  static_cast<uint8_t>(ssrc)};
  for (size_t i = 0; i < payload; ++i) packet.push_back(static_cast<uint8_t>(seq + i));
  return packet;
}

// Compound RTCP: a receiver report with one report block (32 bytes) and an SDES CNAME chunk.
Bytes rtcp_plain(uint32_t ssrc = 0x11223344) {
  Bytes packet = {0x81,
                  201,
                  0x00,
                  0x07,
                  static_cast<uint8_t>(ssrc >> 24),
                  static_cast<uint8_t>(ssrc >> 16),
                  static_cast<uint8_t>(ssrc >> 8),
                  static_cast<uint8_t>(ssrc)};
  for (int i = 0; i < 24; ++i) packet.push_back(static_cast<uint8_t>(i));
  const Bytes sdes = {0x81,
                      202,
                      0x00,
                      0x03,
                      static_cast<uint8_t>(ssrc >> 24),
                      static_cast<uint8_t>(ssrc >> 16),
                      static_cast<uint8_t>(ssrc >> 8),
                      static_cast<uint8_t>(ssrc),
                      0x01,
                      0x02,
                      'h',
                      'i',
                      0x00,
                      0x00,
                      0x00,
                      0x00};
  packet.insert(packet.end(), sdes.begin(), sdes.end());
  return packet;
}

// Where the E flag + SRTCP index word sits: after the encrypted part and before the tag for the
// CM profiles (RFC 3711 §3.4), after the tag for AEAD (RFC 7714 §9.1).
size_t srtcp_index_offset(SrtpProfile profile, size_t plain_length) {
  const bool aead = profile == SrtpProfile::AeadAes128Gcm || profile == SrtpProfile::AeadAes256Gcm;
  return aead ? plain_length + expected_tags(profile).rtcp : plain_length;
}

Packet with_room(const Bytes& plain, size_t room) {
  Packet packet;
  packet.buffer = plain;
  packet.buffer.resize(plain.size() + room, 0);
  packet.length = plain.size();
  return packet;
}

Packet protect_rtp(SrtpSession& session, const Bytes& plain) {
  Packet packet = with_room(plain, SrtpSession::kRtpTrailerRoom);
  EXPECT_EQ(session.protect_rtp(packet.span(), packet.length), SrtpResult::Ok);
  return packet;
}

Packet protect_rtcp(SrtpSession& session, const Bytes& plain) {
  Packet packet = with_room(plain, SrtpSession::kRtcpTrailerRoom);
  EXPECT_EQ(session.protect_rtcp(packet.span(), packet.length), SrtpResult::Ok);
  return packet;
}

SrtpResult unprotect_rtp(SrtpSession& session, Packet packet, Bytes* plain = nullptr) {
  const SrtpResult result = session.unprotect_rtp(packet.span(), packet.length);
  if (plain) *plain = packet.bytes();
  return result;
}

SrtpResult unprotect_rtcp(SrtpSession& session, Packet packet, Bytes* plain = nullptr) {
  const SrtpResult result = session.unprotect_rtcp(packet.span(), packet.length);
  if (plain) *plain = packet.bytes();
  return result;
}

struct Pair {
  SrtpSession a;
  SrtpSession b;
};

std::unique_ptr<Pair> make_pair(SrtpProfile profile) {
  auto pair = std::make_unique<Pair>();
  const SrtpKeys keys = make_keys(profile);
  EXPECT_TRUE(pair->a.set_keys(keys).ok());
  EXPECT_TRUE(pair->b.set_keys(mirrored(keys)).ok());
  return pair;
}

std::string profile_test_name(const testing::TestParamInfo<SrtpProfile>& info) {
  std::string name(openssl_name(info.param));
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

class SrtpSessionProfile : public testing::TestWithParam<SrtpProfile> {};

INSTANTIATE_TEST_SUITE_P(AllProfiles, SrtpSessionProfile, testing::ValuesIn(kAllProfiles),
                         profile_test_name);

TEST(SrtpSession, KeyLengthsPerProfile) {
  // test_srtp_profile checks the RFC values; here libsrtp must agree with them (the IANA ids
  // double as srtp_profile_t values).
  for (SrtpProfile profile : kAllProfiles) {
    const auto id = static_cast<srtp_profile_t>(static_cast<uint16_t>(profile));
    EXPECT_EQ(master_key_length(profile), srtp_profile_get_master_key_length(id));
    EXPECT_EQ(master_salt_length(profile), srtp_profile_get_master_salt_length(id));
  }
}

TEST(SrtpSession, ResultNames) {
  EXPECT_STREQ(srtp_result_name(SrtpResult::Ok), "ok");
  EXPECT_STREQ(srtp_result_name(SrtpResult::AuthFailure), "auth-failure");
  EXPECT_STREQ(srtp_result_name(SrtpResult::Replay), "replay");
  EXPECT_STREQ(srtp_result_name(SrtpResult::Malformed), "malformed");
  EXPECT_STREQ(srtp_result_name(SrtpResult::NoKeys), "no-keys");
  EXPECT_STREQ(srtp_result_name(SrtpResult::Error), "error");
}

TEST(SrtpSession, NoKeys) {
  SrtpSession session;
  EXPECT_FALSE(session.has_keys());
  Packet rtp = with_room(rtp_plain(1), SrtpSession::kRtpTrailerRoom);
  Packet rtcp = with_room(rtcp_plain(), SrtpSession::kRtcpTrailerRoom);
  const size_t rtp_length = rtp.length;
  EXPECT_EQ(session.protect_rtp(rtp.span(), rtp.length), SrtpResult::NoKeys);
  EXPECT_EQ(session.unprotect_rtp(rtp.span(), rtp.length), SrtpResult::NoKeys);
  EXPECT_EQ(session.protect_rtcp(rtcp.span(), rtcp.length), SrtpResult::NoKeys);
  EXPECT_EQ(session.unprotect_rtcp(rtcp.span(), rtcp.length), SrtpResult::NoKeys);
  EXPECT_EQ(rtp.length, rtp_length);
  EXPECT_EQ(rtp.bytes(), rtp_plain(1));
}

TEST(SrtpSession, WrongKeyLengthsAreRejected) {
  for (SrtpProfile profile : kAllProfiles) {
    SrtpSession session;
    SrtpKeys keys = make_keys(profile);
    keys.remote_salt = pattern(master_salt_length(profile) + 1, 3);
    const Status status = session.set_keys(keys);
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message.find("remote"), std::string::npos) << status.error().message;
    EXPECT_FALSE(session.has_keys());

    keys = make_keys(profile);
    keys.local_key = SecureBytes();
    EXPECT_FALSE(session.set_keys(keys).ok());
    EXPECT_FALSE(session.has_keys());
  }
  // GCM-256 needs a 32-byte key: a 16-byte one is wrong even though 128-bit profiles take it.
  SrtpSession session;
  SrtpKeys keys = make_keys(SrtpProfile::AeadAes128Gcm);
  keys.profile = SrtpProfile::AeadAes256Gcm;
  EXPECT_FALSE(session.set_keys(keys).ok());
}

TEST(SrtpSession, FailedSetKeysKeepsTheOldKeys) {
  auto pair = make_pair(SrtpProfile::AeadAes128Gcm);
  SrtpKeys bad = make_keys(SrtpProfile::AeadAes128Gcm, 9);
  bad.remote_key = SecureBytes();
  EXPECT_FALSE(pair->a.set_keys(bad).ok());
  ASSERT_TRUE(pair->a.has_keys());
  EXPECT_EQ(unprotect_rtp(pair->b, protect_rtp(pair->a, rtp_plain(1))), SrtpResult::Ok);
}

TEST_P(SrtpSessionProfile, RtpRoundTripBothDirections) {
  auto pair = make_pair(GetParam());
  const TagLengths tags = expected_tags(GetParam());
  for (uint16_t seq = 1; seq <= 5; ++seq) {
    const Bytes plain = rtp_plain(seq);
    Packet a_to_b = protect_rtp(pair->a, plain);
    EXPECT_EQ(a_to_b.length, plain.size() + tags.rtp);
    // Header in clear, payload encrypted.
    EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + 12, a_to_b.buffer.begin()));
    EXPECT_FALSE(std::equal(plain.begin() + 12, plain.end(), a_to_b.buffer.begin() + 12));
    Bytes received;
    EXPECT_EQ(unprotect_rtp(pair->b, a_to_b, &received), SrtpResult::Ok);
    EXPECT_EQ(received, plain);

    Packet b_to_a = protect_rtp(pair->b, plain);
    EXPECT_EQ(unprotect_rtp(pair->a, b_to_a, &received), SrtpResult::Ok);
    EXPECT_EQ(received, plain);
    // Different keys per direction: the same plaintext encrypts differently.
    EXPECT_NE(a_to_b.bytes(), b_to_a.bytes());
  }
}

TEST_P(SrtpSessionProfile, RtcpRoundTripBothDirections) {
  auto pair = make_pair(GetParam());
  const TagLengths tags = expected_tags(GetParam());
  const Bytes plain = rtcp_plain();
  const size_t index_offset = srtcp_index_offset(GetParam(), plain.size());
  uint8_t previous_index = 0;
  for (int i = 0; i < 5; ++i) {
    Packet a_to_b = protect_rtcp(pair->a, plain);
    EXPECT_EQ(a_to_b.length, plain.size() + 4 + tags.rtcp);
    // E flag set (encrypted), and the SRTCP index counts up by one per packet (RFC 3711 §3.4).
    EXPECT_EQ(a_to_b.buffer[index_offset], 0x80);
    if (i > 0) {
      EXPECT_EQ(a_to_b.buffer[index_offset + 3], previous_index + 1);
    }
    previous_index = a_to_b.buffer[index_offset + 3];
    EXPECT_FALSE(std::equal(plain.begin() + 8, plain.end(), a_to_b.buffer.begin() + 8));
    Bytes received;
    EXPECT_EQ(unprotect_rtcp(pair->b, a_to_b, &received), SrtpResult::Ok);
    EXPECT_EQ(received, plain);

    Packet b_to_a = protect_rtcp(pair->b, plain);
    EXPECT_EQ(unprotect_rtcp(pair->a, b_to_a, &received), SrtpResult::Ok);
    EXPECT_EQ(received, plain);
  }
}

TEST_P(SrtpSessionProfile, TamperedRtpFailsAuthentication) {
  auto pair = make_pair(GetParam());
  Packet payload_flip = protect_rtp(pair->a, rtp_plain(1));
  Packet tag_flip = protect_rtp(pair->a, rtp_plain(2));
  Packet header_flip = protect_rtp(pair->a, rtp_plain(3));
  Packet intact = protect_rtp(pair->a, rtp_plain(4));
  payload_flip.buffer[20] ^= 0x01;
  tag_flip.buffer[tag_flip.length - 1] ^= 0x80;
  header_flip.buffer[4] ^= 0x01;  // timestamp: authenticated, not encrypted
  EXPECT_EQ(unprotect_rtp(pair->b, payload_flip), SrtpResult::AuthFailure);
  EXPECT_EQ(unprotect_rtp(pair->b, tag_flip), SrtpResult::AuthFailure);
  EXPECT_EQ(unprotect_rtp(pair->b, header_flip), SrtpResult::AuthFailure);
  // The failures did not poison the stream.
  EXPECT_EQ(unprotect_rtp(pair->b, intact), SrtpResult::Ok);
}

TEST_P(SrtpSessionProfile, TamperedRtcpFailsAuthentication) {
  auto pair = make_pair(GetParam());
  Packet payload_flip = protect_rtcp(pair->a, rtcp_plain());
  Packet tag_flip = protect_rtcp(pair->a, rtcp_plain());
  Packet index_flip = protect_rtcp(pair->a, rtcp_plain());
  Packet intact = protect_rtcp(pair->a, rtcp_plain());
  payload_flip.buffer[12] ^= 0x01;
  tag_flip.buffer[tag_flip.length - 1] ^= 0x80;
  index_flip.buffer[srtcp_index_offset(GetParam(), rtcp_plain().size()) + 3] ^= 0x04;
  EXPECT_EQ(unprotect_rtcp(pair->b, payload_flip), SrtpResult::AuthFailure);
  EXPECT_EQ(unprotect_rtcp(pair->b, tag_flip), SrtpResult::AuthFailure);
  EXPECT_EQ(unprotect_rtcp(pair->b, index_flip), SrtpResult::AuthFailure);
  EXPECT_EQ(unprotect_rtcp(pair->b, intact), SrtpResult::Ok);
}

TEST_P(SrtpSessionProfile, ReplayIsDetected) {
  auto pair = make_pair(GetParam());
  const Packet rtp = protect_rtp(pair->a, rtp_plain(7));
  EXPECT_EQ(unprotect_rtp(pair->b, rtp), SrtpResult::Ok);
  EXPECT_EQ(unprotect_rtp(pair->b, rtp), SrtpResult::Replay);

  const Packet rtcp = protect_rtcp(pair->a, rtcp_plain());
  EXPECT_EQ(unprotect_rtcp(pair->b, rtcp), SrtpResult::Ok);
  EXPECT_EQ(unprotect_rtcp(pair->b, rtcp), SrtpResult::Replay);
}

TEST_P(SrtpSessionProfile, ReplayWindowIs1024Packets) {
  auto pair = make_pair(GetParam());
  std::vector<Packet> sent;
  for (uint16_t seq = 0; seq <= 1500; ++seq)
    sent.push_back(protect_rtp(pair->a, rtp_plain(seq, 0x42, 8)));
  EXPECT_EQ(unprotect_rtp(pair->b, sent[1500]), SrtpResult::Ok);
  // 500 behind: inside a 1024 window, outside libsrtp's default 128.
  EXPECT_EQ(unprotect_rtp(pair->b, sent[1000]), SrtpResult::Ok);
  EXPECT_EQ(unprotect_rtp(pair->b, sent[1500 - 1023]), SrtpResult::Ok);
  // 1400 behind: older than the window, never seen, still refused.
  EXPECT_EQ(unprotect_rtp(pair->b, sent[100]), SrtpResult::Replay);
  EXPECT_EQ(unprotect_rtp(pair->b, sent[1500 - 1025]), SrtpResult::Replay);
}

TEST_P(SrtpSessionProfile, WrongKeysFailAuthentication) {
  SrtpSession a;
  SrtpSession b;
  const SrtpKeys keys = make_keys(GetParam());
  ASSERT_TRUE(a.set_keys(keys).ok());
  // b uses the right key but a different salt, then entirely different keys.
  SrtpKeys wrong_salt = mirrored(keys);
  wrong_salt.remote_salt.data()[0] ^= 0x01;
  ASSERT_TRUE(b.set_keys(wrong_salt).ok());
  EXPECT_EQ(unprotect_rtp(b, protect_rtp(a, rtp_plain(1))), SrtpResult::AuthFailure);
  EXPECT_EQ(unprotect_rtcp(b, protect_rtcp(a, rtcp_plain())), SrtpResult::AuthFailure);

  ASSERT_TRUE(b.set_keys(make_keys(GetParam(), 77)).ok());
  EXPECT_EQ(unprotect_rtp(b, protect_rtp(a, rtp_plain(2))), SrtpResult::AuthFailure);
  EXPECT_EQ(unprotect_rtcp(b, protect_rtcp(a, rtcp_plain())), SrtpResult::AuthFailure);

  // Not mirrored: b's inbound key is a's inbound key, not a's outbound one.
  ASSERT_TRUE(b.set_keys(keys).ok());
  EXPECT_EQ(unprotect_rtp(b, protect_rtp(a, rtp_plain(3))), SrtpResult::AuthFailure);
}

TEST_P(SrtpSessionProfile, TooSmallBufferIsMalformed) {
  auto pair = make_pair(GetParam());
  const Bytes plain = rtp_plain(1);
  Packet rtp = with_room(plain, SrtpSession::kRtpTrailerRoom - 1);
  EXPECT_EQ(pair->a.protect_rtp(rtp.span(), rtp.length), SrtpResult::Malformed);
  EXPECT_EQ(rtp.length, plain.size());
  EXPECT_EQ(rtp.bytes(), plain);  // untouched

  const Bytes rtcp_bytes = rtcp_plain();
  Packet rtcp = with_room(rtcp_bytes, SrtpSession::kRtcpTrailerRoom - 1);
  EXPECT_EQ(pair->a.protect_rtcp(rtcp.span(), rtcp.length), SrtpResult::Malformed);
  EXPECT_EQ(rtcp.bytes(), rtcp_bytes);

  // A length beyond the buffer.
  Packet srtp = protect_rtp(pair->a, plain);
  size_t too_long = srtp.buffer.size() + 1;
  EXPECT_EQ(pair->b.unprotect_rtp(srtp.span(), too_long), SrtpResult::Malformed);
  Packet srtcp = protect_rtcp(pair->a, rtcp_bytes);
  too_long = srtcp.buffer.size() + 1;
  EXPECT_EQ(pair->b.unprotect_rtcp(srtcp.span(), too_long), SrtpResult::Malformed);
  // Exactly enough room works.
  Packet exact = with_room(rtp_plain(2), SrtpSession::kRtpTrailerRoom);
  EXPECT_EQ(pair->a.protect_rtp(exact.span(), exact.length), SrtpResult::Ok);
}

TEST_P(SrtpSessionProfile, MalformedPlaintextIsRefused) {
  auto pair = make_pair(GetParam());
  Bytes bad_rtp = rtp_plain(1);
  bad_rtp[0] = 0x8f;   // 15 CSRCs: 72-byte header in a 172-byte packet is fine ...
  bad_rtp.resize(40);  // ... but not in 40 bytes
  Packet rtp = with_room(bad_rtp, SrtpSession::kRtpTrailerRoom);
  EXPECT_EQ(pair->a.protect_rtp(rtp.span(), rtp.length), SrtpResult::Malformed);

  // RFC 5761 §4: on a muxed port RTP must not take the RTCP packet-type range; the peer would
  // classify it as RTCP.
  Bytes rtcp_range = rtp_plain(1);
  rtcp_range[1] = 0x80 | 72;  // marker + PT 72 = 200, a sender report's type
  Packet muxed = with_room(rtcp_range, SrtpSession::kRtpTrailerRoom);
  EXPECT_EQ(pair->a.protect_rtp(muxed.span(), muxed.length), SrtpResult::Malformed);
  Bytes rtp_range = rtcp_plain();
  rtp_range[1] = 96;
  Packet not_rtcp = with_room(rtp_range, SrtpSession::kRtcpTrailerRoom);
  EXPECT_EQ(pair->a.protect_rtcp(not_rtcp.span(), not_rtcp.length), SrtpResult::Malformed);

  Bytes bad_rtcp = rtcp_plain();
  bad_rtcp[3] = 0x40;  // length field far beyond the packet
  Packet rtcp = with_room(bad_rtcp, SrtpSession::kRtcpTrailerRoom);
  EXPECT_EQ(pair->a.protect_rtcp(rtcp.span(), rtcp.length), SrtpResult::Malformed);
}

TEST_P(SrtpSessionProfile, ShortSrtpAndSrtcpAreMalformed) {
  auto pair = make_pair(GetParam());
  const TagLengths tags = expected_tags(GetParam());
  // Every truncation of a real packet: refused before libsrtp when shorter than header (+ E/index)
  // + tag (libsrtp#817: SRTCP-GCM read out of bounds on such input), otherwise a tag mismatch.
  const Packet srtcp = protect_rtcp(pair->a, rtcp_plain());
  for (size_t length = 0; length < srtcp.length; ++length) {
    Packet truncated = srtcp;
    truncated.buffer.resize(length);  // no slack behind it for a reader to stray into
    truncated.length = length;
    const SrtpResult result = unprotect_rtcp(pair->b, truncated);
    if (length < 8 + 4 + tags.rtcp) {
      EXPECT_EQ(result, SrtpResult::Malformed) << "SRTCP length " << length;
    } else {
      EXPECT_NE(result, SrtpResult::Ok) << "SRTCP length " << length;
    }
  }
  const Packet srtp = protect_rtp(pair->a, rtp_plain(1, 0x11223344, 16));
  for (size_t length = 0; length < srtp.length; ++length) {
    Packet truncated = srtp;
    truncated.buffer.resize(length);
    truncated.length = length;
    const SrtpResult result = unprotect_rtp(pair->b, truncated);
    if (length < 12 + tags.rtp) {
      EXPECT_EQ(result, SrtpResult::Malformed) << "SRTP length " << length;
    } else {
      EXPECT_NE(result, SrtpResult::Ok) << "SRTP length " << length;
    }
  }
  // A header extension that the tag would overlap.
  Bytes with_extension = rtp_plain(2, 0x11223344, 0);
  with_extension[0] |= 0x10;
  for (uint8_t b : {0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0x00, 0x00}) with_extension.push_back(b);
  Packet ext = protect_rtp(pair->a, with_extension);
  ext.buffer[14] = 0x00;  // claim 8 words of extension; header now ends inside the tag
  ext.buffer[15] = 0x08;
  EXPECT_EQ(unprotect_rtp(pair->b, ext), SrtpResult::Malformed);
  // RTCP with an RTP-range packet type, and RTP with version 0.
  Packet not_rtcp = protect_rtcp(pair->a, rtcp_plain());
  not_rtcp.buffer[1] = 96;
  EXPECT_EQ(unprotect_rtcp(pair->b, not_rtcp), SrtpResult::Malformed);
  Packet not_rtp = protect_rtp(pair->a, rtp_plain(3));
  not_rtp.buffer[0] = 0x00;
  EXPECT_EQ(unprotect_rtp(pair->b, not_rtp), SrtpResult::Malformed);
}

TEST_P(SrtpSessionProfile, RepeatedTransmissionIsAllowed) {
  auto pair = make_pair(GetParam());
  const Bytes plain = rtp_plain(42);
  const Packet first = protect_rtp(pair->a, plain);
  const Packet again = protect_rtp(pair->a, plain);  // a retransmission without RTX
  EXPECT_EQ(first.bytes(), again.bytes());
  EXPECT_EQ(unprotect_rtp(pair->b, first), SrtpResult::Ok);
  // The receiver's replay protection still sees it as the same packet.
  EXPECT_EQ(unprotect_rtp(pair->b, again), SrtpResult::Replay);
}

TEST_P(SrtpSessionProfile, ManySsrcsWithWildcardPolicies) {
  auto pair = make_pair(GetParam());
  constexpr uint32_t kSsrcs = 64;
  for (uint16_t seq = 100; seq < 104; ++seq) {
    for (uint32_t i = 0; i < kSsrcs; ++i) {
      const uint32_t ssrc = 0x01000000u + i * 0x10001u;
      const Bytes plain = rtp_plain(seq, ssrc, 40);
      Bytes received;
      ASSERT_EQ(unprotect_rtp(pair->b, protect_rtp(pair->a, plain), &received), SrtpResult::Ok)
          << "ssrc " << ssrc << " seq " << seq;
      EXPECT_EQ(received, plain);
      ASSERT_EQ(unprotect_rtp(pair->a, protect_rtp(pair->b, plain), &received), SrtpResult::Ok);
      EXPECT_EQ(received, plain);
      const Bytes rtcp = rtcp_plain(ssrc);
      ASSERT_EQ(unprotect_rtcp(pair->b, protect_rtcp(pair->a, rtcp), &received), SrtpResult::Ok);
      EXPECT_EQ(received, rtcp);
    }
  }
}

TEST_P(SrtpSessionProfile, NewKeysReplaceOldOnes) {
  auto pair = make_pair(GetParam());
  const Packet old_packet = protect_rtp(pair->a, rtp_plain(1));
  const SrtpKeys fresh = make_keys(GetParam(), 200);
  ASSERT_TRUE(pair->a.set_keys(fresh).ok());
  ASSERT_TRUE(pair->b.set_keys(mirrored(fresh)).ok());
  EXPECT_EQ(unprotect_rtp(pair->b, old_packet), SrtpResult::AuthFailure);
  EXPECT_EQ(unprotect_rtp(pair->b, protect_rtp(pair->a, rtp_plain(2))), SrtpResult::Ok);
}

TEST(SrtpSession, MoveKeepsTheContexts) {
  const SrtpKeys keys = make_keys(SrtpProfile::AeadAes128Gcm);
  SrtpSession a;
  ASSERT_TRUE(a.set_keys(keys).ok());
  SrtpSession b;
  ASSERT_TRUE(b.set_keys(mirrored(keys)).ok());

  SrtpSession moved(std::move(a));
  EXPECT_TRUE(moved.has_keys());
  EXPECT_FALSE(a.has_keys());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  Packet packet = with_room(rtp_plain(1), SrtpSession::kRtpTrailerRoom);
  EXPECT_EQ(a.protect_rtp(packet.span(), packet.length), SrtpResult::NoKeys);
  EXPECT_EQ(unprotect_rtp(b, protect_rtp(moved, rtp_plain(1))), SrtpResult::Ok);

  SrtpSession assigned;
  assigned = std::move(b);
  EXPECT_TRUE(assigned.has_keys());
  EXPECT_EQ(unprotect_rtp(assigned, protect_rtp(moved, rtp_plain(2))), SrtpResult::Ok);
  // Assigning over a keyed session releases its contexts (ASan would report a leak otherwise).
  assigned = SrtpSession();
  EXPECT_FALSE(assigned.has_keys());
}

TEST(SrtpSession, ConcurrentFirstUse) {
  // libsrtp is initialised once no matter how many threads create sessions at the same time.
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (size_t t = 0; t < ok.size(); ++t) {
    threads.emplace_back([&ok, t] {
      const SrtpKeys keys = make_keys(kAllProfiles[t], static_cast<uint8_t>(t));
      SrtpSession a;
      SrtpSession b;
      if (!a.set_keys(keys).ok() || !b.set_keys(mirrored(keys)).ok()) return;
      Packet packet = with_room(rtp_plain(1), SrtpSession::kRtpTrailerRoom);
      if (a.protect_rtp(packet.span(), packet.length) != SrtpResult::Ok) return;
      ok[t] = b.unprotect_rtp(packet.span(), packet.length) == SrtpResult::Ok;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok, std::vector<int>(4, 1));
}

// ---- Interop with a libsrtp context configured here, from libsrtp's own profile table ----

struct RawDeleter {
  void operator()(srtp_ctx_t* context) const { srtp_dealloc(context); }
};
using RawSrtp = std::unique_ptr<srtp_ctx_t, RawDeleter>;

RawSrtp raw_context(SrtpProfile profile, srtp_ssrc_type_t direction, const SecureBytes& key,
                    const SecureBytes& salt) {
  const auto id = static_cast<srtp_profile_t>(static_cast<uint16_t>(profile));
  srtp_policy_t policy{};
  EXPECT_EQ(srtp_crypto_policy_set_from_profile_for_rtp(&policy.rtp, id), srtp_err_status_ok);
  EXPECT_EQ(srtp_crypto_policy_set_from_profile_for_rtcp(&policy.rtcp, id), srtp_err_status_ok);
  // RFC 5764 §4.2: the master key followed by the master salt.
  Bytes key_and_salt(key.data(), key.data() + key.size());
  key_and_salt.insert(key_and_salt.end(), salt.data(), salt.data() + salt.size());
  policy.key = key_and_salt.data();
  policy.ssrc.type = direction;
  policy.window_size = 128;
  srtp_t context = nullptr;
  EXPECT_EQ(srtp_create(&context, &policy), srtp_err_status_ok);
  return RawSrtp(context);
}

TEST_P(SrtpSessionProfile, InteropWithIndependentLibsrtpContext) {
  SrtpSession ours;  // also makes sure libsrtp is initialised
  const SrtpKeys keys = make_keys(GetParam());
  ASSERT_TRUE(ours.set_keys(keys).ok());
  // The peer's inbound context uses our local keys; its outbound context our remote keys.
  RawSrtp peer_in = raw_context(GetParam(), ssrc_any_inbound, keys.local_key, keys.local_salt);
  RawSrtp peer_out = raw_context(GetParam(), ssrc_any_outbound, keys.remote_key, keys.remote_salt);
  ASSERT_TRUE(peer_in && peer_out);

  for (uint16_t seq = 10; seq < 13; ++seq) {
    // Ours → raw.
    const Bytes plain = rtp_plain(seq);
    Packet packet = protect_rtp(ours, plain);
    int length = static_cast<int>(packet.length);
    ASSERT_EQ(srtp_unprotect(peer_in.get(), packet.buffer.data(), &length), srtp_err_status_ok);
    EXPECT_EQ(Bytes(packet.buffer.begin(), packet.buffer.begin() + length), plain);

    const Bytes rtcp = rtcp_plain();
    packet = protect_rtcp(ours, rtcp);
    length = static_cast<int>(packet.length);
    ASSERT_EQ(srtp_unprotect_rtcp(peer_in.get(), packet.buffer.data(), &length),
              srtp_err_status_ok);
    EXPECT_EQ(Bytes(packet.buffer.begin(), packet.buffer.begin() + length), rtcp);

    // Raw → ours.
    packet = with_room(plain, SrtpSession::kRtpTrailerRoom);
    length = static_cast<int>(packet.length);
    ASSERT_EQ(srtp_protect(peer_out.get(), packet.buffer.data(), &length), srtp_err_status_ok);
    packet.length = static_cast<size_t>(length);
    Bytes received;
    EXPECT_EQ(unprotect_rtp(ours, packet, &received), SrtpResult::Ok);
    EXPECT_EQ(received, plain);

    packet = with_room(rtcp, SrtpSession::kRtcpTrailerRoom);
    length = static_cast<int>(packet.length);
    ASSERT_EQ(srtp_protect_rtcp(peer_out.get(), packet.buffer.data(), &length), srtp_err_status_ok);
    packet.length = static_cast<size_t>(length);
    EXPECT_EQ(unprotect_rtcp(ours, packet, &received), SrtpResult::Ok);
    EXPECT_EQ(received, rtcp);
  }
}

}  // namespace
}  // namespace dtlstransport
