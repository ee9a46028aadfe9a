// RFC 6347 §4.1.2.7: invalid records are silently discarded. No datagram that is not
// authenticated may end or degrade a connected association: the core, connected as client and as
// server, is fed every record shape below as if from the peer's address, and must stay connected,
// keep its keys and still exchange application data both ways. Nor may a malformed one end a
// handshake: the same shapes, fed to both sides at every step of a handshake, leave it to finish
// (a well-formed plaintext fatal alert or ChangeCipherSpec still can: see docs/security.md).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dtls_transport.hpp"
#include "memory_link.hpp"
#include "packet_classifier.hpp"

namespace dtlstransport {
namespace {

using testing::MemoryLink;
using Bytes = std::vector<uint8_t>;

constexpr uint16_t kDtls12 = 0xfefd;

Bytes record(uint8_t type, uint16_t epoch, uint64_t sequence, size_t body_length,
             uint8_t fill = 0xa5, std::optional<uint16_t> length_field = std::nullopt,
             uint16_t version = kDtls12) {
  const uint16_t length = length_field.value_or(static_cast<uint16_t>(body_length));
  Bytes bytes = {type, static_cast<uint8_t>(version >> 8), static_cast<uint8_t>(version),
                 static_cast<uint8_t>(epoch >> 8), static_cast<uint8_t>(epoch)};
  for (int shift = 40; shift >= 0; shift -= 8)
    bytes.push_back(static_cast<uint8_t>(sequence >> shift));
  bytes.push_back(static_cast<uint8_t>(length >> 8));
  bytes.push_back(static_cast<uint8_t>(length));
  bytes.insert(bytes.end(), body_length, fill);
  return bytes;
}

// Every shape a spoofer can send without the keys.
std::vector<Bytes> hostile_datagrams() {
  std::vector<Bytes> out;
  const uint8_t types[] = {20, 21, 22, 23, 19, 24, 63};
  const uint16_t epochs[] = {0, 1, 2, 0xffff};
  const uint64_t sequences[] = {0, 1, 5, 1000, 0xffffffffffffULL};
  for (uint8_t type : types)
    for (uint16_t epoch : epochs)
      for (uint64_t sequence : sequences)
        for (size_t length = 0; length <= 64; ++length) {
          out.push_back(record(type, epoch, sequence, length));
          if (length == 0 || length == 1 || length == 24 || length == 64) {
            out.push_back(record(type, epoch, sequence, length, 0x00));
            out.push_back(record(type, epoch, sequence, length, 0xa5, length + 10));  // longer
            if (length > 4)
              out.push_back(record(type, epoch, sequence, length, 0xa5, length - 5));  // shorter
            out.push_back(record(type, epoch, sequence, length, 0xa5, std::nullopt, 0xfeff));
            out.push_back(record(type, epoch, sequence, length, 0xa5, std::nullopt, 0x0303));
          }
        }
  // Well-formed plaintext alerts (close_notify, fatal handshake_failure and bad_record_mac) and
  // ChangeCipherSpec, in every epoch: forgeable by anyone who knows the addresses.
  for (uint16_t epoch : epochs)
    for (uint64_t sequence : sequences) {
      for (const Bytes& alert : {Bytes{1, 0}, Bytes{2, 40}, Bytes{2, 20}}) {
        Bytes datagram = record(21, epoch, sequence, 0);
        datagram[kDtlsRecordHeaderLength - 1] = 2;
        datagram.insert(datagram.end(), alert.begin(), alert.end());
        out.push_back(datagram);
      }
      out.push_back(record(20, epoch, sequence, 1, 0x01));
    }
  // Truncated headers.
  const Bytes full = record(23, 1, 1000, 32);
  for (size_t cut = 1; cut < kDtlsRecordHeaderLength; ++cut)
    out.emplace_back(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
  // Several records in one datagram, a good-looking one behind garbage and the other way round.
  for (uint16_t epoch : epochs) {
    Bytes several = record(23, epoch, 7, 3);
    for (const Bytes& next :
         {record(21, epoch, 8, 2), record(22, epoch, 9, 40), record(23, epoch, 10, 100)})
      several.insert(several.end(), next.begin(), next.end());
    out.push_back(several);
  }
  return out;
}

void expect_still_talks(MemoryLink& link, const std::string& when) {
  ASSERT_EQ(link.a().state(), DtlsState::Connected) << when << ": " << link.a().failure_detail();
  ASSERT_EQ(link.b().state(), DtlsState::Connected) << when << ": " << link.b().failure_detail();
  const size_t a_had = link.log_a().application_data.size();
  const size_t b_had = link.log_b().application_data.size();
  const Bytes ping = {'p', 'i', 'n', 'g'};
  ASSERT_TRUE(link.a().send_application_data(ping).ok()) << when;
  ASSERT_TRUE(link.b().send_application_data(ping).ok()) << when;
  ASSERT_TRUE(link.run_until(
      [&] {
        return link.log_a().application_data.size() > a_had &&
               link.log_b().application_data.size() > b_had;
      },
      std::chrono::seconds(5)))
      << when << ": application data no longer flows";
  EXPECT_EQ(link.log_a().keys.size(), 1u) << when;
  EXPECT_EQ(link.log_b().keys.size(), 1u) << when;
}

class DtlsHostile : public ::testing::TestWithParam<DtlsRole> {};

TEST_P(DtlsHostile, NoUnauthenticatedDatagramEndsAConnectedAssociation) {
  MemoryLink link{DtlsConfig{}, DtlsConfig{}};
  // `a` takes the role under test; the hostile datagrams arrive at `a`.
  const DtlsRole role = GetParam();
  link.start(role, role == DtlsRole::Client ? DtlsRole::Server : DtlsRole::Client);
  ASSERT_TRUE(link.run_until_settled());
  expect_still_talks(link, "before");
  const auto datagrams = hostile_datagrams();
  size_t index = 0;
  for (const Bytes& datagram : datagrams) {
    link.a().handle_datagram(datagram, link.now());
    if (link.a().state() != DtlsState::Connected) {
      std::string hex;
      for (size_t i = 0; i < std::min<size_t>(datagram.size(), 20); ++i) {
        char byte[4];
        std::snprintf(byte, sizeof byte, "%02x", datagram[i]);
        hex += byte;
      }
      FAIL() << "datagram " << index << " (" << datagram.size() << " bytes: " << hex
             << "…) moved the transport to " << dtls_state_name(link.a().state()) << ": "
             << link.a().failure_detail();
    }
    if (++index % 500 == 0) expect_still_talks(link, "after " + std::to_string(index));
  }
  expect_still_talks(link, "after all " + std::to_string(datagrams.size()));
  EXPECT_GT(link.a().discarded_records(), 0u);
}

// A well-formed plaintext fatal alert: what a peer that rejects us sends during the handshake
// (e.g. bad_certificate), indistinguishable from a forged one.
bool is_plaintext_fatal_alert(const Bytes& datagram) {
  return datagram.size() == kDtlsRecordHeaderLength + 2 && datagram[0] == 21 && datagram[3] == 0 &&
         datagram[4] == 0 && datagram[kDtlsRecordHeaderLength] == 2;
}

// A well-formed plaintext ChangeCipherSpec: legitimate once per direction in every handshake;
// one forged at the wrong moment moves OpenSSL's read epoch early and stalls the handshake.
bool is_plaintext_change_cipher_spec(const Bytes& datagram) {
  return datagram.size() == kDtlsRecordHeaderLength + 1 && datagram[0] == 20 && datagram[3] == 0 &&
         datagram[4] == 0 && datagram[kDtlsRecordHeaderLength] == 1;
}

TEST_P(DtlsHostile, NoMalformedDatagramFailsAHandshake) {
  MemoryLink link{DtlsConfig{}, DtlsConfig{}};
  const DtlsRole role = GetParam();
  link.start(role, role == DtlsRole::Client ? DtlsRole::Server : DtlsRole::Client);
  std::vector<Bytes> datagrams;
  for (Bytes& datagram : hostile_datagrams())
    if (!is_plaintext_fatal_alert(datagram) && !is_plaintext_change_cipher_spec(datagram))
      datagrams.push_back(std::move(datagram));
  // At every step of the handshake (each flight takes 0.5 ms to cross), until both are connected.
  int steps = 0;
  while (!(link.a().state() == DtlsState::Connected && link.b().state() == DtlsState::Connected) &&
         steps++ < 40) {
    for (const Bytes& datagram : datagrams) {
      link.a().handle_datagram(datagram, link.now());
      link.b().handle_datagram(datagram, link.now());
    }
    ASSERT_EQ(link.a().state(), DtlsState::Connecting) << link.a().failure_detail();
    ASSERT_EQ(link.b().state(), DtlsState::Connecting) << link.b().failure_detail();
    link.advance(std::chrono::milliseconds(1));
  }
  ASSERT_GE(steps, 2) << "the handshake was over before any garbage reached it";
  ASSERT_TRUE(link.run_until_settled());
  expect_still_talks(link, "after a handshake under garbage");
  EXPECT_GT(link.a().discarded_records(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Roles, DtlsHostile, ::testing::Values(DtlsRole::Client, DtlsRole::Server),
                         [](const auto& role) { return std::string(dtls_role_name(role.param)); });

}  // namespace
}  // namespace dtlstransport
