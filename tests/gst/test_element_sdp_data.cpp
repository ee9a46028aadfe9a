// Data channels in SDP (issues 10 and 11, RFC 8841): the m=application "UDP/DTLS/SCTP
// webrtc-datachannel" section on real elements (real libnice gathering on loopback, real
// certificates). A peer's a=sctp-port and a=max-message-size become remote-sctp-port and
// max-message-size (absent: 5000 and 65536, RFC 8841 §5, §6.1); our answer takes the section on
// our one transport with our sctp-port and the largest message we accept (65536); our offer has
// the section once a data channel exists; what cannot carry data channels (the pre-RFC 8841
// "DTLS/SCTP 5000" + a=sctpmap form, TCP, a port out of range, a second section) is rejected
// with port 0 and said why, or refused when nothing else is left.
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gtest/gtest.h>

#include <string>

#include "sdp_fixture.h"

namespace {

using namespace sdp_fixture;

class GstEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { gst_init(nullptr, nullptr); }
};
const auto* const kGstEnvironment = ::testing::AddGlobalTestEnvironment(new GstEnvironment);

constexpr guint kOurMaxMessageSize = 65536;

// A data-only offer as a browser makes it for `new RTCPeerConnection().createDataChannel()`
// (RFC 8829 §7.1's m=application section, RFC 8841 §5/§6 attributes), values of its own.
const char* const kDataOffer = R"(v=0
o=- 7614219274584779017 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE d0
a=msid-semantic: WMS
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 0.0.0.0
a=candidate:1 1 udp 2113937151 203.0.113.7 54400 typ host
a=ice-ufrag:Kq3e
a=ice-pwd:Zb8x1W2m3N4v5C6x7Z8a9S0d
a=ice-options:trickle
a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2
a=setup:actpass
a=mid:d0
a=sctp-port:5001
a=max-message-size:1048576
)";

// Audio and data BUNDLEd (the data section second), to see a data section rejected while the
// audio one is taken.
const char* const kAudioDataOffer = R"(v=0
o=- 20518 0 IN IP4 203.0.113.1
s=-
t=0 0
a=group:BUNDLE a d
a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2
a=ice-ufrag:R6Kx
a=ice-pwd:asd88fgpdd777uzjYhagZg22
a=setup:actpass
m=audio 10000 UDP/TLS/RTP/SAVPF 111
c=IN IP4 203.0.113.1
a=mid:a
a=rtpmap:111 opus/48000/2
a=rtcp-mux
a=candidate:1 1 UDP 2113929471 203.0.113.1 10000 typ host
m=application 10000 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 203.0.113.1
a=mid:d
a=sctp-port:5000
)";

guint uint_property(GstElement* bin, const char* name) {
  guint value = 0;
  g_object_get(bin, name, &value, nullptr);
  return value;
}

// --- A peer's offer ----------------------------------------------------------------------------

TEST(SdpData, DataOnlyOfferIsAnswered) {
  OneBin b;
  g_object_set(b.bin(), "sctp-port", 5002u, nullptr);
  b.ready();
  const std::string answer = b.answer(crlf(kDataOffer), nullptr);
  ASSERT_FALSE(answer.empty()) << b.warnings_text();
  Parsed a(answer);
  ASSERT_EQ(a.count(), 1u);
  EXPECT_STREQ(gst_sdp_media_get_media(a.media(0)), "application");
  EXPECT_STREQ(gst_sdp_media_get_proto(a.media(0)), "UDP/DTLS/SCTP");
  EXPECT_EQ(a.formats(0), "webrtc-datachannel");
  EXPECT_NE(gst_sdp_media_get_port(a.media(0)), 0u);
  EXPECT_EQ(a.attribute(0, "mid"), "d0");
  EXPECT_STREQ(gst_sdp_message_get_attribute_val(a.message, "group"), "BUNDLE d0");
  // Ours: the sctp-port property, the largest message we accept.
  EXPECT_EQ(a.attribute(0, "sctp-port"), "5002");
  EXPECT_EQ(a.attribute(0, "max-message-size"), std::to_string(kOurMaxMessageSize));
  // The transport is in this section: credentials, fingerprint, setup, candidates; no RTCP.
  EXPECT_EQ(a.attribute(0, "setup"), "active");
  EXPECT_EQ(a.attribute(0, "fingerprint"), string_property(b.bin(), "local-fingerprint"));
  EXPECT_EQ(a.attribute(0, "ice-ufrag"), string_property(b.bin(), "local-ice-ufrag"));
  EXPECT_GE(a.count_attribute(0, "candidate"), 1u);
  EXPECT_EQ(a.attribute(0, "rtcp-mux"), "(absent)") << "RFC 8841: no RTCP in m=application";
  // What the offer says, on the element.
  EXPECT_EQ(uint_property(b.bin(), "remote-sctp-port"), 5001u);
  EXPECT_EQ(uint_property(b.bin(), "max-message-size"), 1048576u);
  EXPECT_EQ(string_property(b.bin(), "remote-ice-ufrag"), "Kq3e");
  EXPECT_EQ(enum_nick(b.bin(), "remote-role"), "server");
  EXPECT_EQ(b.warnings_text(), "");
}

// RFC 8841 §5 and §6.1: no a=sctp-port means 5000, no a=max-message-size means 64 KiB — even
// when the application had set other values before.
TEST(SdpData, AbsentAttributesMeanTheRfcDefaults) {
  OneBin b;
  g_object_set(b.bin(), "remote-sctp-port", 6000u, "max-message-size", 1000u, nullptr);
  b.ready();
  std::string offer = replaced(kDataOffer, "a=sctp-port:5001\n", "");
  offer = replaced(offer, "a=max-message-size:1048576\n", "");
  ASSERT_FALSE(b.answer(crlf(offer), nullptr).empty()) << b.warnings_text();
  EXPECT_EQ(uint_property(b.bin(), "remote-sctp-port"), 5000u);
  EXPECT_EQ(uint_property(b.bin(), "max-message-size"), 65536u);
}

// An offer without m=application leaves the SCTP properties as the application set them.
TEST(SdpData, NoApplicationSectionChangesNoSctpProperty) {
  OneBin b;
  g_object_set(b.bin(), "remote-sctp-port", 6000u, "max-message-size", 1000u, nullptr);
  b.ready();
  std::string offer = replaced(kAudioDataOffer, "a=group:BUNDLE a d", "a=group:BUNDLE a");
  offer = offer.substr(0, offer.find("m=application"));
  ASSERT_FALSE(b.answer(crlf(offer)).empty()) << b.warnings_text();
  EXPECT_EQ(uint_property(b.bin(), "remote-sctp-port"), 6000u);
  EXPECT_EQ(uint_property(b.bin(), "max-message-size"), 1000u);
}

// The pre-RFC 8841 form (draft-ietf-mmusic-sctp-sdp-05, still in old peers): the data section is
// rejected with port 0 beside media we take, and a data-only offer of that form is refused.
TEST(SdpData, PreStandardSctpmapFormIsRejected) {
  OneBin b;
  b.ready();
  std::string offer =
      replaced(kAudioDataOffer, "m=application 10000 UDP/DTLS/SCTP webrtc-datachannel",
               "m=application 10000 DTLS/SCTP 5000");
  offer = replaced(offer, "a=sctp-port:5000\n", "a=sctpmap:5000 webrtc-datachannel 1024\n");
  const std::string answer = b.answer(crlf(offer));
  ASSERT_FALSE(answer.empty()) << b.warnings_text();
  Parsed a(answer);
  ASSERT_EQ(a.count(), 2u);
  EXPECT_NE(gst_sdp_media_get_port(a.media(0)), 0u);
  EXPECT_EQ(gst_sdp_media_get_port(a.media(1)), 0u);
  EXPECT_EQ(a.attribute(1, "mid"), "d");
  EXPECT_STREQ(gst_sdp_message_get_attribute_val(a.message, "group"), "BUNDLE a");
  EXPECT_EQ(uint_property(b.bin(), "remote-sctp-port"), 5000u);  // the default, untouched

  OneBin c;
  c.ready();
  std::string data_only = replaced(kDataOffer, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
                                   "m=application 9 DTLS/SCTP 5000");
  data_only = replaced(data_only, "a=sctp-port:5001\n", "a=sctpmap:5000 webrtc-datachannel 1024\n");
  EXPECT_EQ(c.answer(crlf(data_only), nullptr), "");
  const std::string warnings = c.warnings_text();
  EXPECT_TRUE(contains(warnings,
                       "answer-sdp-offer refused: nothing we can take: m=application "
                       "(mid d0) is in the pre-standard form (DTLS/SCTP <port> with "
                       "a=sctpmap"))
      << warnings;
  EXPECT_TRUE(contains(warnings, "UDP/DTLS/SCTP webrtc-datachannel with a=sctp-port (RFC 8841"))
      << warnings;
  EXPECT_EQ(string_property(c.bin(), "remote-ice-ufrag"), "") << "a refusal changes nothing";
}

TEST(SdpData, UnusableApplicationSectionsAreRefused) {
  struct Case {
    const char* from;
    const char* to;
    const char* why;
  };
  const Case cases[] = {
      {"a=sctp-port:5001", "a=sctp-port:70000",
       "a=sctp-port:70000 in m=application (mid d0) is not a number from 1 to 65535"},
      {"a=sctp-port:5001", "a=sctp-port:0",
       "a=sctp-port:0 in m=application (mid d0) is not a number from 1 to 65535"},
      {"a=max-message-size:1048576", "a=max-message-size:big",
       "a=max-message-size:big in m=application (mid d0) is not a number"},
      {"UDP/DTLS/SCTP webrtc-datachannel", "TCP/DTLS/SCTP webrtc-datachannel",
       "m=application (mid d0) is SCTP over DTLS over TCP"},
      {"UDP/DTLS/SCTP webrtc-datachannel", "UDP/DTLS/SCTP bfcp",
       "m=application (mid d0) has no webrtc-datachannel format"},
      {"UDP/DTLS/SCTP webrtc-datachannel", "UDP/BFCP *",
       "m=application (mid d0): protocol UDP/BFCP is not UDP/DTLS/SCTP"},
  };
  for (const Case& c : cases) {
    OneBin b;
    b.ready();
    EXPECT_EQ(b.answer(crlf(replaced(kDataOffer, c.from, c.to)), nullptr), "") << c.to;
    const std::string warnings = b.warnings_text();
    EXPECT_TRUE(contains(warnings, "answer-sdp-offer refused: nothing we can take: ")) << warnings;
    EXPECT_TRUE(contains(warnings, c.why)) << warnings;
    EXPECT_EQ(string_property(b.bin(), "remote-ice-ufrag"), "");
  }
}

// One SCTP association per transport: a second m=application section is rejected, the first kept.
TEST(SdpData, SecondApplicationSectionIsRejected) {
  OneBin b;
  b.ready();
  std::string offer = replaced(kDataOffer, "a=group:BUNDLE d0", "a=group:BUNDLE d0 d1");
  offer +=
      "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\nc=IN IP4 0.0.0.0\na=mid:d1\n"
      "a=sctp-port:5009\n";
  const std::string answer = b.answer(crlf(offer), nullptr);
  ASSERT_FALSE(answer.empty()) << b.warnings_text();
  Parsed a(answer);
  ASSERT_EQ(a.count(), 2u);
  EXPECT_NE(gst_sdp_media_get_port(a.media(0)), 0u);
  EXPECT_EQ(gst_sdp_media_get_port(a.media(1)), 0u);
  EXPECT_EQ(a.attribute(1, "mid"), "d1");
  EXPECT_EQ(uint_property(b.bin(), "remote-sctp-port"), 5001u);
}

// Media given no codecs (a data-only application) is answered with port 0 and the data taken.
TEST(SdpData, DataOnlyApplicationRejectsMedia) {
  OneBin b;
  b.ready();
  const std::string answer = b.answer(crlf(kAudioDataOffer), nullptr);
  ASSERT_FALSE(answer.empty()) << b.warnings_text();
  Parsed a(answer);
  ASSERT_EQ(a.count(), 2u);
  EXPECT_EQ(gst_sdp_media_get_port(a.media(0)), 0u);
  EXPECT_NE(gst_sdp_media_get_port(a.media(1)), 0u);
  EXPECT_STREQ(gst_sdp_message_get_attribute_val(a.message, "group"), "BUNDLE d");
  // The transport (candidates) is in the data section, the first one taken.
  EXPECT_GE(a.count_attribute(1, "candidate"), 1u);
}

// --- Our offer ---------------------------------------------------------------------------------

GObject* create_channel(GstElement* bin, const char* label, const char* options = nullptr) {
  GstStructure* s = options ? gst_structure_from_string(options, nullptr) : nullptr;
  GObject* channel = nullptr;
  g_signal_emit_by_name(bin, "create-data-channel", label, s, &channel);
  if (s) gst_structure_free(s);
  return channel;
}

TEST(SdpData, OfferHasApplicationSectionOnceAChannelExists) {
  OneBin a;
  a.ready();
  const char* video = "application/x-rtp,media=video,payload=96,encoding-name=VP8,clock-rate=90000";
  {
    Parsed o(a.offer(video));
    ASSERT_EQ(o.count(), 1u) << "no channel yet: no m=application";
  }
  // Data only with no channel: nothing to offer.
  EXPECT_EQ(a.offer(nullptr), "");
  EXPECT_TRUE(contains(a.warnings_text(), "create-sdp-offer refused: no codecs")) << "pt-map unset";

  g_object_set(a.bin(), "sctp-port", 5003u, nullptr);
  GObject* channel = (create_channel(a.bin(), "chat"));
  ASSERT_NE(channel, nullptr);
  {
    Parsed o(a.offer(video));
    ASSERT_EQ(o.count(), 2u);
    EXPECT_STREQ(gst_sdp_media_get_media(o.media(1)), "application");
    EXPECT_STREQ(gst_sdp_media_get_proto(o.media(1)), "UDP/DTLS/SCTP");
    EXPECT_EQ(o.formats(1), "webrtc-datachannel");
    EXPECT_EQ(o.attribute(1, "mid"), "1");
    EXPECT_EQ(o.attribute(1, "sctp-port"), "5003");
    EXPECT_EQ(o.attribute(1, "max-message-size"), std::to_string(kOurMaxMessageSize));
    EXPECT_EQ(o.attribute(1, "setup"), "actpass");
    EXPECT_EQ(o.attribute(1, "rtcp-mux"), "(absent)");
    EXPECT_EQ(o.count_attribute(1, "candidate"), 0u) << "candidates are in the first section";
    EXPECT_STREQ(gst_sdp_message_get_attribute_val(o.message, "group"), "BUNDLE 0 1");
  }
  {
    Parsed o(a.offer(nullptr));  // data only
    ASSERT_EQ(o.count(), 1u);
    EXPECT_STREQ(gst_sdp_media_get_media(o.media(0)), "application");
    EXPECT_EQ(o.attribute(0, "mid"), "0");
    EXPECT_GE(o.count_attribute(0, "candidate"), 1u);
    EXPECT_STREQ(gst_sdp_message_get_attribute_val(o.message, "group"), "BUNDLE 0");
  }
  g_object_unref(channel);
}

// Two bins, data only, through SDP alone: a's offer, b's answer, the peer's parameters on each.
TEST(SdpData, TwoBinsNegotiateDataChannelsThroughSdp) {
  OneBin a, b;
  g_object_set(a.bin(), "sctp-port", 5004u, nullptr);
  g_object_set(b.bin(), "sctp-port", 5005u, nullptr);
  a.ready();
  b.ready();
  GObject* channel = (create_channel(a.bin(), "chat"));
  ASSERT_NE(channel, nullptr);
  const std::string offer = a.offer(nullptr);
  ASSERT_FALSE(offer.empty()) << a.warnings_text();
  const std::string answer = b.answer(offer, nullptr);
  ASSERT_FALSE(answer.empty()) << b.warnings_text();
  ASSERT_TRUE(a.apply_answer(answer)) << a.warnings_text();
  EXPECT_EQ(uint_property(a.bin(), "remote-sctp-port"), 5005u);
  EXPECT_EQ(uint_property(b.bin(), "remote-sctp-port"), 5004u);
  EXPECT_EQ(uint_property(a.bin(), "max-message-size"), kOurMaxMessageSize);
  EXPECT_EQ(uint_property(b.bin(), "max-message-size"), kOurMaxMessageSize);

  // And the channel opens on those ports (SCTP would not associate on the wrong ones), with a
  // message through it.
  struct Seen {
    GMutex lock;
    GObject* channel = nullptr;
    std::string text;
  } seen;
  g_mutex_init(&seen.lock);
  g_signal_connect(b.bin(), "on-data-channel", G_CALLBACK(+[](GstElement*, GObject* ch, Seen* s) {
                     g_mutex_lock(&s->lock);
                     s->channel = G_OBJECT(g_object_ref(ch));
                     g_signal_connect(ch, "on-message-string",
                                      G_CALLBACK(+[](GObject*, const gchar* text, Seen* inner) {
                                        g_mutex_lock(&inner->lock);
                                        inner->text = text;
                                        g_mutex_unlock(&inner->lock);
                                      }),
                                      s);
                     g_mutex_unlock(&s->lock);
                   }),
                   &seen);
  ASSERT_EQ(gst_element_set_state(a.pipeline(), GST_STATE_PLAYING), GST_STATE_CHANGE_SUCCESS);
  ASSERT_EQ(gst_element_set_state(b.pipeline(), GST_STATE_PLAYING), GST_STATE_CHANGE_SUCCESS);
  const GstClockTime deadline = gst_util_get_timestamp() + kWait;
  gint ready = 0;
  while (gst_util_get_timestamp() < deadline) {
    g_object_get(channel, "ready-state", &ready, nullptr);
    if (ready == 2 /* open */) break;
    g_usleep(10000);
  }
  ASSERT_EQ(ready, 2) << "the channel did not open: " << a.warnings_text() << b.warnings_text();
  g_signal_emit_by_name(channel, "send-string", "over the negotiated ports");
  std::string text;
  while (gst_util_get_timestamp() < deadline && text.empty()) {
    g_usleep(10000);
    g_mutex_lock(&seen.lock);
    text = seen.text;
    g_mutex_unlock(&seen.lock);
  }
  EXPECT_EQ(text, "over the negotiated ports");
  gst_element_set_state(a.pipeline(), GST_STATE_NULL);
  gst_element_set_state(b.pipeline(), GST_STATE_NULL);
  if (seen.channel) g_object_unref(seen.channel);
  g_mutex_clear(&seen.lock);
  g_object_unref(channel);
}

guint64 stats_uint64(GstElement* bin, const char* field) {
  GstStructure* stats = nullptr;
  g_object_get(bin, "stats", &stats, nullptr);
  guint64 value = G_MAXUINT64;
  if (stats) gst_structure_get_uint64(stats, field, &value);
  if (stats) gst_structure_free(stats);
  return value;
}

// Descriptions without data channels: no SCTP association, not one SCTP packet to the peer
// (webrtcbin fails its receive path on DTLS application data it has no SCTP transport for).
TEST(SdpData, NoDataSectionNoSctp) {
  OneBin a, b;
  a.ready();
  b.ready();
  const std::string offer =
      a.offer("application/x-rtp,media=video,payload=96,encoding-name=VP8,clock-rate=90000");
  ASSERT_FALSE(offer.empty()) << a.warnings_text();
  ASSERT_EQ(offer.find("m=application"), std::string::npos);
  const std::string answer = b.answer(offer);
  ASSERT_FALSE(answer.empty()) << b.warnings_text();
  ASSERT_TRUE(a.apply_answer(answer)) << a.warnings_text();
  ASSERT_EQ(gst_element_set_state(a.pipeline(), GST_STATE_PLAYING), GST_STATE_CHANGE_SUCCESS);
  ASSERT_EQ(gst_element_set_state(b.pipeline(), GST_STATE_PLAYING), GST_STATE_CHANGE_SUCCESS);
  ASSERT_TRUE(wait_connected(a.bin())) << a.warnings_text();
  ASSERT_TRUE(wait_connected(b.bin())) << b.warnings_text();
  // An association would have sent its INIT at once; give it ample time to show.
  g_usleep(500000);
  EXPECT_EQ(stats_uint64(a.bin(), "sctp-packets-sent"), 0u);
  EXPECT_EQ(stats_uint64(b.bin(), "sctp-packets-sent"), 0u);
  EXPECT_EQ(stats_uint64(a.bin(), "sctp-packets-received"), 0u);
}

// RFC 8841 §6.1: a=max-message-size:0 is "any size" (the property's 0); a size beyond what the
// property holds is no limit either (G_MAXUINT).
TEST(SdpData, MaxMessageSizeZeroAndHuge) {
  OneBin b;
  b.ready();
  ASSERT_FALSE(
      b.answer(crlf(replaced(kDataOffer, "a=max-message-size:1048576", "a=max-message-size:0")),
               nullptr)
          .empty())
      << b.warnings_text();
  EXPECT_EQ(uint_property(b.bin(), "max-message-size"), 0u);
  ASSERT_FALSE(b.answer(crlf(replaced(kDataOffer, "a=max-message-size:1048576",
                                      "a=max-message-size:17179869184")),
                        nullptr)
                   .empty())
      << b.warnings_text();
  EXPECT_EQ(uint_property(b.bin(), "max-message-size"), G_MAXUINT);
}

// An answer that rejects our data section (port 0) is applied; the SCTP properties stay; one that
// answers it in the pre-standard form is refused.
TEST(SdpData, AnswerRejectingOrMisformingTheDataSection) {
  OneBin a, b;
  a.ready();
  b.ready();
  g_object_set(a.bin(), "remote-sctp-port", 6000u, nullptr);
  GObject* channel = (create_channel(a.bin(), "chat"));
  ASSERT_NE(channel, nullptr);
  const std::string offer =
      a.offer("application/x-rtp,media=video,payload=96,encoding-name=VP8,clock-rate=90000");
  ASSERT_FALSE(offer.empty()) << a.warnings_text();
  // A peer without data channels answers our data section with port 0: written into b's answer.
  const std::string answer = b.answer(offer);
  ASSERT_FALSE(answer.empty()) << b.warnings_text();
  const size_t at = answer.find("m=application ");
  ASSERT_NE(at, std::string::npos) << answer;
  std::string rejected = answer.substr(0, at) +
                         "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                         "c=IN IP4 0.0.0.0\r\na=mid:1\r\n";
  rejected = replaced(rejected, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0");
  std::string old_style = replaced(answer, "UDP/DTLS/SCTP webrtc-datachannel", "DTLS/SCTP 5000");
  EXPECT_FALSE(a.apply_answer(old_style));
  EXPECT_TRUE(contains(a.warnings_text(),
                       "apply-sdp-answer refused: m=application (mid 1) is in "
                       "the pre-standard form"));
  EXPECT_EQ(string_property(a.bin(), "remote-ice-ufrag"), "");
  ASSERT_TRUE(a.apply_answer(rejected)) << a.warnings_text();
  EXPECT_EQ(uint_property(a.bin(), "remote-sctp-port"), 6000u);
  g_object_unref(channel);
}

}  // namespace
