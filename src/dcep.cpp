#include "dcep.hpp"

#include <algorithm>

namespace dtlstransport {
namespace {

constexpr uint8_t kMessageOpen = 0x03;  // RFC 8832 §8.2.1
constexpr uint8_t kMessageAck = 0x02;
constexpr uint8_t kUnorderedBit = 0x80;
constexpr size_t kOpenHeader = 12;  // type, channel type, priority, parameter, two lengths

void put16(std::vector<uint8_t>& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value));
}

uint16_t get16(std::span<const uint8_t> in, size_t at) {
  return static_cast<uint16_t>(in[at] << 8 | in[at + 1]);
}

uint32_t get32(std::span<const uint8_t> in, size_t at) {
  return static_cast<uint32_t>(in[at]) << 24 | static_cast<uint32_t>(in[at + 1]) << 16 |
         static_cast<uint32_t>(in[at + 2]) << 8 | in[at + 3];
}

}  // namespace

Result<std::vector<uint8_t>> encode_dcep_open(const DcepOpen& open) {
  if (open.label.size() > 0xffff || open.protocol.size() > 0xffff)
    return Error{
        "a data channel's label and protocol are at most 65535 bytes each (RFC 8832 §5.1)"};
  std::vector<uint8_t> out;
  out.reserve(kOpenHeader + open.label.size() + open.protocol.size());
  out.push_back(kMessageOpen);
  out.push_back(static_cast<uint8_t>(static_cast<uint8_t>(open.reliability) |
                                     (open.ordered ? 0 : kUnorderedBit)));
  put16(out, open.priority);
  const uint32_t parameter =
      open.reliability == Reliability::Reliable ? 0 : open.reliability_parameter;
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<uint8_t>(parameter >> shift));
  put16(out, static_cast<uint16_t>(open.label.size()));
  put16(out, static_cast<uint16_t>(open.protocol.size()));
  out.insert(out.end(), open.label.begin(), open.label.end());
  out.insert(out.end(), open.protocol.begin(), open.protocol.end());
  return out;
}

std::vector<uint8_t> encode_dcep_ack() { return {kMessageAck}; }

Result<DcepMessage> decode_dcep(std::span<const uint8_t> message) {
  if (message.empty()) return Error{"empty DCEP message"};
  if (message[0] == kMessageAck) {
    if (message.size() != 1)
      return Error{"DATA_CHANNEL_ACK of " + std::to_string(message.size()) +
                   " bytes (it is one byte, RFC 8832 §5.2)"};
    return DcepMessage{DcepAck{}};
  }
  if (message[0] != kMessageOpen)
    return Error{"unknown DCEP message type " + std::to_string(message[0])};
  if (message.size() < kOpenHeader)
    return Error{"DATA_CHANNEL_OPEN of " + std::to_string(message.size()) +
                 " bytes, shorter than its 12-byte header"};
  DcepOpen open;
  const uint8_t type = message[1];
  open.ordered = (type & kUnorderedBit) == 0;
  switch (type & ~kUnorderedBit) {
    case 0x00:
      open.reliability = Reliability::Reliable;
      break;
    case 0x01:
      open.reliability = Reliability::Retransmits;
      break;
    case 0x02:
      open.reliability = Reliability::Timed;
      break;
    default:
      return Error{"unknown DATA_CHANNEL_OPEN channel type " + std::to_string(type)};
  }
  open.priority = get16(message, 2);
  open.reliability_parameter = get32(message, 4);
  const size_t label_length = get16(message, 8);
  const size_t protocol_length = get16(message, 10);
  if (message.size() != kOpenHeader + label_length + protocol_length)
    return Error{"DATA_CHANNEL_OPEN of " + std::to_string(message.size()) +
                 " bytes announces a label of " + std::to_string(label_length) +
                 " and a protocol of " + std::to_string(protocol_length) + " bytes"};
  auto text = [&](size_t at, size_t length) {
    return std::string(reinterpret_cast<const char*>(message.data() + at), length);
  };
  open.label = text(kOpenHeader, label_length);
  open.protocol = text(kOpenHeader + label_length, protocol_length);
  return DcepMessage{std::move(open)};
}

bool stream_id_is_ours(DtlsRole role, uint16_t stream_id) {
  if (stream_id > kMaxStreamId) return false;
  switch (role) {
    case DtlsRole::Client:
      return stream_id % 2 == 0;
    case DtlsRole::Server:
      return stream_id % 2 == 1;
    case DtlsRole::Auto:
      return false;
  }
  return false;
}

Result<uint16_t> pick_stream_id(DtlsRole role, uint32_t limit,
                                const std::function<bool(uint16_t)>& taken) {
  if (role == DtlsRole::Auto)
    return Error{
        "the DTLS role is not known yet: it decides which stream ids are ours (RFC 8832 §6)"};
  const uint32_t end = std::min<uint32_t>(limit, kMaxStreamId + 1);
  for (uint32_t id = role == DtlsRole::Client ? 0 : 1; id < end; id += 2) {
    if (!taken(static_cast<uint16_t>(id))) return static_cast<uint16_t>(id);
  }
  return Error{"no free stream id of this side's parity below " + std::to_string(end)};
}

}  // namespace dtlstransport
