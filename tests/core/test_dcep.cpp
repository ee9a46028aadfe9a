// DCEP (RFC 8832) messages and the stream-id rule: wire forms checked byte by byte against the
// RFC's layout, and every malformed form rejected with an Error.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "dcep.hpp"

namespace dtlstransport {
namespace {

DcepOpen decoded_open(const std::vector<uint8_t>& bytes) {
  auto message = decode_dcep(bytes);
  EXPECT_TRUE(message.ok()) << (message.ok() ? "" : message.error().message);
  if (!message.ok() || !std::holds_alternative<DcepOpen>(*message)) return {};
  return std::get<DcepOpen>(*message);
}

TEST(Dcep, OpenHasTheRfcLayout) {
  DcepOpen open;
  open.reliability = Reliability::Retransmits;
  open.ordered = false;
  open.priority = 256;
  open.reliability_parameter = 0x01020304;
  open.label = "chat";
  open.protocol = "p";
  auto bytes = encode_dcep_open(open);
  ASSERT_TRUE(bytes.ok());
  const std::vector<uint8_t> expected = {0x03, 0x81, 0x01, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00,
                                         0x04, 0x00, 0x01, 'c',  'h',  'a',  't',  'p'};
  EXPECT_EQ(*bytes, expected);
}

TEST(Dcep, OpenRoundTripsEveryChannelType) {
  for (auto reliability : {Reliability::Reliable, Reliability::Retransmits, Reliability::Timed}) {
    for (bool ordered : {true, false}) {
      DcepOpen open;
      open.reliability = reliability;
      open.ordered = ordered;
      open.priority = 512;
      open.reliability_parameter = reliability == Reliability::Reliable ? 0 : 3000;
      open.label = "label with ünïcode";
      open.protocol = "";
      auto bytes = encode_dcep_open(open);
      ASSERT_TRUE(bytes.ok());
      DcepOpen back = decoded_open(*bytes);
      EXPECT_EQ(back.reliability, reliability);
      EXPECT_EQ(back.ordered, ordered);
      EXPECT_EQ(back.priority, 512);
      EXPECT_EQ(back.reliability_parameter, open.reliability_parameter);
      EXPECT_EQ(back.label, open.label);
      EXPECT_EQ(back.protocol, "");
    }
  }
}

TEST(Dcep, ReliableChannelSendsNoParameter) {
  DcepOpen open;
  open.reliability_parameter = 77;  // meaningless for a reliable channel
  auto bytes = encode_dcep_open(open);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(decoded_open(*bytes).reliability_parameter, 0u);
}

TEST(Dcep, AckIsOneByte) {
  EXPECT_EQ(encode_dcep_ack(), std::vector<uint8_t>{0x02});
  auto message = decode_dcep(encode_dcep_ack());
  ASSERT_TRUE(message.ok());
  EXPECT_TRUE(std::holds_alternative<DcepAck>(*message));
}

TEST(Dcep, TooLongLabelIsRefused) {
  DcepOpen open;
  open.label.assign(70000, 'x');
  auto bytes = encode_dcep_open(open);
  ASSERT_FALSE(bytes.ok());
  EXPECT_NE(bytes.error().message.find("65535"), std::string::npos);
}

TEST(Dcep, MalformedMessagesAreRejected) {
  const std::vector<std::vector<uint8_t>> bad = {
      {},                                                           // empty
      {0x02, 0x00},                                                 // ACK with a body
      {0x07},                                                       // unknown type
      {0x03, 0x00, 0x00},                                           // OPEN shorter than header
      {0x03, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},                   // unknown channel type
      {0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 'a', 'b'},         // label past the end
      {0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 'a'},              // protocol past the end
      {0x03, 0x00, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 'a'},  // huge lengths
      {0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 'a', 'z'},         // bytes left over
  };
  for (const auto& bytes : bad) {
    auto message = decode_dcep(bytes);
    EXPECT_FALSE(message.ok()) << "accepted a malformed message of " << bytes.size() << " bytes";
    if (!message.ok()) {
      EXPECT_FALSE(message.error().message.empty());
    }
  }
}

TEST(Dcep, EveryTruncationOfAValidOpenIsRejected) {
  DcepOpen open;
  open.label = "abc";
  open.protocol = "de";
  auto bytes = encode_dcep_open(open);
  ASSERT_TRUE(bytes.ok());
  for (size_t n = 0; n < bytes->size(); ++n) {
    std::vector<uint8_t> cut(bytes->begin(), bytes->begin() + static_cast<long>(n));
    EXPECT_FALSE(decode_dcep(cut).ok()) << n;
  }
}

TEST(Dcep, StreamIdParityFollowsTheDtlsRole) {
  EXPECT_TRUE(stream_id_is_ours(DtlsRole::Client, 0));
  EXPECT_TRUE(stream_id_is_ours(DtlsRole::Client, 2));
  EXPECT_FALSE(stream_id_is_ours(DtlsRole::Client, 1));
  EXPECT_TRUE(stream_id_is_ours(DtlsRole::Server, 1));
  EXPECT_FALSE(stream_id_is_ours(DtlsRole::Server, 4));
  EXPECT_FALSE(stream_id_is_ours(DtlsRole::Server, 65535));
  EXPECT_FALSE(stream_id_is_ours(DtlsRole::Auto, 0));
}

TEST(Dcep, PickStreamIdTakesTheLowestFreeOfOurParity) {
  std::set<uint16_t> taken = {0, 1, 2};
  auto is_taken = [&](uint16_t id) { return taken.count(id) > 0; };
  auto client = pick_stream_id(DtlsRole::Client, 1024, is_taken);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ(*client, 4);
  auto server = pick_stream_id(DtlsRole::Server, 1024, is_taken);
  ASSERT_TRUE(server.ok());
  EXPECT_EQ(*server, 3);
  EXPECT_FALSE(pick_stream_id(DtlsRole::Auto, 1024, is_taken).ok());
  // All of ours below the limit taken.
  auto full = pick_stream_id(DtlsRole::Client, 4, is_taken);
  EXPECT_FALSE(full.ok());
}

}  // namespace
}  // namespace dtlstransport
