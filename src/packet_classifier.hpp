// Demultiplexing of one UDP flow (RFC 7983 §7) and of RTP vs RTCP on one port (RFC 5761 §4).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace dtlstransport {

enum class PacketKind { Stun, Dtls, Rtp, Rtcp, Unknown };

const char* packet_kind_name(PacketKind kind);

// First byte 0–3 STUN, 20–63 DTLS, 128–191 RTP/RTCP (packet type 192–223 → RTCP), else Unknown.
// RTP and RTCP also get basic header validation (version 2, minimum length, CSRCs and extension
// inside the packet for RTP; length field within the packet for RTCP); failures are Unknown.
PacketKind classify_packet(std::span<const uint8_t> packet);

// The payload type of an RTP packet (RFC 3550 §5.1: the low 7 bits of the second byte, the high
// bit being the marker); nullopt when the packet is too short to hold it.
std::optional<uint8_t> rtp_payload_type(std::span<const uint8_t> packet);

// DTLS record layer (RFC 6347 §4.1): the content types and the record header's length.
enum class DtlsContentType : uint8_t {
  ChangeCipherSpec = 20,
  Alert = 21,
  Handshake = 22,
  ApplicationData = 23,
};
inline constexpr size_t kDtlsRecordHeaderLength = 13;

// Whether a datagram starts with a handshake record carrying a ClientHello (handshake type 1,
// RFC 6347 §4.2.2): the first flight of a DTLS client.
bool is_dtls_client_hello(std::span<const uint8_t> datagram);

// RTP header checks alone, for packets the application hands us to protect.
bool is_valid_rtp(std::span<const uint8_t> packet);
// An RTCP compound or reduced-size packet (RFC 5506): every sub-packet's length inside the buffer.
bool is_valid_rtcp(std::span<const uint8_t> packet);

}  // namespace dtlstransport
