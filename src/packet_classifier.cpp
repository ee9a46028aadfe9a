#include "packet_classifier.hpp"

#include <cstddef>
#include <optional>

namespace dtlstransport {

namespace {

constexpr size_t kRtpFixedHeader = 12;  // RFC 3550 §5.1
constexpr size_t kRtcpHeader = 4;       // V/P/count, PT, length (RFC 3550 §6.4.1)
constexpr size_t kRtcpMinimum = 8;      // the header plus the sender's SSRC, which every type has
constexpr uint8_t kPayloadTypeMask = 0x7f;    // RFC 3550 §5.1: marker bit, then 7 bits of PT
constexpr uint8_t kHandshakeClientHello = 1;  // RFC 6347 §4.2.2 / RFC 5246 §7.4

uint8_t version_of(uint8_t first_byte) { return first_byte >> 6; }

uint16_t read_u16(std::span<const uint8_t> bytes, size_t offset) {
  return static_cast<uint16_t>((bytes[offset] << 8) | bytes[offset + 1]);
}

// The RTP header length with CSRCs and extension, if version 2 and it all fits.
std::optional<size_t> rtp_header_length(std::span<const uint8_t> packet) {
  if (packet.size() < kRtpFixedHeader || version_of(packet[0]) != 2) return std::nullopt;
  const size_t csrc_count = packet[0] & 0x0f;
  size_t length = kRtpFixedHeader + 4 * csrc_count;
  if (length > packet.size()) return std::nullopt;
  // X bit: a header extension follows the CSRCs, its length in 32-bit words after a 4-byte
  // profile/length word (RFC 3550 §5.3.1; RFC 8285 uses the same framing).
  if (packet[0] & 0x10) {
    if (length + 4 > packet.size()) return std::nullopt;
    length += 4 + 4 * static_cast<size_t>(read_u16(packet, length + 2));
    if (length > packet.size()) return std::nullopt;
  }
  return length;
}

bool is_plausible_rtcp_header(std::span<const uint8_t> packet) {
  if (packet.size() < kRtcpMinimum || version_of(packet[0]) != 2) return false;
  // The first sub-packet stays in clear text in SRTCP (RFC 3711 §3.4), so its length must fit.
  const size_t first_length = 4 * (static_cast<size_t>(read_u16(packet, 2)) + 1);
  return first_length <= packet.size();
}

}  // namespace

const char* packet_kind_name(PacketKind kind) {
  switch (kind) {
    case PacketKind::Stun:
      return "stun";
    case PacketKind::Dtls:
      return "dtls";
    case PacketKind::Rtp:
      return "rtp";
    case PacketKind::Rtcp:
      return "rtcp";
    case PacketKind::Unknown:
      return "unknown";
  }
  return "unknown";
}

PacketKind classify_packet(std::span<const uint8_t> packet) {
  if (packet.empty()) return PacketKind::Unknown;
  const uint8_t first = packet[0];
  // RFC 7983 §7: 0–3 STUN, 16–19 ZRTP, 20–63 DTLS, 64–79 TURN channel, 128–191 RTP/RTCP. ZRTP
  // and TURN channels are not ours (libnice unwraps TURN before we see a packet): dropped.
  if (first <= 3) return PacketKind::Stun;
  if (first >= 20 && first <= 63) return PacketKind::Dtls;
  if (first < 128 || first > 191) return PacketKind::Unknown;
  if (packet.size() < 2) return PacketKind::Unknown;

  // RFC 5761 §4: with RTP and RTCP on one port, RTCP packet types 192–223 occupy the second byte
  // (which for RTP holds marker + payload type, kept clear of that range by the same section).
  // Received packets are SRTP/SRTCP, so only the clear-text header can be checked here: the
  // payload, padding count and further compound sub-packets are encrypted or followed by the tag.
  const uint8_t second = packet[1];
  if (second >= 192 && second <= 223) {
    return is_plausible_rtcp_header(packet) ? PacketKind::Rtcp : PacketKind::Unknown;
  }
  return rtp_header_length(packet) ? PacketKind::Rtp : PacketKind::Unknown;
}

std::optional<uint8_t> rtp_payload_type(std::span<const uint8_t> packet) {
  if (packet.size() < 2) return std::nullopt;
  return static_cast<uint8_t>(packet[1] & kPayloadTypeMask);
}

bool is_dtls_client_hello(std::span<const uint8_t> datagram) {
  // The handshake header's first byte (msg_type) follows the record header.
  return datagram.size() > kDtlsRecordHeaderLength &&
         datagram[0] == static_cast<uint8_t>(DtlsContentType::Handshake) &&
         datagram[kDtlsRecordHeaderLength] == kHandshakeClientHello;
}

bool is_valid_rtp(std::span<const uint8_t> packet) {
  const auto header_length = rtp_header_length(packet);
  if (!header_length) return false;
  // P bit: the last octet counts the padding octets, itself included (RFC 3550 §5.1), so it is at
  // least 1 and the padding lies after the header.
  if (packet[0] & 0x20) {
    const size_t padding = packet.back();
    if (padding == 0 || *header_length + padding > packet.size()) return false;
  }
  return true;
}

bool is_valid_rtcp(std::span<const uint8_t> packet) {
  if (packet.size() < kRtcpMinimum) return false;
  // RFC 3550 §6.4.1 and appendix A.2: every sub-packet has version 2, and the length fields of the
  // sub-packets add up to exactly the compound packet's length. RFC 5506 reduced-size packets are
  // one or more sub-packets of any type, so the first type is not checked.
  size_t offset = 0;
  size_t last_offset = 0;
  while (offset < packet.size()) {
    if (packet.size() - offset < kRtcpHeader || version_of(packet[offset]) != 2) return false;
    const size_t length = 4 * (static_cast<size_t>(read_u16(packet, offset + 2)) + 1);
    if (length > packet.size() - offset) return false;
    last_offset = offset;
    offset += length;
  }
  // Padding belongs only at the end (RFC 3550 §6.4.1): its count must fit in the last sub-packet
  // after that sub-packet's header.
  if (packet[last_offset] & 0x20) {
    const size_t padding = packet.back();
    if (padding == 0 || padding > packet.size() - last_offset - kRtcpHeader) return false;
  }
  return true;
}

}  // namespace dtlstransport
