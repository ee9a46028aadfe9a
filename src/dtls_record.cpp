#include "dtls_record.hpp"

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
         type == static_cast<uint8_t>(DtlsContentType::Handshake));
    if (!plausible) {
      ++discarded;
      continue;
    }
    out.insert(out.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(record_size));
  }
  return discarded;
}

}  // namespace dtlstransport
