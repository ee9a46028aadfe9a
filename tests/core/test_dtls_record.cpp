// The record screen (dtls_record.hpp), rule by rule, on hand-made records.
#include <gtest/gtest.h>

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
  const Bytes datagram = concat({record(22, 0, 30), record(20, 1, 24), record(23, 1, 100)});
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
  EXPECT_EQ(screen(record(22, 0, 10, 0x0303)).discarded, 1u);  // TLS 1.2, not DTLS
  EXPECT_EQ(screen(record(22, 0, 10, 0xfeff)).discarded, 0u);  // DTLS 1.0 ClientHello layer
}

TEST(DtlsRecordScreen, AfterTheHandshakeEpochZeroCarriesOnlyHandshakeRecords) {
  EXPECT_EQ(screen(record(22, 0, 10)).discarded, 0u);  // the peer's retransmitted flight
  for (uint8_t type : {20, 21, 23}) {
    EXPECT_EQ(screen(record(type, 0, 2)).discarded, 1u) << int(type);
    EXPECT_EQ(screen(record(type, 0, 2), 24, false).discarded, 0u) << int(type);
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
  const Bytes first = record(22, 0, 12), bad = record(23, 1, 5), last = record(23, 1, 50);
  const auto result = screen(concat({first, bad, last}));
  EXPECT_EQ(result.kept, concat({first, last}));
  EXPECT_EQ(result.discarded, 1u);
}

}  // namespace
}  // namespace dtlstransport
