// The Data Channel Establishment Protocol (RFC 8832) and the data-channel conventions of RFC 8831,
// sans-IO: DATA_CHANNEL_OPEN / DATA_CHANNEL_ACK encoded and decoded, the payload protocol
// identifiers, and the stream-id rule. Every decode of received bytes returns an Error instead of
// trusting a length, so a malformed message is rejected (and counted by the caller), never read
// past its end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "dtls_transport.hpp"
#include "result.hpp"

namespace dtlstransport {

// SCTP payload protocol identifiers (RFC 8831 §8, IANA).
enum class Ppid : uint32_t {
  Dcep = 50,
  String = 51,
  Binary = 53,
  StringEmpty = 56,  // an empty string: SCTP cannot carry an empty message, one byte is sent
  BinaryEmpty = 57,
};

// RFC 8832 §5.1 channel types: the reliability kind, and the unordered bit 0x80.
enum class Reliability : uint8_t {
  Reliable = 0x00,
  Retransmits = 0x01,  // partial reliability: the parameter is a number of retransmissions
  Timed = 0x02,        // partial reliability: the parameter is a lifetime in milliseconds
};

// DATA_CHANNEL_OPEN (RFC 8832 §5.1).
struct DcepOpen {
  Reliability reliability = Reliability::Reliable;
  bool ordered = true;
  uint16_t priority = 0;
  uint32_t reliability_parameter = 0;  // 0 for Reliable
  std::string label;
  std::string protocol;
};

// DATA_CHANNEL_ACK (RFC 8832 §5.2).
struct DcepAck {};

using DcepMessage = std::variant<DcepOpen, DcepAck>;

// Wire forms. encode_open fails only for a label or protocol longer than 65535 bytes.
Result<std::vector<uint8_t>> encode_dcep_open(const DcepOpen& open);
std::vector<uint8_t> encode_dcep_ack();

// A received PPID-50 message. Errors: empty, unknown message type, unknown channel type, lengths
// that run past the end (or bytes left over after them), an ACK with a body.
Result<DcepMessage> decode_dcep(std::span<const uint8_t> message);

// RFC 8832 §6: "the DTLS client MUST use streams with even stream identifiers, the DTLS server
// MUST use streams with odd stream identifiers". 65535 is not a stream id (RFC 8831 §6.5).
bool stream_id_is_ours(DtlsRole role, uint16_t stream_id);
inline constexpr uint32_t kMaxStreamId = 65534;

// The lowest stream id below `limit` that is ours for `role` (Client or Server) and not `taken`;
// an Error when none is left or the role is not known yet (Auto).
Result<uint16_t> pick_stream_id(DtlsRole role, uint32_t limit,
                                const std::function<bool(uint16_t)>& taken);

}  // namespace dtlstransport
