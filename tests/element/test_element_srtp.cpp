// SRTP protection profiles (RFC 5764 §4.1.2, RFC 7714 §14.2): each of the four is negotiated
// and carries media when it is the only one both sides offer; offers with nothing in common
// fail on both sides, fail closed.
// pair.h (and the C++ library) first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include "pair.h"
//
#include <gst/check/gstcheck.h>

using namespace elemtest;

namespace {

const char* const kProfiles[] = {
    "SRTP_AEAD_AES_128_GCM",
    "SRTP_AEAD_AES_256_GCM",
    "SRTP_AES128_CM_SHA1_80",
    "SRTP_AES128_CM_SHA1_32",
};

}  // namespace

// Loop test: __i__ indexes kProfiles.
GST_START_TEST(test_single_profile) {
  const char* profile = kProfiles[__i__];
  Pair pair;
  for (Side* side : {&pair.a(), &pair.b()}) {
    g_object_set(side->bin, "srtp-profiles", profile, nullptr);
    std::string offered = side->string_property("srtp-profiles");
    fail_unless_equals_string(offered.c_str(), profile);
  }
  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "%s: not connected:\n%s", profile, why.c_str());
  std::string got_a = pair.a().string_property("srtp-profile");
  std::string got_b = pair.b().string_property("srtp-profile");
  fail_unless_equals_string(got_a.c_str(), profile);
  fail_unless_equals_string(got_b.c_str(), profile);
  send_rtp_and_check(pair.a(), pair.b(), 20, 0x0a000001);
  send_rtp_and_check(pair.b(), pair.a(), 20, 0x0b000001);
  send_rtcp_and_check(pair.a(), pair.b(), make_sr(0x0a000001, 20), false);
  send_rtcp_and_check(pair.b(), pair.a(), make_pli(0x0b000001, 0x0a000001), true);
}
GST_END_TEST

// Both offer several, in different orders: they agree on one both offered.
GST_START_TEST(test_overlapping_offers_agree) {
  Pair pair;
  g_object_set(pair.a().bin, "srtp-profiles", "SRTP_AES128_CM_SHA1_32:SRTP_AEAD_AES_256_GCM",
               nullptr);
  g_object_set(pair.b().bin, "srtp-profiles",
               "SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_256_GCM:SRTP_AES128_CM_SHA1_32", nullptr);
  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());
  std::string got_a = pair.a().string_property("srtp-profile");
  std::string got_b = pair.b().string_property("srtp-profile");
  fail_unless_equals_string(got_a.c_str(), got_b.c_str());
  fail_unless(got_a == "SRTP_AES128_CM_SHA1_32" || got_a == "SRTP_AEAD_AES_256_GCM",
              "negotiated %s, which A did not offer", got_a.c_str());
  send_rtp_and_check(pair.a(), pair.b(), 5, 0x0a000002);
}
GST_END_TEST

// Disjoint offers: failed on both, a warning naming the reason, no media, no ERROR.
GST_START_TEST(test_disjoint_offers_fail) {
  Pair pair;
  g_object_set(pair.a().bin, "srtp-profiles", "SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM",
               nullptr);
  g_object_set(pair.b().bin, "srtp-profiles", "SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32",
               nullptr);
  pair.start();
  for (uint16_t i = 0; i < 10; i++) {
    push(pair.a().rtp_in, make_rtp(i, 40, 0x0a000003));
    push(pair.b().rtp_in, make_rtp(i, 40, 0x0b000003));
  }
  fail_unless(pair.wait_both(kFailed), "not failed on both:\n%s\n%s", pair.a().describe().c_str(),
              pair.b().describe().c_str());
  pair.settle(300 * 1000);
  fail_unless(pair.a().has_warning({"srtp"}) || pair.b().has_warning({"srtp"}),
              "no warning names the SRTP profile as the reason:\n%s\n%s",
              pair.a().describe().c_str(), pair.b().describe().c_str());
  for (Side* side : {&pair.a(), &pair.b()}) {
    fail_unless(side->has_warning({"fail"}), "%s: no warning for failed", side->describe().c_str());
    fail_unless_equals_int(side->errors.size(), 0);
    fail_unless_equals_uint64(side->rtp_out_count->buffers.load(), 0);
    fail_unless_equals_uint64(side->stat("packets-sent"), 0);
    std::string profile = side->string_property("srtp-profile");
    fail_unless(profile.empty(), "%s: srtp-profile '%s' after failing", side->label.c_str(),
                profile.c_str());
  }
}
GST_END_TEST

static Suite* element_srtp_suite(void) {
  Suite* s = suite_create("element_srtp");
  TCase* tc = tcase_create("srtp");
  tcase_set_timeout(tc, 60);
  tcase_add_loop_test(tc, test_single_profile, 0, G_N_ELEMENTS(kProfiles));
  tcase_add_test(tc, test_overlapping_offers_agree);
  tcase_add_test(tc, test_disjoint_offers_fail);
  suite_add_tcase(s, tc);
  return s;
}

GST_CHECK_MAIN(element_srtp)
