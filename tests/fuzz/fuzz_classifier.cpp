// Fuzzes the RFC 7983 / RFC 5761 demultiplexer and the RTP/RTCP validators, and checks that they
// agree with each other.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "packet_classifier.hpp"

using namespace dtlstransport;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> packet(data, size);
  const PacketKind kind = classify_packet(packet);
  const bool rtp = is_valid_rtp(packet);
  const bool rtcp = is_valid_rtcp(packet);
  if (packet_kind_name(kind) == nullptr) std::abort();

  // A plaintext packet that passes the full checks has a valid clear-text header too, so the
  // classifier must put it in its class (by the second byte, RFC 5761 §4).
  const bool rtcp_type = size >= 2 && data[1] >= 192 && data[1] <= 223;
  if (rtp && !rtcp_type && kind != PacketKind::Rtp) std::abort();
  if (rtcp && rtcp_type && kind != PacketKind::Rtcp) std::abort();
  // And the classes follow the first byte (RFC 7983 §7).
  if (kind == PacketKind::Stun && !(size > 0 && data[0] <= 3)) std::abort();
  if (kind == PacketKind::Dtls && !(size > 0 && data[0] >= 20 && data[0] <= 63)) std::abort();
  if ((kind == PacketKind::Rtp || kind == PacketKind::Rtcp) && (data[0] >> 6) != 2) std::abort();
  return 0;
}
