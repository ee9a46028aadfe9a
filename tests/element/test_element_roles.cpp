// Every DTLS role combination between two bins on 127.0.0.1 (RFC 5763 §5): auto/auto with each
// side ICE-controlling, client/server and server/client. Each must connect, report the role
// taken in dtls-role, and carry RTP both ways byte for byte.
// pair.h (and the C++ library) first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include "pair.h"
//
#include <gst/check/gstcheck.h>

using namespace elemtest;

namespace {

void run_roles(bool a_controlling, const char* a_role, const char* b_role, int want_a, int want_b) {
  PairOptions options;
  options.a_controlling = a_controlling;
  options.b_controlling = !a_controlling;
  Pair pair(options);
  gst_util_set_object_arg(G_OBJECT(pair.a().bin), "role", a_role);
  gst_util_set_object_arg(G_OBJECT(pair.b().bin), "role", b_role);
  fail_unless_equals_int(pair.a().enum_property("dtls-role"), kAuto);
  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());
  fail_unless_equals_int(pair.a().enum_property("dtls-role"), want_a);
  fail_unless_equals_int(pair.b().enum_property("dtls-role"), want_b);
  send_rtp_and_check(pair.a(), pair.b(), 30, 0x11111111);
  send_rtp_and_check(pair.b(), pair.a(), 30, 0x22222222);
  fail_unless_equals_int(pair.a().errors.size(), 0);
  fail_unless_equals_int(pair.b().errors.size(), 0);
  // Exactly one handshake: connecting → connected once per side.
  fail_unless_equals_int(pair.a().count_state_changes(kConnected), 1);
  fail_unless_equals_int(pair.b().count_state_changes(kConnected), 1);
}

}  // namespace

// auto/auto: the ICE-controlling side is the DTLS server.
GST_START_TEST(test_auto_auto_a_controlling) { run_roles(true, "auto", "auto", kServer, kClient); }
GST_END_TEST

GST_START_TEST(test_auto_auto_b_controlling) { run_roles(false, "auto", "auto", kClient, kServer); }
GST_END_TEST

// Explicit roles win over the ICE role: the controlling side may be the client.
GST_START_TEST(test_client_server) { run_roles(true, "client", "server", kClient, kServer); }
GST_END_TEST

GST_START_TEST(test_server_client) { run_roles(true, "server", "client", kServer, kClient); }
GST_END_TEST

// An explicit role on one side only, the other auto with remote-role telling it (a=setup).
GST_START_TEST(test_client_auto_with_remote_role) {
  PairOptions options;
  options.a_controlling = true;  // ICE would make A the server; its setup says client
  Pair pair(options);
  gst_util_set_object_arg(G_OBJECT(pair.a().bin), "role", "client");
  gst_util_set_object_arg(G_OBJECT(pair.b().bin), "remote-role", "client");
  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());
  fail_unless_equals_int(pair.a().enum_property("dtls-role"), kClient);
  fail_unless_equals_int(pair.b().enum_property("dtls-role"), kServer);
  send_rtp_and_check(pair.a(), pair.b(), 5, 0x33333333);
  send_rtp_and_check(pair.b(), pair.a(), 5, 0x44444444);
}
GST_END_TEST

static Suite* element_roles_suite(void) {
  Suite* s = suite_create("element_roles");
  TCase* tc = tcase_create("roles");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_auto_auto_a_controlling);
  tcase_add_test(tc, test_auto_auto_b_controlling);
  tcase_add_test(tc, test_client_server);
  tcase_add_test(tc, test_server_client);
  tcase_add_test(tc, test_client_auto_with_remote_role);
  suite_add_tcase(s, tc);
  return s;
}

GST_CHECK_MAIN(element_roles)
