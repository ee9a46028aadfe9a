// One side "crashes" (its bin goes to NULL with everything it sends dropped, so no close_notify
// leaves, as when a process is killed) and comes back with the same configuration (certificate,
// ports, ICE credentials, remote parameters) while the other stays PLAYING, for each DTLS role of
// the survivor: both are connected again, media flows both ways with fresh keys, and the survivor
// saw no state change, one dtlstransport-reconnected message and counts one reconnect. pair.h (and
// the C++ library) first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include <string>

#include "pair.h"
//
#include <gst/check/gstcheck.h>

using namespace elemtest;

namespace {

// Counts the survivor's dtlstransport-reconnected element messages (bus sync handler).
GstBusSyncReply count_reconnected(GstBus*, GstMessage* message, gpointer counter) {
  const GstStructure* s = gst_message_get_structure(message);
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ELEMENT && s &&
      gst_structure_has_name(s, "dtlstransport-reconnected"))
    g_atomic_int_inc(static_cast<gint*>(counter));
  return GST_BUS_PASS;
}

void survivor_reconnects(int survivor_role) {
  const auto [survivor_port, restarted_port] = two_free_udp_ports();
  Pair pair;
  g_object_set(pair.a().bin, "role", survivor_role, "min-port", survivor_port, "max-port",
               survivor_port, nullptr);
  g_object_set(pair.b().bin, "role", survivor_role == kServer ? kClient : kServer, "min-port",
               restarted_port, "max-port", restarted_port, nullptr);
  gint reconnected = 0;
  GstBus* bus = gst_element_get_bus(pair.a().pipeline);
  gst_bus_set_sync_handler(bus, count_reconnected, &reconnected, nullptr);
  gst_object_unref(bus);

  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());
  send_rtp_and_check(pair.a(), pair.b(), 5, 0x0a0000d1, 100);
  send_rtp_and_check(pair.b(), pair.a(), 5, 0x0b0000d1, 100);
  const std::string certificate = pair.a().string_property("remote-certificate");

  // B's process "crashes" and restarts: same element, same settings, a fresh run.
  silence(pair.b().bin);
  fail_unless(gst_element_set_state(pair.b().pipeline, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS);
  fail_unless(pair.wait_until([&] { return udp_port_free(restarted_port); }, 5 * G_USEC_PER_SEC));
  fail_unless_equals_int(pair.a().state(), kConnected);  // nothing told the survivor
  fail_unless(gst_element_set_state(pair.b().pipeline, GST_STATE_PLAYING) !=
              GST_STATE_CHANGE_FAILURE);
  const gint64 restarted_at = g_get_monotonic_time();
  fail_unless(pair.wait_until(
                  [&] {
                    return pair.b().state() == kConnected && pair.a().stat("reconnects") == 1 &&
                           g_atomic_int_get(&reconnected) == 1;
                  },
                  20 * G_USEC_PER_SEC),
              "no recovery:\n%s\n%s\nreconnected messages: %d", pair.a().describe().c_str(),
              pair.b().describe().c_str(), g_atomic_int_get(&reconnected));
  g_printerr("RESULT element-restart survivor=%s recovered_ms=%.0f\n",
             survivor_role == kServer ? "server" : "client",
             (g_get_monotonic_time() - restarted_at) / 1000.0);
  fail_unless_equals_int(pair.a().state(), kConnected);
  fail_unless_equals_int(pair.a().count_state_changes(kConnected), 1);
  fail_unless_equals_int(pair.a().count_state_changes(kConnecting), 1);
  fail_unless_equals_uint64(pair.a().stat("handshakes"), 2);
  fail_unless_equals_uint64(pair.b().stat("reconnects"), 0);
  const std::string certificate_now = pair.a().string_property("remote-certificate");
  fail_unless(certificate_now == certificate);  // the same peer, verified again
  // Media both ways under the new keys (new SSRCs: the restarted side's contexts are new anyway).
  send_rtp_and_check(pair.a(), pair.b(), 5, 0x0a0000d2, 500);
  send_rtp_and_check(pair.b(), pair.a(), 5, 0x0b0000d2, 500);
  fail_unless(pair.a().errors.empty() && pair.b().errors.empty(), "%s\n%s",
              pair.a().describe().c_str(), pair.b().describe().c_str());
}

}  // namespace

GST_START_TEST(test_restarted_client_reconnects_to_surviving_server) {
  survivor_reconnects(kServer);
}
GST_END_TEST

GST_START_TEST(test_restarted_server_reconnects_to_surviving_client) {
  survivor_reconnects(kClient);
}
GST_END_TEST

static Suite* element_restart_suite(void) {
  Suite* s = suite_create("element_restart");
  TCase* tc = tcase_create("general");
  tcase_set_timeout(tc, 90);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_restarted_client_reconnects_to_surviving_server);
  tcase_add_test(tc, test_restarted_server_reconnects_to_surviving_client);
  return s;
}

GST_CHECK_MAIN(element_restart)
