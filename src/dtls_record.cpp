#include "dtls_record.hpp"

#include <algorithm>

#include "packet_classifier.hpp"

namespace dtlstransport {
namespace {

// RFC 6347 §4.1: DTLS 1.0 (ClientHello record layer) and DTLS 1.2.
constexpr uint16_t kDtls10 = 0xfeff;
constexpr uint16_t kDtls12 = 0xfefd;

uint16_t read_u16(std::span<const uint8_t> bytes, size_t offset) {
  return static_cast<uint16_t>((bytes[offset] << 8) | bytes[offset + 1]);
}

bool is_known_content_type(uint8_t type) {
  return type >= static_cast<uint8_t>(DtlsContentType::ChangeCipherSpec) &&
         type <= static_cast<uint8_t>(DtlsContentType::ApplicationData);
}

size_t read_u24(std::span<const uint8_t> bytes, size_t offset) {
  return (size_t{bytes[offset]} << 16) | (size_t{bytes[offset + 1]} << 8) | bytes[offset + 2];
}

// Handshake message types that may travel in the clear (RFC 5246 §7.4, RFC 6347 §4.3.2):
// hello_request 0, client_hello 1, server_hello 2, hello_verify_request 3, new_session_ticket 4,
// certificate 11, server_key_exchange 12, certificate_request 13, server_hello_done 14,
// certificate_verify 15, client_key_exchange 16. Finished (20) always follows ChangeCipherSpec.
bool is_plaintext_handshake_type(uint8_t type) { return type <= 4 || (type >= 11 && type <= 16); }

// Whether an epoch-0 (plaintext) record's body is what its content type allows. Nothing protects
// a plaintext record, so one that OpenSSL would reject as malformed is discarded here instead of
// failing the handshake it arrived in (RFC 6347 §4.1.2.7).
bool plaintext_well_formed(uint8_t type, std::span<const uint8_t> body) {
  switch (static_cast<DtlsContentType>(type)) {
    case DtlsContentType::ChangeCipherSpec:  // RFC 5246 §7.1: one byte, 1
      return body.size() == 1 && body[0] == 1;
    case DtlsContentType::Alert:
      // RFC 5246 §7.2: level (warning 1, fatal 2), description. A peer sends close_notify only
      // after the handshake, protected; a plaintext warning changes nothing but could close us.
      // A plaintext fatal alert is what a peer that rejects us sends (e.g. bad_certificate).
      return body.size() == 2 && body[0] == 2;
    case DtlsContentType::Handshake: {
      // RFC 6347 §4.2.2: one or more fragments, each a 12-byte header and fragment_length bytes,
      // within the message's length.
      constexpr size_t kHeader = 12;
      if (body.empty()) return false;
      while (!body.empty()) {
        if (body.size() < kHeader || !is_plaintext_handshake_type(body[0])) return false;
        const size_t length = read_u24(body, 1), fragment_offset = read_u24(body, 6),
                     fragment_length = read_u24(body, 9);
        if (fragment_offset + fragment_length > length || fragment_length > body.size() - kHeader)
          return false;
        body = body.subspan(kHeader + fragment_length);
      }
      return true;
    }
    default:  // application data is never plaintext
      return false;
  }
}

}  // namespace

size_t screen_records(std::span<const uint8_t> datagram, const RecordScreen& screen,
                      std::vector<uint8_t>& out) {
  // Header: type (1), version (2), epoch (2), sequence number (6), length (2).
  constexpr size_t kVersionOffset = 1, kEpochOffset = 3, kLengthOffset = 11;
  size_t discarded = 0;
  size_t offset = 0;
  while (offset < datagram.size()) {
    const auto rest = datagram.subspan(offset);
    if (rest.size() < kDtlsRecordHeaderLength) return discarded + 1;
    const size_t length = read_u16(rest, kLengthOffset);
    if (length > rest.size() - kDtlsRecordHeaderLength) return discarded + 1;
    const size_t record_size = kDtlsRecordHeaderLength + length;
    offset += record_size;

    const uint8_t type = rest[0];
    const uint16_t version = read_u16(rest, kVersionOffset);
    const uint16_t epoch = read_u16(rest, kEpochOffset);
    const bool plausible =
        is_known_content_type(type) && (version == kDtls10 || version == kDtls12) &&
        epoch <= RecordScreen::kMaxEpoch && (epoch == 0 || length >= screen.min_protected_body) &&
        (epoch != 0 || !screen.handshake_finished ||
         type == static_cast<uint8_t>(DtlsContentType::Handshake)) &&
        (epoch != 0 || plaintext_well_formed(type, rest.subspan(kDtlsRecordHeaderLength, length)));
    if (!plausible) {
      ++discarded;
      continue;
    }
    out.insert(out.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(record_size));
  }
  return discarded;
}

Hello hello_in_record(std::span<const uint8_t> record) {
  // Handshake header (RFC 6347 §4.2.2): msg_type (1), length (3), message_seq (2),
  // fragment_offset (3), fragment_length (3); a ClientHello body starts with client_version (2)
  // and random (32).
  constexpr size_t kEpochOffset = 3, kHeader = 12, kRandomOffset = kHeader + 2, kRandom = 32;
  constexpr uint8_t kHelloRequest = 0, kClientHello = 1;
  if (record.size() < kDtlsRecordHeaderLength + kHeader ||
      record[0] != static_cast<uint8_t>(DtlsContentType::Handshake) ||
      read_u16(record, kEpochOffset) != 0)
    return {};
  const auto message = record.subspan(kDtlsRecordHeaderLength);
  auto u24 = [&message](size_t offset) {
    return (size_t{message[offset]} << 16) | (size_t{message[offset + 1]} << 8) |
           message[offset + 2];
  };
  const size_t length = u24(1), sequence = read_u16(message, 4), fragment_offset = u24(6),
               fragment_length = u24(9);
  if (message[0] == kHelloRequest && length == 0 && fragment_offset == 0 && fragment_length == 0)
    return {HelloKind::HelloRequest, {}};
  if (message[0] == kClientHello && sequence == 0 && fragment_offset == 0 &&
      fragment_length >= kRandomOffset - kHeader + kRandom &&
      message.size() >= kRandomOffset + kRandom) {
    Hello hello{HelloKind::ClientHello, {}};
    std::copy_n(message.begin() + kRandomOffset, kRandom, hello.client_random.begin());
    return hello;
  }
  return {};
}

std::span<const uint8_t> for_each_record(
    std::span<const uint8_t> datagram,
    const std::function<void(std::span<const uint8_t> record)>& each) {
  constexpr size_t kLengthOffset = 11;
  size_t offset = 0;
  while (offset < datagram.size()) {
    const auto rest = datagram.subspan(offset);
    if (rest.size() < kDtlsRecordHeaderLength) return rest;
    const size_t length = read_u16(rest, kLengthOffset);
    if (length > rest.size() - kDtlsRecordHeaderLength) return rest;
    each(rest.first(kDtlsRecordHeaderLength + length));
    offset += kDtlsRecordHeaderLength + length;
  }
  return {};
}

std::vector<uint8_t> hello_request_record() {
  // A 13-byte record header (epoch 0, sequence number 0) and a 12-byte handshake header, all
  // zero for a HelloRequest (RFC 6347 §4.2.2). Sized once and filled in place: growing an
  // initializer-list vector here made GCC 12 at -O3 warn of an out-of-bounds memcpy.
  constexpr size_t kRecordHeader = 13, kHandshakeHeaderLength = 12;
  std::vector<uint8_t> record(kRecordHeader + kHandshakeHeaderLength, 0);
  record[0] = static_cast<uint8_t>(DtlsContentType::Handshake);
  record[1] = kDtls12 >> 8;
  record[2] = kDtls12 & 0xff;
  record[kRecordHeader - 1] = kHandshakeHeaderLength;  // the record's length (its low byte)
  return record;
}

}  // namespace dtlstransport
