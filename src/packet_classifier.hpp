// Demultiplexing of one UDP flow (RFC 7983 §7) and of RTP vs RTCP on one port (RFC 5761 §4).
#pragma once

#include <cstdint>
#include <span>

namespace dtlstransport {

enum class PacketKind { Stun, Dtls, Rtp, Rtcp, Unknown };

const char* packet_kind_name(PacketKind kind);

// First byte 0–3 STUN, 20–63 DTLS, 128–191 RTP/RTCP (packet type 192–223 → RTCP), else Unknown.
// RTP and RTCP also get basic header validation (version 2, minimum length, CSRCs and extension
// inside the packet for RTP; length field within the packet for RTCP); failures are Unknown.
PacketKind classify_packet(std::span<const uint8_t> packet);

// RTP header checks alone, for packets the application hands us to protect.
bool is_valid_rtp(std::span<const uint8_t> packet);
// An RTCP compound or reduced-size packet (RFC 5506): every sub-packet's length inside the buffer.
bool is_valid_rtcp(std::span<const uint8_t> packet);

}  // namespace dtlstransport
