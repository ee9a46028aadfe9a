// RFC 7983 §7 demultiplexing, RFC 5761 §4 RTP/RTCP separation and the basic RTP/RTCP checks.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dtls_transport.hpp"
#include "packet_classifier.hpp"

namespace dtlstransport {
namespace {

using Bytes = std::vector<uint8_t>;

// A 12-byte RTP header: V=2, payload type 96, seq 1, timestamp 2, SSRC 0x11223344.
Bytes rtp_header(uint8_t first = 0x80, uint8_t second = 96) {
  return {first, second, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x11, 0x22, 0x33, 0x44};
}

Bytes rtp_packet(size_t payload = 20) {
  Bytes packet = rtp_header();
  packet.resize(packet.size() + payload, 0xab);
  return packet;
}

// An RTCP sub-packet of `words` 32-bit words after the header (length field = words).
Bytes rtcp_subpacket(uint8_t type, uint16_t words, uint8_t first = 0x80) {
  Bytes packet = {first, type, static_cast<uint8_t>(words >> 8), static_cast<uint8_t>(words)};
  packet.resize(4 + 4 * static_cast<size_t>(words), 0x5a);
  return packet;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A receiver report with no report blocks (8 bytes) followed by an SDES with one CNAME chunk.
Bytes compound_rr_sdes() {
  Bytes rr = rtcp_subpacket(201, 1);
  Bytes sdes = {0x81, 202,  0x00, 0x03, 0x11, 0x22, 0x33, 0x44,
                0x01, 0x02, 'a',  'b',  0x00, 0x00, 0x00, 0x00};
  return concat(rr, sdes);
}

TEST(PacketClassifier, KindNames) {
  EXPECT_STREQ(packet_kind_name(PacketKind::Stun), "stun");
  EXPECT_STREQ(packet_kind_name(PacketKind::Dtls), "dtls");
  EXPECT_STREQ(packet_kind_name(PacketKind::Rtp), "rtp");
  EXPECT_STREQ(packet_kind_name(PacketKind::Rtcp), "rtcp");
  EXPECT_STREQ(packet_kind_name(PacketKind::Unknown), "unknown");
}

TEST(PacketClassifier, EmptyIsUnknown) {
  EXPECT_EQ(classify_packet({}), PacketKind::Unknown);
  EXPECT_FALSE(is_valid_rtp({}));
  EXPECT_FALSE(is_valid_rtcp({}));
}

TEST(PacketClassifier, FirstByteRangesOfRfc7983) {
  for (int first = 0; first <= 255; ++first) {
    Bytes packet = rtp_packet();
    packet[0] = static_cast<uint8_t>(first);
    PacketKind expected = PacketKind::Unknown;
    if (first <= 3) {
      expected = PacketKind::Stun;
    } else if (first >= 20 && first <= 63) {
      expected = PacketKind::Dtls;
    } else if (first >= 128 && first <= 191) {
      // Version 2, no CSRCs/extension/padding would be 0x80; the others claim CSRCs, an
      // extension or padding that the 32-byte packet may or may not hold.
      continue;
    }
    EXPECT_EQ(classify_packet(packet), expected) << "first byte " << first;
  }
  // 0x80..0x8f: version 2 with 0..15 CSRCs; 12 + 4 * count must fit in the 32 bytes.
  for (int count = 0; count <= 15; ++count) {
    Bytes packet = rtp_packet();
    packet[0] = static_cast<uint8_t>(0x80 | count);
    EXPECT_EQ(classify_packet(packet), 12 + 4 * count <= 32 ? PacketKind::Rtp : PacketKind::Unknown)
        << "csrc count " << count;
  }
}

TEST(PacketClassifier, StunAndDtlsByFirstByte) {
  // A STUN Binding Request header (RFC 8489 §5): type 0x0001, length 0, magic cookie, txn id.
  const Bytes stun = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1,  2,
                      3,    4,    5,    6,    7,    8,    9,    10,   11, 12};
  EXPECT_EQ(classify_packet(stun), PacketKind::Stun);
  // A DTLS 1.2 handshake record header (content type 22, version 0xfefd).
  const Bytes dtls = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(classify_packet(dtls), PacketKind::Dtls);
  const Bytes zrtp = {16, 0, 0, 0};
  EXPECT_EQ(classify_packet(zrtp), PacketKind::Unknown);
  const Bytes turn_channel = {0x40, 0x00, 0x00, 0x04, 1, 2, 3, 4};
  EXPECT_EQ(classify_packet(turn_channel), PacketKind::Unknown);
}

TEST(PacketClassifier, RtpVersusRtcpBySecondByte) {
  // RFC 5761 §4: 192–223 is RTCP; 191 (marker + PT 63) and 224 (marker + PT 96) are RTP.
  for (int second = 0; second <= 255; ++second) {
    Bytes packet = concat(rtcp_subpacket(static_cast<uint8_t>(second), 1), Bytes(16, 0));
    const PacketKind expected = second >= 192 && second <= 223 ? PacketKind::Rtcp : PacketKind::Rtp;
    EXPECT_EQ(classify_packet(packet), expected) << "second byte " << second;
  }
}

TEST(PacketClassifier, RtpMinimumLength) {
  EXPECT_EQ(classify_packet(rtp_header()), PacketKind::Rtp);
  EXPECT_TRUE(is_valid_rtp(rtp_header()));
  Bytes short_header = rtp_header();
  short_header.pop_back();
  EXPECT_EQ(classify_packet(short_header), PacketKind::Unknown);
  EXPECT_FALSE(is_valid_rtp(short_header));
  EXPECT_EQ(classify_packet(Bytes{0x80}), PacketKind::Unknown);
}

TEST(PacketClassifier, RtpVersionMustBeTwo) {
  for (uint8_t first : {0x00, 0x40, 0xc0}) {
    Bytes packet = rtp_packet();
    packet[0] = first;
    EXPECT_FALSE(is_valid_rtp(packet)) << int(first);
  }
}

TEST(PacketClassifier, RtpCsrcsMustFit) {
  Bytes packet = rtp_header(0x82);  // two CSRCs: 20-byte header
  packet.resize(19, 0);
  EXPECT_FALSE(is_valid_rtp(packet));
  EXPECT_EQ(classify_packet(packet), PacketKind::Unknown);
  packet.resize(20, 0);
  EXPECT_TRUE(is_valid_rtp(packet));
  EXPECT_EQ(classify_packet(packet), PacketKind::Rtp);
}

TEST(PacketClassifier, RtpHeaderExtensionMustFit) {
  // X bit, one-byte-header profile 0xBEDE, 2 words of extension: 12 + 4 + 8 = 24 bytes.
  Bytes packet = rtp_header(0x90);
  for (uint8_t b : {0xbe, 0xde, 0x00, 0x02}) packet.push_back(b);
  packet.resize(23, 0);
  EXPECT_FALSE(is_valid_rtp(packet));
  EXPECT_EQ(classify_packet(packet), PacketKind::Unknown);
  packet.resize(24, 0);
  EXPECT_TRUE(is_valid_rtp(packet));
  EXPECT_EQ(classify_packet(packet), PacketKind::Rtp);
  // The extension's own 4-byte header missing.
  Bytes truncated = rtp_header(0x90);
  truncated.push_back(0xbe);
  truncated.push_back(0xde);
  EXPECT_FALSE(is_valid_rtp(truncated));
  // CSRCs and extension together: 12 + 4 + 4 + 4 = 24.
  Bytes both = rtp_header(0x91);
  for (uint8_t b : {1, 2, 3, 4, 0xbe, 0xde, 0x00, 0x01, 0, 0, 0, 0}) both.push_back(b);
  EXPECT_TRUE(is_valid_rtp(both));
  both.pop_back();
  EXPECT_FALSE(is_valid_rtp(both));
}

TEST(PacketClassifier, RtpPaddingMustFit) {
  Bytes packet = rtp_header(0xa0);  // P bit
  for (uint8_t b : {1, 2, 3, 4}) packet.push_back(b);
  packet.back() = 4;  // the whole payload is padding: allowed
  EXPECT_TRUE(is_valid_rtp(packet));
  packet.back() = 1;
  EXPECT_TRUE(is_valid_rtp(packet));
  packet.back() = 5;  // reaches into the header
  EXPECT_FALSE(is_valid_rtp(packet));
  packet.back() = 0;  // the count includes itself, so 0 is impossible
  EXPECT_FALSE(is_valid_rtp(packet));
  // Padding bit with no payload at all: the count would be read from the SSRC.
  EXPECT_FALSE(is_valid_rtp(rtp_header(0xa0)));
}

TEST(PacketClassifier, RtcpCompoundIsValid) {
  const Bytes compound = compound_rr_sdes();
  EXPECT_TRUE(is_valid_rtcp(compound));
  EXPECT_EQ(classify_packet(compound), PacketKind::Rtcp);
  // A sender report with one report block: 28 + 24 bytes, length field 12.
  const Bytes sr = rtcp_subpacket(200, 12, 0x81);
  EXPECT_TRUE(is_valid_rtcp(sr));
  EXPECT_TRUE(is_valid_rtcp(concat(sr, compound_rr_sdes())));
}

TEST(PacketClassifier, RtcpReducedSizeIsValid) {
  // RFC 5506: a lone PLI (PSFB, FMT 1): header, sender SSRC, media SSRC.
  const Bytes pli = rtcp_subpacket(206, 2, 0x81);
  EXPECT_TRUE(is_valid_rtcp(pli));
  EXPECT_EQ(classify_packet(pli), PacketKind::Rtcp);
}

TEST(PacketClassifier, RtcpTooShort) {
  const Bytes header_only = rtcp_subpacket(201, 0);  // 4 bytes: no sender SSRC
  EXPECT_FALSE(is_valid_rtcp(header_only));
  EXPECT_EQ(classify_packet(header_only), PacketKind::Unknown);
}

TEST(PacketClassifier, RtcpLengthFieldMustFit) {
  Bytes packet = rtcp_subpacket(201, 1);
  packet[3] = 2;  // claims 12 bytes, has 8
  EXPECT_FALSE(is_valid_rtcp(packet));
  EXPECT_EQ(classify_packet(packet), PacketKind::Unknown);
  // Second sub-packet overruns.
  Bytes compound = compound_rr_sdes();
  compound[8 + 3] = 4;
  EXPECT_FALSE(is_valid_rtcp(compound));
}

TEST(PacketClassifier, RtcpSubPacketsMustCoverThePacket) {
  // RFC 3550 A.2: the lengths add up to the whole; 1–3 stray bytes are not a sub-packet.
  for (size_t extra = 1; extra <= 3; ++extra) {
    Bytes packet = concat(compound_rr_sdes(), Bytes(extra, 0x80));
    EXPECT_FALSE(is_valid_rtcp(packet)) << extra;
  }
}

TEST(PacketClassifier, RtcpEverySubPacketHasVersionTwo) {
  Bytes compound = compound_rr_sdes();
  compound[8] = 0x41;  // SDES with version 1
  EXPECT_FALSE(is_valid_rtcp(compound));
  Bytes first = compound_rr_sdes();
  first[0] = 0x40;
  EXPECT_FALSE(is_valid_rtcp(first));
}

TEST(PacketClassifier, RtcpPaddingOnlyInTheLastSubPacket) {
  // A BYE with padding: header + SSRC + 4 padding bytes, count 4.
  Bytes bye = {0xa1, 203, 0x00, 0x02, 1, 2, 3, 4, 0, 0, 0, 4};
  EXPECT_TRUE(is_valid_rtcp(concat(rtcp_subpacket(201, 1), bye)));
  bye.back() = 0;
  EXPECT_FALSE(is_valid_rtcp(concat(rtcp_subpacket(201, 1), bye)));
  bye.back() = 9;  // more than the sub-packet's body
  EXPECT_FALSE(is_valid_rtcp(concat(rtcp_subpacket(201, 1), bye)));
}

TEST(PacketClassifier, SrtcpClassifiesByClearHeaderOnly) {
  // SRTCP: first sub-packet header in clear, then ciphertext, E+index and a tag that do not parse
  // as sub-packets. The classifier must still say RTCP; the full validator must not.
  Bytes srtcp =
      concat(rtcp_subpacket(200, 6), Bytes{0x13, 0x37, 0x00, 0x00, 0x80, 0x00, 0x00, 0x01});
  srtcp.resize(srtcp.size() + 10, 0xee);
  EXPECT_EQ(classify_packet(srtcp), PacketKind::Rtcp);
  EXPECT_FALSE(is_valid_rtcp(srtcp));
}

TEST(PacketClassifier, SrtpWithTagClassifiesAsRtp) {
  // SRTP's last bytes are the tag, not a padding count: the classifier must not read them as one.
  Bytes srtp = rtp_header(0xa0);
  srtp.resize(srtp.size() + 10, 0);
  srtp.back() = 0xff;
  EXPECT_EQ(classify_packet(srtp), PacketKind::Rtp);
  EXPECT_FALSE(is_valid_rtp(srtp));
}

TEST(PacketClassifier, PayloadTypeIgnoresTheMarkerBit) {
  EXPECT_EQ(rtp_payload_type(rtp_header(0x80, 96)), 96);
  EXPECT_EQ(rtp_payload_type(rtp_header(0x80, 0x80 | 111)), 111);  // marker set
  EXPECT_EQ(rtp_payload_type(Bytes{0x80}), std::nullopt);
}

// A transport in `role` whose sent datagrams land in `sent`.
std::unique_ptr<DtlsTransport> started_transport(DtlsRole role, std::vector<Bytes>& sent) {
  DtlsCallbacks callbacks;
  callbacks.send_datagram = [&sent](std::span<const uint8_t> d) {
    sent.emplace_back(d.begin(), d.end());
  };
  auto transport = DtlsTransport::create(DtlsConfig{}, std::move(callbacks));
  if (!transport) return nullptr;
  if (!(*transport)->start(role, DtlsParameters{}, role == DtlsRole::Server, Clock::now()))
    return nullptr;
  return std::move(transport).value();
}

// The first flight of a real DTLS client is a ClientHello; the server's answer and application
// data are not, and neither is a record too short to hold a handshake header.
TEST(PacketClassifier, ClientHelloDetectedInARealClientsFirstFlight) {
  std::vector<Bytes> client_sent, server_sent;
  auto client = started_transport(DtlsRole::Client, client_sent);
  auto server = started_transport(DtlsRole::Server, server_sent);
  ASSERT_TRUE(client && server);
  ASSERT_FALSE(client_sent.empty());
  EXPECT_TRUE(is_dtls_client_hello(client_sent.front()));

  server->handle_datagram(client_sent.front(), Clock::now());
  ASSERT_FALSE(server_sent.empty());  // HelloVerifyRequest or ServerHello flight
  for (const auto& datagram : server_sent) EXPECT_FALSE(is_dtls_client_hello(datagram));

  Bytes header_only(client_sent.front().begin(),
                    client_sent.front().begin() + kDtlsRecordHeaderLength);
  EXPECT_FALSE(is_dtls_client_hello(header_only));
  Bytes application_data = client_sent.front();
  application_data[0] = static_cast<uint8_t>(DtlsContentType::ApplicationData);
  EXPECT_FALSE(is_dtls_client_hello(application_data));
}

}  // namespace
}  // namespace dtlstransport
