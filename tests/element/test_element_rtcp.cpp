// RTCP between two connected bins: through the rtcp_sink pad and through the send-rtcp action,
// both ways, compound (a sender report) and reduced-size (a lone PLI, RFC 5506), compared byte
// for byte after SRTCP protect/unprotect (RFC 3711 §3.4).
// pair.h (and the C++ library) first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include "pair.h"
//
#include <gst/check/gstcheck.h>

#include <cstdint>

using namespace elemtest;

namespace {

void connect_pair(Pair& pair) {
  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());
}

uint32_t read32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// A reduced-size PLI (RFC 4585 §6.3.1, RFC 5506) sent one way, read back from the receiver's
// rtcp_src appsink and checked there field by field, then byte-wise against what was sent.
void check_lone_pli(Side& from, Side& to, bool action) {
  const uint32_t sender_ssrc = 0xaaaa0001, media_ssrc = 0xbbbb0002;
  GstBuffer* pli = make_pli(sender_ssrc, media_ssrc);
  uint64_t received_before = to.stat("rtcp-packets-received");
  send_rtcp(from, pli, action);
  GstBuffer* received = pull(to.rtcp_out);
  fail_unless(received != nullptr, "the PLI from %s did not arrive at %s", from.label.c_str(),
              to.label.c_str());
  GstMapInfo map;
  fail_unless(gst_buffer_map(received, &map, GST_MAP_READ));
  fail_unless_equals_int(map.size, 12);
  fail_unless_equals_int(map.data[0] >> 6, 2);                  // V=2
  fail_unless_equals_int((map.data[0] >> 5) & 1, 0);            // no padding
  fail_unless_equals_int(map.data[0] & 0x1f, 1);                // FMT=1: PLI
  fail_unless_equals_int(map.data[1], 206);                     // PT=PSFB
  fail_unless_equals_int((map.data[2] << 8) | map.data[3], 2);  // length: 3 words - 1
  fail_unless_equals_uint64(read32(map.data + 4), sender_ssrc);
  fail_unless_equals_uint64(read32(map.data + 8), media_ssrc);
  gst_buffer_unmap(received, &map);
  fail_unless(same_bytes(pli, received), "the PLI from %s arrived altered", from.label.c_str());
  gst_buffer_unref(received);
  gst_buffer_unref(pli);
  // Counted before it is pushed out of rtcp_src, so already there: exactly this one packet.
  fail_unless_equals_uint64(to.stat("rtcp-packets-received"), received_before + 1);
}

}  // namespace

GST_START_TEST(test_rtcp_sink_both_ways) {
  Pair pair;
  connect_pair(pair);
  for (uint32_t i = 0; i < 5; i++) {
    send_rtcp_and_check(pair.a(), pair.b(), make_sr(0x0a0a0a0a, i), false);
    send_rtcp_and_check(pair.b(), pair.a(), make_sr(0x0b0b0b0b, i), false);
  }
  check_lone_pli(pair.a(), pair.b(), false);
  check_lone_pli(pair.b(), pair.a(), false);
  fail_unless(pair.a().stat("rtcp-packets-sent") >= 6);
  fail_unless(pair.b().stat("rtcp-packets-sent") >= 6);
}
GST_END_TEST

GST_START_TEST(test_send_rtcp_action_both_ways) {
  Pair pair;
  connect_pair(pair);
  check_lone_pli(pair.a(), pair.b(), true);
  check_lone_pli(pair.b(), pair.a(), true);
  send_rtcp_and_check(pair.a(), pair.b(), make_sr(0x0a0a0a0a, 9), true);
  send_rtcp_and_check(pair.b(), pair.a(), make_sr(0x0b0b0b0b, 9), true);
}
GST_END_TEST

// RTCP interleaved with RTP: neither stream blocks or corrupts the other.
GST_START_TEST(test_rtcp_interleaved_with_rtp) {
  Pair pair;
  connect_pair(pair);
  for (unsigned i = 0; i < 10; i++) {
    send_rtp_and_check(pair.a(), pair.b(), 3, 0x0c0c0c0c, static_cast<uint16_t>(100 + 3 * i));
    send_rtcp_and_check(pair.b(), pair.a(), make_pli(0x0d0d0d0d, 0x0c0c0c0c), i % 2 == 0);
  }
}
GST_END_TEST

// send-rtcp says FALSE without keys and for what is not RTCP; the transport keeps working.
GST_START_TEST(test_send_rtcp_refusals) {
  Pair pair;
  gboolean sent = TRUE;
  GstBuffer* pli = make_pli(1, 2);
  fail_unless(gst_element_set_state(pair.a().pipeline, GST_STATE_PLAYING) !=
              GST_STATE_CHANGE_FAILURE);
  g_signal_emit_by_name(pair.a().bin, "send-rtcp", pli, &sent);
  fail_if(sent, "send-rtcp returned TRUE before any keys exist");
  gst_buffer_unref(pli);
  fail_unless(gst_element_set_state(pair.a().pipeline, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS);

  connect_pair(pair);
  const uint8_t too_short[3] = {0x81, 206, 0};
  const uint8_t version_1[12] = {0x41, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2};
  GstBuffer* rtp = make_rtp(1, 20, 0x12345678, 96);  // RTP, not RTCP (RFC 5761 §4 PT ranges)
  for (GstBuffer* bad : {gst_buffer_new_memdup(too_short, sizeof too_short),
                         gst_buffer_new_memdup(version_1, sizeof version_1), rtp}) {
    sent = TRUE;
    g_signal_emit_by_name(pair.a().bin, "send-rtcp", bad, &sent);
    fail_if(sent, "send-rtcp accepted a %zu-byte invalid RTCP packet", gst_buffer_get_size(bad));
    gst_buffer_unref(bad);
  }
  fail_unless(pull(pair.b().rtcp_out, 200 * 1000) == nullptr,
              "an invalid RTCP packet reached the peer");
  check_lone_pli(pair.a(), pair.b(), true);
}
GST_END_TEST

static Suite* element_rtcp_suite(void) {
  Suite* s = suite_create("element_rtcp");
  TCase* tc = tcase_create("rtcp");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_rtcp_sink_both_ways);
  tcase_add_test(tc, test_send_rtcp_action_both_ways);
  tcase_add_test(tc, test_rtcp_interleaved_with_rtp);
  tcase_add_test(tc, test_send_rtcp_refusals);
  suite_add_tcase(s, tc);
  return s;
}

GST_CHECK_MAIN(element_rtcp)
