// The stats structure: every field issue 3 lists, with its type, and counters that count what
// actually crossed the transport (and what was dropped before keys).
// pair.h (and the C++ library) first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include "pair.h"
//
#include <gst/check/gstcheck.h>

using namespace elemtest;

namespace {

const char* const kCounters[] = {
    "packets-sent",         "bytes-sent",        "packets-received",
    "bytes-received",       "rtcp-packets-sent", "rtcp-packets-received",
    "dropped-auth-failure", "dropped-replay",    "dropped-no-keys",
    "dropped-malformed",
};
const char* const kStrings[] = {"dtls-role",    "dtls-version",    "dtls-cipher",
                                "srtp-profile", "local-candidate", "remote-candidate"};

std::string stat_string(Side& side, const char* field) {
  GstStructure* stats = nullptr;
  g_object_get(side.bin, "stats", &stats, nullptr);
  const gchar* value = gst_structure_get_string(stats, field);
  std::string out = value ? value : "";
  gst_structure_free(stats);
  return out;
}

}  // namespace

GST_START_TEST(test_stats_fields_and_counts) {
  Pair pair;
  // Every field exists with its type even before anything happened.
  {
    GstStructure* stats = nullptr;
    g_object_get(pair.a().bin, "stats", &stats, nullptr);
    fail_unless(stats != nullptr);
    for (const char* field : kCounters)
      fail_unless(gst_structure_has_field_typed(stats, field, G_TYPE_UINT64),
                  "stats lack uint64 %s: %s", field, gst_structure_to_string(stats));
    for (const char* field : kStrings)
      fail_unless(gst_structure_has_field_typed(stats, field, G_TYPE_STRING),
                  "stats lack string %s", field);
    fail_unless(gst_structure_has_field_typed(stats, "handshake-ms", G_TYPE_DOUBLE) ||
                    gst_structure_has_field_typed(stats, "handshake-ms", G_TYPE_UINT64) ||
                    gst_structure_has_field_typed(stats, "handshake-ms", G_TYPE_INT64),
                "stats lack handshake-ms");
    gst_structure_free(stats);
  }

  // Media before keys is dropped and counted, never a flow error.
  fail_unless(gst_element_set_state(pair.a().pipeline, GST_STATE_PLAYING) !=
              GST_STATE_CHANGE_FAILURE);
  for (uint16_t i = 0; i < 3; i++) push(pair.a().rtp_in, make_rtp(i, 50, 0x5a5a5a5a));
  fail_unless(pair.wait_until([&] { return pair.a().stat("dropped-no-keys") >= 3; }),
              "dropped-no-keys %" G_GUINT64_FORMAT " after 3 packets before keys",
              pair.a().stat("dropped-no-keys"));
  fail_unless_equals_uint64(pair.a().stat("packets-sent"), 0);
  pair.stop();

  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());
  uint64_t sent_a = pair.a().stat("packets-sent"), received_b = pair.b().stat("packets-received");
  uint64_t bytes_a = pair.a().stat("bytes-sent");
  send_rtp_and_check(pair.a(), pair.b(), 25, 0x01020304);
  send_rtp_and_check(pair.b(), pair.a(), 7, 0x05060708);
  send_rtcp_and_check(pair.a(), pair.b(), make_pli(1, 2), true);
  send_rtcp_and_check(pair.a(), pair.b(), make_sr(1, 25), false);

  fail_unless_equals_uint64(pair.a().stat("packets-sent") - sent_a, 25);
  fail_unless_equals_uint64(pair.b().stat("packets-received") - received_b, 25);
  fail_unless_equals_uint64(pair.b().stat("packets-sent"), 7);
  fail_unless_equals_uint64(pair.a().stat("packets-received"), 7);
  // 25 packets of 12 + 100 + 10 i bytes: at least that much (SRTP adds tags).
  uint64_t plain = 0;
  for (unsigned i = 0; i < 25; i++) plain += 12 + 100 + 10 * i;
  fail_unless(pair.a().stat("bytes-sent") - bytes_a >= plain,
              "bytes-sent %" G_GUINT64_FORMAT " < %" G_GUINT64_FORMAT,
              pair.a().stat("bytes-sent") - bytes_a, plain);
  fail_unless(pair.b().stat("bytes-received") >= plain);
  fail_unless_equals_uint64(pair.a().stat("rtcp-packets-sent"), 2);
  fail_unless_equals_uint64(pair.b().stat("rtcp-packets-received"), 2);
  for (const char* field : {"dropped-auth-failure", "dropped-replay", "dropped-malformed"}) {
    fail_unless_equals_uint64(pair.a().stat(field), 0);
    fail_unless_equals_uint64(pair.b().stat(field), 0);
  }

  // Negotiated parameters agree with the properties and between the sides. (Strings are held in
  // variables: the check macros keep the pointer they are given.)
  std::string role_a = stat_string(pair.a(), "dtls-role"),
              role_b = stat_string(pair.b(), "dtls-role");
  std::string version = stat_string(pair.a(), "dtls-version");
  std::string cipher_a = stat_string(pair.a(), "dtls-cipher"),
              cipher_b = stat_string(pair.b(), "dtls-cipher");
  std::string profile_a = stat_string(pair.a(), "srtp-profile"),
              profile_b = stat_string(pair.b(), "srtp-profile");
  std::string profile_property = pair.a().string_property("srtp-profile");
  fail_unless_equals_string(role_a.c_str(), "server");
  fail_unless_equals_string(role_b.c_str(), "client");
  fail_unless_equals_string(version.c_str(), "DTLSv1.2");
  fail_unless(!cipher_a.empty());
  fail_unless_equals_string(cipher_a.c_str(), cipher_b.c_str());
  fail_unless_equals_string(profile_a.c_str(), profile_property.c_str());
  fail_unless_equals_string(profile_b.c_str(), "SRTP_AEAD_AES_128_GCM");
  for (Side* side : {&pair.a(), &pair.b()}) {
    for (const char* field : {"local-candidate", "remote-candidate"}) {
      std::string candidate = stat_string(*side, field);
      fail_unless(candidate.find("127.0.0.1") != std::string::npos, "%s: %s is '%s'",
                  side->label.c_str(), field, candidate.c_str());
    }
    GstStructure* stats = nullptr;
    g_object_get(side->bin, "stats", &stats, nullptr);
    gdouble ms = -1;
    fail_unless(gst_structure_get_double(stats, "handshake-ms", &ms));
    gst_structure_free(stats);
    fail_unless(ms > 0 && ms < 20000, "%s: handshake-ms %f", side->label.c_str(), ms);
  }
}
GST_END_TEST

// What was negotiated is what an application logs when a call ends: after `stop` (close_notify)
// both sides are closed and still report the profile, role, cipher and peer certificate.
GST_START_TEST(test_negotiated_parameters_outlive_the_call) {
  Pair pair;
  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());
  struct Negotiated {
    std::string profile, certificate, cipher, stats_profile;
    int role;
  };
  auto read = [](Side& side) {
    return Negotiated{side.string_property("srtp-profile"),
                      side.string_property("remote-certificate"), stat_string(side, "dtls-cipher"),
                      stat_string(side, "srtp-profile"), side.enum_property("dtls-role")};
  };
  const Negotiated before_a = read(pair.a()), before_b = read(pair.b());
  fail_unless(!before_a.profile.empty() && !before_a.certificate.empty());
  g_signal_emit_by_name(pair.a().bin, "stop");
  fail_unless(pair.wait_both(kClosed), "both sides did not close after stop");
  for (auto [side, before] : {std::pair{&pair.a(), before_a}, std::pair{&pair.b(), before_b}}) {
    const Negotiated after = read(*side);
    fail_unless(after.profile == before.profile, "%s: srtp-profile '%s' after close",
                side->label.c_str(), after.profile.c_str());
    fail_unless(after.stats_profile == before.profile, "%s: stats srtp-profile '%s' after close",
                side->label.c_str(), after.stats_profile.c_str());
    fail_unless(after.certificate == before.certificate, "%s: remote-certificate lost",
                side->label.c_str());
    fail_unless(after.cipher == before.cipher && !after.cipher.empty(), "%s: dtls-cipher '%s'",
                side->label.c_str(), after.cipher.c_str());
    fail_unless_equals_int(after.role, before.role);
  }
}
GST_END_TEST

static Suite* element_stats_suite(void) {
  Suite* s = suite_create("element_stats");
  TCase* tc = tcase_create("stats");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_stats_fields_and_counts);
  tcase_add_test(tc, test_negotiated_parameters_outlive_the_call);
  suite_add_tcase(s, tc);
  return s;
}

GST_CHECK_MAIN(element_stats)
