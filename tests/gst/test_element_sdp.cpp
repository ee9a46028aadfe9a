// SDP offer/answer on the element (issue 10): create-sdp-offer, answer-sdp-offer and
// apply-sdp-answer on real elements (real libnice gathering on loopback, real certificates), with
// descriptions written here after the examples of RFC 8829 §7 (JSEP) and RFC 8843 §18 (BUNDLE):
// what a browser offers is answered in one call, the answer mirrors the offer, the element's
// remote parameters and pt-map come from the description, two bins connect through SDP alone, and
// what cannot be used is refused with a WARNING that says what and why, changing nothing.
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sdp_fixture.h"

namespace {

using namespace sdp_fixture;

class GstEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { gst_init(nullptr, nullptr); }
};
const auto* const kGstEnvironment = ::testing::AddGlobalTestEnvironment(new GstEnvironment);

// A browser's first offer, shaped after RFC 8829 §7.1 and §7.2 (audio + video + data channel,
// max-bundle, trickle, rtcp-mux, rtcp-rsize, rtx), with its own values: session-level
// fingerprint, media-level ICE credentials, an mDNS host candidate (as browsers hide their
// addresses) and an IP server-reflexive one, a=end-of-candidates.
const char* const kBrowserOffer = R"(v=0
o=- 4962303333179871722 1 IN IP4 0.0.0.0
s=-
t=0 0
a=ice-options:trickle
a=group:BUNDLE a1 v1 d1
a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2
m=audio 56500 UDP/TLS/RTP/SAVPF 111 0
c=IN IP4 192.0.2.1
a=mid:a1
a=msid:47017fee-b6c1-4162-929c-a25110252400 f83006c5-a0ff-4e0a-9ed9-d3e6747be7d9
a=sendrecv
a=rtpmap:111 opus/48000/2
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:0 PCMU/8000
a=ice-ufrag:ETEn
a=ice-pwd:OtSK0WpNtpUjkY4+86js7ZQl
a=setup:actpass
a=rtcp-mux
a=rtcp-rsize
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
a=candidate:1 1 udp 2113929471 4be1f8a3-6c1f-4b7d-9f3e-6b8b1c4a0f11.local 56500 typ host
a=candidate:2 1 udp 1845501695 192.0.2.1 56500 typ srflx raddr 0.0.0.0 rport 0
a=candidate:3 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active
a=end-of-candidates
m=video 0 UDP/TLS/RTP/SAVPF 100 101 102
c=IN IP4 192.0.2.1
a=mid:v1
a=bundle-only
a=msid:47017fee-b6c1-4162-929c-a25110252400 f30bdb4a-5db8-49b5-bcdc-e0c9a23172e0
a=sendrecv
a=rtpmap:100 VP8/90000
a=rtcp-fb:100 ccm fir
a=rtcp-fb:100 nack
a=rtcp-fb:100 nack pli
a=rtpmap:101 rtx/90000
a=fmtp:101 apt=100
a=rtpmap:102 H264/90000
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=rtcp-fb:102 nack pli
a=ice-ufrag:ETEn
a=ice-pwd:OtSK0WpNtpUjkY4+86js7ZQl
a=setup:actpass
a=rtcp-mux
a=rtcp-rsize
a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid
m=application 0 UDP/DTLS/SCTP webrtc-datachannel
c=IN IP4 192.0.2.1
a=mid:d1
a=bundle-only
a=sctp-port:5000
a=max-message-size:65536
a=ice-ufrag:ETEn
a=ice-pwd:OtSK0WpNtpUjkY4+86js7ZQl
a=setup:actpass
)";

const char* const kOfferFingerprint =
    "sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:"
    "E8:70:88:A2";

// A minimal offer (one video section) for the rules below, after RFC 8843 §18.1's example.
const char* const kVideoOffer = R"(v=0
o=- 20518 0 IN IP4 203.0.113.1
s=-
t=0 0
a=group:BUNDLE foo
m=video 10000 UDP/TLS/RTP/SAVPF 96
c=IN IP4 203.0.113.1
a=mid:foo
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 nack pli
a=ice-ufrag:R6Kx
a=ice-pwd:asd88fgpdd777uzjYhagZg22
a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2
a=setup:actpass
a=rtcp-mux
a=candidate:1 1 UDP 2113929471 203.0.113.1 10000 typ host
)";

// Another browser's way (RFC 8829 §7 allows both): ICE credentials and the fingerprint at session
// level, a=setup in each section, a=rtcp:9 beside a=rtcp-mux, audio only, sendonly.
const char* const kSessionLevelOffer = R"(v=0
o=mozilla...THIS_IS_SDPARTA-99.0 6551289325412530583 0 IN IP4 0.0.0.0
s=-
t=0 0
a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2
a=group:BUNDLE 0
a=ice-options:trickle
a=msid-semantic:WMS *
a=ice-ufrag:4a3b9c1e
a=ice-pwd:8f7e6d5c4b3a29180716253443526170
m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101
c=IN IP4 0.0.0.0
a=sendonly
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1
a=fmtp:101 0-15
a=mid:0
a=rtcp:9 IN IP4 0.0.0.0
a=rtcp-mux
a=rtpmap:109 opus/48000/2
a=rtpmap:9 G722/8000/1
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=setup:actpass
a=ssrc:2655508255 cname:{735484ea-4f6c-f74a-bd66-7425f8476c2c}
)";

// --- A browser's offer, answered in one call ---------------------------------------------------

TEST(Sdp, BrowserOfferIsAnsweredInOneCall) {
  OneBin b;
  b.ready();
  const std::string offer = crlf(kBrowserOffer);
  const gint64 begin = g_get_monotonic_time();
  const std::string answer = b.answer(offer);
  const gint64 took = g_get_monotonic_time() - begin;
  ASSERT_FALSE(answer.empty()) << b.warnings_text();
  std::printf("answer-sdp-offer (parse + answer, browser-style offer, 3 m= sections): %.3f ms\n",
              took / 1000.0);
  std::printf("%s", answer.c_str());

  Parsed a(answer);
  // Mirrors the offer: three sections in its order with its mids, all BUNDLEd on our one
  // transport, the data channel section included (test_element_sdp_data.cpp has its rules).
  ASSERT_EQ(a.count(), 3u);
  EXPECT_EQ(a.attribute(0, "mid"), "a1");
  EXPECT_EQ(a.attribute(1, "mid"), "v1");
  EXPECT_EQ(a.attribute(2, "mid"), "d1");
  EXPECT_STREQ(gst_sdp_media_get_media(a.media(0)), "audio");
  EXPECT_STREQ(gst_sdp_media_get_media(a.media(1)), "video");
  EXPECT_STREQ(gst_sdp_media_get_media(a.media(2)), "application");
  EXPECT_NE(gst_sdp_media_get_port(a.media(0)), 0u);
  EXPECT_NE(gst_sdp_media_get_port(a.media(1)), 0u);
  EXPECT_NE(gst_sdp_media_get_port(a.media(2)), 0u);
  EXPECT_STREQ(gst_sdp_media_get_proto(a.media(2)), "UDP/DTLS/SCTP");
  EXPECT_EQ(a.formats(2), "webrtc-datachannel");
  EXPECT_STREQ(gst_sdp_message_get_attribute_val(a.message, "group"), "BUNDLE a1 v1 d1");
  // Only the codecs we take (Opus; VP8 — not rtx nor H.264), with the offer's payload types.
  EXPECT_EQ(a.formats(0), "111");
  EXPECT_EQ(a.formats(1), "100");
  const std::string fingerprint = string_property(b.bin(), "local-fingerprint");
  const std::string ufrag = string_property(b.bin(), "local-ice-ufrag");
  for (guint i : {0u, 1u}) {
    EXPECT_EQ(a.attribute(i, "setup"), "active") << "RFC 8842 §5.3: the answerer to actpass";
    EXPECT_EQ(a.attribute(i, "fingerprint"), fingerprint);
    EXPECT_EQ(a.attribute(i, "ice-ufrag"), ufrag);
    EXPECT_EQ(a.attribute(i, "ice-pwd"), string_property(b.bin(), "local-ice-pwd"));
    EXPECT_NE(a.attribute(i, "rtcp-mux"), "(absent)");
    EXPECT_EQ(a.attribute(i, "sendrecv"), "");
  }
  EXPECT_EQ(a.attribute(0, "rtpmap"), "111 opus/48000/2");
  EXPECT_EQ(a.attribute(0, "fmtp"), "111 minptime=10;useinbandfec=1");
  EXPECT_EQ(a.attribute(1, "rtpmap"), "100 VP8/90000");
  EXPECT_EQ(a.count_attribute(1, "rtcp-fb"), 3u);
  // Our candidates (all gathered) in the BUNDLE transport's section only.
  EXPECT_GE(a.count_attribute(0, "candidate"), 1u);
  EXPECT_NE(a.attribute(0, "end-of-candidates"), "(absent)");
  EXPECT_EQ(a.count_attribute(1, "candidate"), 0u);

  // What the offer says, now set on the element.
  EXPECT_EQ(string_property(b.bin(), "remote-ice-ufrag"), "ETEn");
  EXPECT_EQ(string_property(b.bin(), "remote-ice-pwd"), "OtSK0WpNtpUjkY4+86js7ZQl");
  EXPECT_EQ(string_property(b.bin(), "remote-fingerprints"), kOfferFingerprint);
  EXPECT_EQ(enum_nick(b.bin(), "remote-role"), "server");  // it is passive once we are active
  gboolean controlling = TRUE;
  g_object_get(b.bin(), "ice-controlling", &controlling, nullptr);
  EXPECT_FALSE(controlling) << "the answerer is ICE controlled (RFC 8445 §6.1.1)";
  // The srflx candidate with an IP; the mDNS host and the TCP one are refused with a warning.
  EXPECT_EQ(string_property(b.bin(), "remote-candidates"),
            "candidate:2 1 udp 1845501695 192.0.2.1 56500 typ srflx raddr 0.0.0.0 rport 0");
  const std::string warnings = b.warnings_text();
  EXPECT_TRUE(contains(warnings, "2 of the peer's candidates cannot be used")) << warnings;
  EXPECT_TRUE(contains(warnings, ".local")) << warnings;
  // pt-map from a=rtpmap/a=fmtp/a=rtcp-fb: what rtpbin needs (rtcp-fb-nack-pli for PLI).
  GstCaps* map = b.pt_map();
  ASSERT_NE(map, nullptr);
  EXPECT_EQ(gst_caps_get_size(map), 2u) << gst_caps_to_string(map);
  const GstStructure* vp8 = pt_entry(map, 100);
  ASSERT_NE(vp8, nullptr);
  EXPECT_STREQ(gst_structure_get_string(vp8, "encoding-name"), "VP8");
  gboolean flag = FALSE;
  EXPECT_TRUE(gst_structure_get_boolean(vp8, "rtcp-fb-nack-pli", &flag) && flag);
  EXPECT_TRUE(gst_structure_get_boolean(vp8, "rtcp-fb-ccm-fir", &flag) && flag);
  const GstStructure* opus = pt_entry(map, 111);
  ASSERT_NE(opus, nullptr);
  EXPECT_STREQ(gst_structure_get_string(opus, "useinbandfec"), "1");
  gst_caps_unref(map);
}

// The time of one parse + answer, over many calls (printed; no assertion on speed).
TEST(Sdp, ParseAndAnswerTime) {
  OneBin b;
  b.ready();
  const std::string offer = crlf(kBrowserOffer);
  GstCaps* caps = gst_caps_from_string(kAudioVideoCodecs);
  std::vector<gint64> times;
  for (int i = 0; i < 200; ++i) {
    const gint64 begin = g_get_monotonic_time();
    gchar* answer = nullptr;
    g_signal_emit_by_name(b.bin(), "answer-sdp-offer", offer.c_str(), caps, &answer);
    times.push_back(g_get_monotonic_time() - begin);
    ASSERT_NE(answer, nullptr);
    g_free(answer);
  }
  gst_caps_unref(caps);
  // The same offer again and again gives the candidate once.
  EXPECT_EQ(string_property(b.bin(), "remote-candidates"),
            "candidate:2 1 udp 1845501695 192.0.2.1 56500 typ srflx raddr 0.0.0.0 rport 0");
  std::sort(times.begin(), times.end());
  std::printf(
      "answer-sdp-offer, browser-style offer, 200 calls: median %.3f ms, p90 %.3f ms, "
      "max %.3f ms\n",
      times[100] / 1000.0, times[180] / 1000.0, times.back() / 1000.0);
}

// --- Two bins through SDP alone ----------------------------------------------------------------

TEST(Sdp, TwoBinsConnectThroughOfferAndAnswer) {
  OneBin a, b;
  a.ready();
  b.ready();
  const std::string offer = a.offer(
      "application/x-rtp,media=video,payload=96,encoding-name=VP8,clock-rate=90000,"
      "rtcp-fb-nack-pli=(boolean)true;"
      "application/x-rtp,media=audio,payload=111,encoding-name=OPUS,clock-rate=48000,"
      "encoding-params=(string)2");
  ASSERT_FALSE(offer.empty()) << a.warnings_text();
  Parsed o(offer);
  ASSERT_EQ(o.count(), 2u);
  EXPECT_EQ(o.attribute(0, "setup"), "actpass");
  EXPECT_STREQ(gst_sdp_message_get_attribute_val(o.message, "group"), "BUNDLE 0 1");
  EXPECT_EQ(o.attribute(0, "rtcp-fb"), "96 nack pli");
  EXPECT_EQ(o.attribute(1, "rtpmap"), "111 OPUS/48000/2");
  const std::string answer = b.answer(offer);
  ASSERT_FALSE(answer.empty()) << b.warnings_text();
  ASSERT_TRUE(a.apply_answer(answer)) << a.warnings_text();
  EXPECT_EQ(string_property(a.bin(), "remote-fingerprints"),
            string_property(b.bin(), "local-fingerprint"));
  EXPECT_EQ(string_property(b.bin(), "remote-fingerprints"),
            string_property(a.bin(), "local-fingerprint"));
  EXPECT_EQ(string_property(a.bin(), "remote-ice-ufrag"),
            string_property(b.bin(), "local-ice-ufrag"));
  EXPECT_EQ(enum_nick(a.bin(), "remote-role"), "client");  // b answered active
  EXPECT_EQ(enum_nick(b.bin(), "remote-role"), "server");
  GstCaps* map = a.pt_map();
  EXPECT_NE(pt_entry(map, 96), nullptr);
  EXPECT_NE(pt_entry(map, 111), nullptr);
  gst_caps_unref(map);

  ASSERT_EQ(gst_element_set_state(a.pipeline(), GST_STATE_PLAYING), GST_STATE_CHANGE_SUCCESS);
  ASSERT_EQ(gst_element_set_state(b.pipeline(), GST_STATE_PLAYING), GST_STATE_CHANGE_SUCCESS);
  EXPECT_TRUE(wait_connected(a.bin())) << a.warnings_text();
  EXPECT_TRUE(wait_connected(b.bin())) << b.warnings_text();
  EXPECT_EQ(enum_nick(a.bin(), "dtls-role"), "server");
  EXPECT_EQ(enum_nick(b.bin(), "dtls-role"), "client");
}

// --- The rules, one by one ---------------------------------------------------------------------

TEST(Sdp, FingerprintsOfAnyHashAtMediaLevel) {
  OneBin b;
  b.ready();
  const std::string offer = crlf(replaced(
      kVideoOffer,
      "a=fingerprint:sha-256 "
      "19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:"
      "88:A2\n",
      "a=fingerprint:sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB\n"
      "a=fingerprint:sha-512 "
      "CB:D1:51:5E:C4:03:E4:A1:4A:5E:3D:E7:9E:6C:C7:30:9F:55:89:7B:74:1C:50:7B:2D:2E:3E:D8:5A:"
      "C5:0C:FA:A3:7B:8E:41:9E:25:9F:AB:94:77:E4:27:E8:25:E0:B5:21:4C:E7:E4:1E:63:EF:58:34:1E:"
      "92:E5:C4:2E:1B:72\n"));
  ASSERT_FALSE(b.answer(offer).empty()) << b.warnings_text();
  const std::string fingerprints = string_property(b.bin(), "remote-fingerprints");
  EXPECT_TRUE(g_str_has_prefix(fingerprints.c_str(), "sha-1 4A:AD:B9")) << fingerprints;
  EXPECT_TRUE(contains(fingerprints, ", sha-512 CB:D1:51")) << fingerprints;
}

TEST(Sdp, SessionLevelCredentialsAndFingerprint) {
  OneBin b;
  b.ready();
  const std::string answer = b.answer(crlf(kSessionLevelOffer));
  ASSERT_FALSE(answer.empty()) << b.warnings_text();
  Parsed a(answer);
  ASSERT_EQ(a.count(), 1u);
  EXPECT_EQ(a.attribute(0, "mid"), "0");
  EXPECT_EQ(a.formats(0), "109");
  EXPECT_EQ(a.attribute(0, "recvonly"), "") << "the offer is sendonly";
  EXPECT_EQ(a.attribute(0, "fmtp"), "109 maxplaybackrate=48000;stereo=1;useinbandfec=1");
  EXPECT_EQ(string_property(b.bin(), "remote-ice-ufrag"), "4a3b9c1e");
  EXPECT_EQ(string_property(b.bin(), "remote-ice-pwd"), "8f7e6d5c4b3a29180716253443526170");
  EXPECT_EQ(string_property(b.bin(), "remote-fingerprints"), kOfferFingerprint);
  // No candidate yet (they will be trickled): none stored, and no warning about candidates.
  EXPECT_EQ(string_property(b.bin(), "remote-candidates"), "");
  EXPECT_EQ(b.warnings_text(), "");
}

TEST(Sdp, OfferSaysActiveSoWeArePassive) {
  OneBin b;
  b.ready();
  const std::string answer =
      b.answer(crlf(replaced(kVideoOffer, "a=setup:actpass", "a=setup:active")));
  ASSERT_FALSE(answer.empty()) << b.warnings_text();
  Parsed a(answer);
  EXPECT_EQ(a.attribute(0, "setup"), "passive");
  EXPECT_EQ(enum_nick(b.bin(), "remote-role"), "client");
}

TEST(Sdp, OfferSaysPassiveSoWeAreActive) {
  OneBin b;
  b.ready();
  const std::string answer =
      b.answer(crlf(replaced(kVideoOffer, "a=setup:actpass", "a=setup:passive")));
  ASSERT_FALSE(answer.empty()) << b.warnings_text();
  Parsed a(answer);
  EXPECT_EQ(a.attribute(0, "setup"), "active");
  EXPECT_EQ(enum_nick(b.bin(), "remote-role"), "server");
}

// RFC 3551 §6: a static payload type may come without a=rtpmap (PCMU here); it is known.
TEST(Sdp, StaticPayloadTypeWithoutRtpmap) {
  OneBin b;
  b.ready();
  std::string offer = replaced(kVideoOffer, "m=video 10000 UDP/TLS/RTP/SAVPF 96",
                               "m=audio 10000 UDP/TLS/RTP/SAVPF 0");
  offer = replaced(offer, "a=rtpmap:96 VP8/90000\na=rtcp-fb:96 nack pli\n", "");
  const std::string answer =
      b.answer(crlf(offer), "application/x-rtp,media=audio,encoding-name=PCMU,clock-rate=8000");
  ASSERT_FALSE(answer.empty()) << b.warnings_text();
  Parsed a(answer);
  EXPECT_EQ(a.formats(0), "0");
  GstCaps* map = b.pt_map();
  const GstStructure* pcmu = pt_entry(map, 0);
  ASSERT_NE(pcmu, nullptr);
  EXPECT_STREQ(gst_structure_get_string(pcmu, "encoding-name"), "PCMU");
  gst_caps_unref(map);
}

// A refused description: NULL, one WARNING containing `why`, nothing applied.
void expect_refused(OneBin& b, const std::string& offer, const std::string& why,
                    const char* codecs = kAudioVideoCodecs) {
  EXPECT_EQ(b.answer(offer, codecs), "");
  const std::string warnings = b.warnings_text();
  EXPECT_TRUE(contains(warnings, "answer-sdp-offer refused: ")) << warnings;
  EXPECT_TRUE(contains(warnings, why)) << warnings;
  EXPECT_EQ(string_property(b.bin(), "remote-ice-ufrag"), "");
  EXPECT_EQ(string_property(b.bin(), "remote-fingerprints"), "");
  EXPECT_EQ(string_property(b.bin(), "remote-candidates"), "");
}

TEST(Sdp, NoFingerprintIsRefused) {
  OneBin b;
  b.ready();
  std::string offer = kVideoOffer;
  offer = replaced(offer, "a=fingerprint:", "a=x-not-a-fingerprint:");
  expect_refused(b, crlf(offer), "no a=fingerprint in m=video (mid foo) nor at session level");
}

TEST(Sdp, HoldconnIsRefused) {
  OneBin b;
  b.ready();
  expect_refused(b, crlf(replaced(kVideoOffer, "a=setup:actpass", "a=setup:holdconn")),
                 "a=setup:holdconn in m=video (mid foo): the peer holds the connection");
}

TEST(Sdp, TcpOnlyCandidatesAreRefused) {
  OneBin b;
  b.ready();
  expect_refused(b,
                 crlf(replaced(kVideoOffer, "a=candidate:1 1 UDP 2113929471 203.0.113.1 10000",
                               "a=candidate:1 1 TCP 2113929471 203.0.113.1 10000")),
                 "m=video (mid foo) has only TCP candidates (1)");
}

// A section we cannot take is rejected the way browsers write it, our transport attributes
// included: webrtcbin 1.22 refuses a whole description with a section lacking a=fingerprint.
TEST(Sdp, RejectedSectionCarriesTransportAttributesButNoCandidates) {
  OneBin b;
  b.ready();
  const std::string answer = b.answer(
      crlf(kBrowserOffer), "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000");
  ASSERT_FALSE(answer.empty()) << b.warnings_text();
  Parsed a(answer);
  ASSERT_EQ(a.count(), 3u);
  EXPECT_EQ(a.attribute(0, "mid"), "a1");
  EXPECT_EQ(gst_sdp_media_get_port(a.media(0)), 0u) << "no audio codec given: rejected";
  EXPECT_NE(gst_sdp_media_get_port(a.media(1)), 0u);
  EXPECT_STREQ(gst_sdp_message_get_attribute_val(a.message, "group"), "BUNDLE v1 d1");
  EXPECT_EQ(a.attribute(0, "inactive"), "");
  EXPECT_EQ(a.attribute(0, "fingerprint"), string_property(b.bin(), "local-fingerprint"));
  EXPECT_EQ(a.attribute(0, "ice-ufrag"), string_property(b.bin(), "local-ice-ufrag"));
  EXPECT_EQ(a.attribute(0, "setup"), "active");
  EXPECT_EQ(a.count_attribute(0, "candidate"), 0u);
  EXPECT_EQ(a.attribute(0, "end-of-candidates"), "(absent)");
  EXPECT_GE(a.count_attribute(1, "candidate"), 1u) << "candidates go to the section taken";
}

TEST(Sdp, NoCommonCodecIsRefused) {
  OneBin b;
  b.ready();
  expect_refused(b, crlf(kVideoOffer), "no common codec: the offer has video VP8/90000",
                 "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000");
}

TEST(Sdp, MissingRtcpMuxIsRefused) {
  OneBin b;
  b.ready();
  expect_refused(b, crlf(replaced(kVideoOffer, "a=rtcp-mux\n", "")),
                 "m=video (mid foo) has no a=rtcp-mux");
}

TEST(Sdp, RoleThatContradictsTheOfferIsRefused) {
  OneBin b;
  g_object_set(b.bin(), "role", 2 /* server */, nullptr);
  b.ready();
  expect_refused(b, crlf(kVideoOffer), "the role property is server");
}

TEST(Sdp, AnswerThatSaysActpassIsRefused) {
  OneBin a, b;
  a.ready();
  b.ready();
  const std::string offer =
      a.offer("application/x-rtp,media=video,payload=96,encoding-name=VP8,clock-rate=90000");
  ASSERT_FALSE(offer.empty());
  std::string answer = b.answer(offer);
  ASSERT_FALSE(answer.empty());
  answer = replaced(answer, "a=setup:active", "a=setup:actpass");
  EXPECT_FALSE(a.apply_answer(answer));
  EXPECT_TRUE(contains(a.warnings_text(), "the answer says a=setup:actpass"));
  EXPECT_EQ(string_property(a.bin(), "remote-ice-ufrag"), "");
}

TEST(Sdp, AnswerWithAnotherSectionCountIsRefused) {
  OneBin a, b;
  a.ready();
  b.ready();
  const std::string offer = a.offer(
      "application/x-rtp,media=video,payload=96,encoding-name=VP8,clock-rate=90000;"
      "application/x-rtp,media=audio,payload=111,encoding-name=OPUS,clock-rate=48000,"
      "encoding-params=(string)2");
  // b answers another offer: one section.
  const std::string answer = b.answer(crlf(kVideoOffer));
  ASSERT_FALSE(answer.empty());
  EXPECT_FALSE(a.apply_answer(answer));
  EXPECT_TRUE(contains(a.warnings_text(), "the answer has 1 m= sections, our offer 2"));
}

TEST(Sdp, OfferNeedsACertificate) {
  OneBin b;  // NULL: no certificate generated yet
  EXPECT_EQ(b.offer("application/x-rtp,media=video,payload=96,encoding-name=VP8,clock-rate=90000"),
            "");
  EXPECT_TRUE(contains(b.warnings_text(), "create-sdp-offer refused: no certificate yet"));
}

}  // namespace
