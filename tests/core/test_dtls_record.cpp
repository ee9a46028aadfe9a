// The record screen (dtls_record.hpp), rule by rule, on hand-made records.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "dtls_record.hpp"
#include "packet_classifier.hpp"

namespace dtlstransport {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes record(uint8_t type, uint16_t epoch, size_t body, uint16_t version = 0xfefd) {
  Bytes bytes = {type,
                 static_cast<uint8_t>(version >> 8),
                 static_cast<uint8_t>(version),
                 static_cast<uint8_t>(epoch >> 8),
                 static_cast<uint8_t>(epoch),
                 0,
                 0,
                 0,
                 0,
                 0,
                 7,
                 static_cast<uint8_t>(body >> 8),
                 static_cast<uint8_t>(body)};
  bytes.resize(bytes.size() + body, 0x5a);
  return bytes;
}

// A plaintext (epoch-0) record whose body is well formed for its type: a handshake record holds
// one whole ServerHello-typed message of body - 12 bytes (RFC 6347 §4.2.2), ChangeCipherSpec is
// the byte 1, an alert is fatal handshake_failure.
Bytes plaintext(uint8_t type, size_t body = 30, uint16_t version = 0xfefd) {
  Bytes bytes = record(type, 0, body, version);
  auto payload = bytes.begin() + kDtlsRecordHeaderLength;
  if (type == 22 && body >= 12) {
    const size_t length = body - 12;
    const uint8_t header[12] = {
        2, 0, static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length), 0, 0, 0, 0,
        0, 0, static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
    std::copy(std::begin(header), std::end(header), payload);
  } else if (type == 20 && body == 1) {
    payload[0] = 1;
  } else if (type == 21 && body == 2) {
    payload[0] = 2;
    payload[1] = 40;
  }
  return bytes;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

struct Screened {
  Bytes kept;
  size_t discarded;
};

Screened screen(const Bytes& datagram, size_t min_protected_body = 24, bool finished = true) {
  RecordScreen rules;
  rules.min_protected_body = min_protected_body;
  rules.handshake_finished = finished;
  Screened result;
  result.discarded = screen_records(datagram, rules, result.kept);
  return result;
}

TEST(DtlsRecordScreen, KeepsPlausibleRecordsInOrder) {
  const Bytes datagram = concat({plaintext(22, 30), record(20, 1, 24), record(23, 1, 100)});
  const auto result = screen(datagram);
  EXPECT_EQ(result.discarded, 0u);
  EXPECT_EQ(result.kept, datagram);
}

TEST(DtlsRecordScreen, DiscardsProtectedRecordsShorterThanTheCipherAllows) {
  // OpenSSL 3.0 fails the connection on a GCM record of 1–23 bytes instead of discarding it.
  for (size_t body = 0; body < 24; ++body) EXPECT_EQ(screen(record(23, 1, body)).discarded, 1u);
  EXPECT_EQ(screen(record(23, 1, 24)).discarded, 0u);
  EXPECT_EQ(screen(record(23, 1, 16), 16).discarded, 0u);  // ChaCha20-Poly1305: tag only
}

TEST(DtlsRecordScreen, DiscardsEpochsAboveOne) {
  EXPECT_EQ(screen(record(23, 2, 40)).discarded, 1u);
  EXPECT_EQ(screen(record(23, 0xffff, 40)).discarded, 1u);
}

TEST(DtlsRecordScreen, DiscardsUnknownTypesAndVersions) {
  EXPECT_EQ(screen(record(19, 0, 10)).discarded, 1u);
  EXPECT_EQ(screen(record(24, 1, 40)).discarded, 1u);
  EXPECT_EQ(screen(plaintext(22, 20, 0x0303)).discarded, 1u);  // TLS 1.2, not DTLS
  EXPECT_EQ(screen(plaintext(22, 20, 0xfeff)).discarded, 0u);  // DTLS 1.0 ClientHello layer
}

TEST(DtlsRecordScreen, AfterTheHandshakeEpochZeroCarriesOnlyHandshakeRecords) {
  EXPECT_EQ(screen(plaintext(22, 20)).discarded, 0u);  // the peer's retransmitted flight
  for (const Bytes& other : {plaintext(20, 1), plaintext(21, 2)}) {
    EXPECT_EQ(screen(other).discarded, 1u) << int(other[0]);
    EXPECT_EQ(screen(other, 24, false).discarded, 0u) << int(other[0]);  // during the handshake
  }
}

// Nothing protects a plaintext record: one OpenSSL would reject as malformed must not reach it
// and fail the handshake (RFC 6347 §4.1.2.7), in any phase.
TEST(DtlsRecordScreen, DiscardsMalformedPlaintext) {
  for (bool finished : {false, true}) {
    SCOPED_TRACE(finished ? "after the handshake" : "during the handshake");
    auto discarded = [finished](const Bytes& r) { return screen(r, 24, finished).discarded; };
    EXPECT_EQ(discarded(record(23, 0, 30)), 1u);  // application data is never plaintext
    EXPECT_EQ(discarded(plaintext(22, 11)), 1u);  // shorter than a fragment header
    Bytes unknown = plaintext(22, 30);
    unknown[kDtlsRecordHeaderLength] = 0x5a;  // no such handshake message
    EXPECT_EQ(discarded(unknown), 1u);
    Bytes finished_message = plaintext(22, 30);
    finished_message[kDtlsRecordHeaderLength] = 20;  // Finished is never sent in the clear
    EXPECT_EQ(discarded(finished_message), 1u);
    Bytes beyond_message = plaintext(22, 30);
    beyond_message[kDtlsRecordHeaderLength + 8] = 1;  // fragment_offset 1 + length > message
    EXPECT_EQ(discarded(beyond_message), 1u);
    Bytes beyond_record = plaintext(22, 30);
    beyond_record[kDtlsRecordHeaderLength + 11] = 19;  // fragment_length beyond the body
    EXPECT_EQ(discarded(beyond_record), 1u);
    // Two whole fragments in one record pass; a trailing partial header does not.
    Bytes two = plaintext(22, 12 + 12 + 6);
    const Bytes second = {1, 0, 0, 6, 0, 1, 0, 0, 0, 0, 0, 6};  // ClientHello, 6 bytes
    std::copy(second.begin(), second.end(), two.end() - 6 - 12);
    two[kDtlsRecordHeaderLength + 3] = 0;  // the first message: empty
    two[kDtlsRecordHeaderLength + 11] = 0;
    EXPECT_EQ(discarded(two), 0u);
    Bytes trailing = plaintext(22, 12 + 5);
    trailing[kDtlsRecordHeaderLength + 3] = 0;
    trailing[kDtlsRecordHeaderLength + 11] = 0;
    EXPECT_EQ(discarded(trailing), 1u);
    Bytes change = plaintext(20, 1);
    change[kDtlsRecordHeaderLength] = 2;
    EXPECT_EQ(discarded(change), 1u);            // ChangeCipherSpec must be the byte 1
    EXPECT_EQ(discarded(plaintext(20, 2)), 1u);  // and only that byte
    EXPECT_EQ(discarded(plaintext(21, 3)), 1u);  // an alert is two bytes
    Bytes warning = plaintext(21, 2);
    warning[kDtlsRecordHeaderLength] = 1;  // close_notify and other warnings: never plaintext
    warning[kDtlsRecordHeaderLength + 1] = 0;
    EXPECT_EQ(discarded(warning), 1u);
  }
}

TEST(DtlsRecordScreen, BrokenFramingDiscardsTheRestOfTheDatagram) {
  const Bytes good = record(23, 1, 30);
  Bytes overlong = record(23, 1, 30);
  overlong[12] = 200;  // length beyond the datagram
  auto result = screen(concat({good, overlong, good}));
  EXPECT_EQ(result.kept, good);
  EXPECT_EQ(result.discarded, 1u);
  for (size_t cut = 1; cut < kDtlsRecordHeaderLength; ++cut) {
    result = screen(concat({good, Bytes(good.begin(), good.begin() + static_cast<long>(cut))}));
    EXPECT_EQ(result.kept, good);
    EXPECT_EQ(result.discarded, 1u);
  }
}

TEST(DtlsRecordScreen, OneBadRecordDoesNotCostItsNeighbours) {
  const Bytes first = plaintext(22, 12), bad = record(23, 1, 5), last = record(23, 1, 50);
  const auto result = screen(concat({first, bad, last}));
  EXPECT_EQ(result.kept, concat({first, last}));
  EXPECT_EQ(result.discarded, 1u);
}

}  // namespace
}  // namespace dtlstransport
