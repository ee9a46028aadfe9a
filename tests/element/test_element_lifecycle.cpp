// Lifecycle: the stop action (close_notify, RFC 5246 §7.2.1) closes both sides and stops media;
// leaving PLAYING (to PAUSED or all the way to NULL) sends close_notify too; PLAYING→NULL→PLAYING
// gives a fresh transport and handshake with media again; auto-restart heals a call whose peer
// went away and came back; 50 rapid NULL↔PLAYING cycles, many of them mid-handshake, neither hang,
// crash nor leak sockets; 50 cycles with an open data channel close it and leak nothing.
// pair.h (and the C++ library) first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include "pair.h"
//
#include <gst/check/gstcheck.h>
#include <unistd.h>

using namespace elemtest;

namespace {

constexpr const char* kDataOnlyBin = "dtlstransportbin name=dtls";

void connect_pair(Pair& pair) {
  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());
}

// Fixed ports, as a static configuration has them: a side that comes back is where it was.
// Returns B's port.
guint fix_ports(Pair& pair) {
  const guint base = 41000 + static_cast<guint>(getpid() % 8000) * 2;
  g_object_set(pair.a().bin, "min-port", base, "max-port", base, nullptr);
  g_object_set(pair.b().bin, "min-port", base + 1, "max-port", base + 1, nullptr);
  return base + 1;
}

}  // namespace

// Leaving PLAYING ends the association with close_notify while the network path is still open:
// the peer goes closed at once (not failed, not connected to nobody until consent expires).
// Checked for PLAYING→PAUSED and for PLAYING→NULL in one step.
GST_START_TEST(test_leaving_playing_sends_close_notify) {
  for (GstState target : {GST_STATE_PAUSED, GST_STATE_NULL}) {
    Pair pair;
    connect_pair(pair);
    send_rtp_and_check(pair.a(), pair.b(), 3, 0x0a0000c5);
    // PAUSED is asynchronous (the appsinks wait for preroll): it never completes here.
    fail_if(gst_element_set_state(pair.b().pipeline, target) == GST_STATE_CHANGE_FAILURE);
    fail_unless(pair.wait_state(pair.a(), kClosed, 5 * G_USEC_PER_SEC), "A after B went to %s:\n%s",
                gst_element_state_get_name(target), pair.a().describe().c_str());
    fail_unless_equals_int(pair.a().count_state_changes(kFailed), 0);
    if (target == GST_STATE_PAUSED) fail_unless_equals_int(pair.b().state(), kClosed);
  }
}
GST_END_TEST

// auto-restart: B goes away (NULL: A hears close_notify and closes), A tears its run down and
// begins a new one after the first backoff (1 s); B comes back with the same configuration; both
// connect again and media flows both ways. A's restarts are announced and counted.
GST_START_TEST(test_auto_restart_heals_when_the_peer_returns) {
  Pair pair;
  const guint b_port = fix_ports(pair);
  g_object_set(pair.a().bin, "auto-restart", TRUE, nullptr);
  connect_pair(pair);
  send_rtp_and_check(pair.a(), pair.b(), 3, 0x0a0000c6);
  const double handshake_ms = [&] {
    GstStructure* stats = nullptr;
    g_object_get(pair.a().bin, "stats", &stats, nullptr);
    double ms = -1;
    gst_structure_get_double(stats, "handshake-ms", &ms);
    gst_structure_free(stats);
    return ms;
  }();
  fail_unless(handshake_ms >= 0);

  fail_unless_equals_int(gst_element_set_state(pair.b().pipeline, GST_STATE_NULL),
                         GST_STATE_CHANGE_SUCCESS);
  fail_unless(
      pair.wait_until([&] { return pair.a().count_element_messages("dtlstransport-restart") >= 1; },
                      5 * G_USEC_PER_SEC),
      "A did not restart:\n%s", pair.a().describe().c_str());
  fail_unless(pair.wait_until([&] { return udp_port_free(b_port); }, 5 * G_USEC_PER_SEC));
  fail_unless_equals_int(gst_element_set_state(pair.b().pipeline, GST_STATE_PLAYING),
                         GST_STATE_CHANGE_SUCCESS);
  fail_unless(pair.wait_until(
                  [&] {
                    return pair.a().count_state_changes(kConnected) >= 2 &&
                           pair.b().count_state_changes(kConnected) >= 2;
                  },
                  30 * G_USEC_PER_SEC),
              "not connected again:\n%s\n%s", pair.a().describe().c_str(),
              pair.b().describe().c_str());
  send_rtp_and_check(pair.a(), pair.b(), 5, 0x0a0000c7);
  send_rtp_and_check(pair.b(), pair.a(), 5, 0x0b0000c7);
  fail_unless(pair.a().stat("auto-restarts") >= 1);
  fail_unless_equals_uint64(pair.b().stat("auto-restarts"), 0);
  fail_unless(pair.a().errors.empty() && pair.b().errors.empty(), "%s\n%s",
              pair.a().describe().c_str(), pair.b().describe().c_str());
}
GST_END_TEST

// Our own stop is not a failure: auto-restart leaves a transport we closed alone.
GST_START_TEST(test_auto_restart_respects_our_own_stop) {
  Pair pair;
  g_object_set(pair.a().bin, "auto-restart", TRUE, nullptr);
  connect_pair(pair);
  g_signal_emit_by_name(pair.a().bin, "stop");
  fail_unless(pair.wait_both(kClosed));
  pair.settle(1500 * 1000);  // beyond the first backoff
  fail_unless_equals_int(pair.a().count_element_messages("dtlstransport-restart"), 0);
  fail_unless_equals_int(pair.a().state(), kClosed);
}
GST_END_TEST

GST_START_TEST(test_stop_closes_both) {
  Pair pair;
  connect_pair(pair);
  send_rtp_and_check(pair.a(), pair.b(), 5, 0x0a0000c1);
  g_signal_emit_by_name(pair.a().bin, "stop");
  fail_unless(pair.wait_both(kClosed), "not closed on both:\n%s\n%s", pair.a().describe().c_str(),
              pair.b().describe().c_str());
  uint64_t at_b = pair.b().rtp_out_count->buffers, at_a = pair.a().rtp_out_count->buffers;
  // Media after stop: accepted upstream (no flow error), dropped, never delivered.
  for (uint16_t i = 0; i < 10; i++) {
    push(pair.a().rtp_in, make_rtp(static_cast<uint16_t>(200 + i), 40, 0x0a0000c1));
    push(pair.b().rtp_in, make_rtp(static_cast<uint16_t>(200 + i), 40, 0x0b0000c1));
  }
  gboolean sent = TRUE;
  GstBuffer* pli = make_pli(1, 2);
  g_signal_emit_by_name(pair.b().bin, "send-rtcp", pli, &sent);
  gst_buffer_unref(pli);
  fail_if(sent, "send-rtcp accepted a packet after closed");
  pair.settle(500 * 1000);
  fail_unless_equals_uint64(pair.b().rtp_out_count->buffers.load(), at_b);
  fail_unless_equals_uint64(pair.a().rtp_out_count->buffers.load(), at_a);
  for (Side* side : {&pair.a(), &pair.b()}) {
    fail_unless_equals_int(side->state(), kClosed);  // stays closed, does not turn failed
    fail_unless_equals_int(side->count_state_changes(kClosed), 1);
    fail_unless_equals_int(side->count_state_changes(kFailed), 0);
    fail_unless(side->errors.empty(), "%s", side->describe().c_str());
  }
  // stop on an already closed transport is harmless.
  g_signal_emit_by_name(pair.b().bin, "stop");
  fail_unless_equals_int(pair.b().state(), kClosed);
}
GST_END_TEST

// PLAYING→NULL→PLAYING (after a normal run and after stop): a new handshake, fresh SRTP
// contexts (the same sequence numbers are not replays), counters restart.
GST_START_TEST(test_restart) {
  Pair pair;
  connect_pair(pair);
  send_rtp_and_check(pair.a(), pair.b(), 10, 0x0a0000c2);
  send_rtp_and_check(pair.b(), pair.a(), 10, 0x0b0000c2);
  std::string fingerprint = pair.a().string_property("local-fingerprint");

  for (int run = 2; run <= 3; run++) {
    if (run == 3) {
      g_signal_emit_by_name(pair.b().bin, "stop");
      fail_unless(pair.wait_both(kClosed));
    }
    pair.stop();
    for (Side* side : {&pair.a(), &pair.b()}) {
      int state = side->state();
      fail_unless(state == kNew || state == kClosed, "%s: state %s in NULL", side->label.c_str(),
                  state_name(state));
    }
    connect_pair(pair);
    // The state property turns connected just before state-changed is emitted on the same
    // thread: wait for the signal too.
    fail_unless(pair.wait_until([&] {
      return pair.a().count_state_changes(kConnected) >= run &&
             pair.b().count_state_changes(kConnected) >= run;
    }));
    for (Side* side : {&pair.a(), &pair.b()})
      fail_unless_equals_int(side->count_state_changes(kConnected), run);
    // The same sequence numbers again: accepted only if the SRTP contexts are new.
    send_rtp_and_check(pair.a(), pair.b(), 10, 0x0a0000c2);
    send_rtp_and_check(pair.b(), pair.a(), 10, 0x0b0000c2);
    send_rtcp_and_check(pair.a(), pair.b(), make_pli(0x0a0000c2, 0x0b0000c2), true);
    fail_unless_equals_uint64(pair.a().stat("packets-sent"), 10);
    fail_unless_equals_uint64(pair.b().stat("packets-received"), 10);
    std::string again = pair.a().string_property("local-fingerprint");
    fail_unless_equals_string(again.c_str(), fingerprint.c_str());  // identity kept
  }
  fail_unless(pair.a().errors.empty() && pair.b().errors.empty(), "%s\n%s",
              pair.a().describe().c_str(), pair.b().describe().c_str());
}
GST_END_TEST

// 50 rapid cycles: half stop while DTLS is connecting (the fixture drops the first ClientHello of
// each run, which holds the handshake for one retransmission, ≈ 400 ms, so "connecting" is a
// window, not a race), half after a random short delay (gathering, ICE checks, handshake).
// Then a normal run must work and no sockets may be left behind.
GST_START_TEST(test_rapid_cycles) {
  PairOptions options;
  options.trickle = true;
  Pair pair(options);
  connect_pair(pair);  // warm-up: shared threads and lazy GLib/GStreamer state exist now
  pair.stop();
  pair.settle(300 * 1000);
  int fds_before = open_fd_count();
  std::string kinds_before = open_fd_summary();

  pair.options().drop_first_client_hello = true;
  GRand* rand = g_rand_new_with_seed(20240601);
  int stopped_connecting = 0;
  for (int cycle = 0; cycle < 50; cycle++) {
    pair.start();
    if (cycle % 2 == 0) {
      pair.wait_until([&] { return pair.a().state() >= kConnecting; }, 2 * G_USEC_PER_SEC);
    } else {
      pair.settle(g_rand_int_range(rand, 0, 40) * 1000);
    }
    if (pair.a().state() == kConnecting || pair.b().state() == kConnecting) stopped_connecting++;
    gint64 before_null = g_get_monotonic_time();
    pair.stop();
    fail_unless(g_get_monotonic_time() - before_null < 5 * G_USEC_PER_SEC,
                "cycle %d: going to NULL took over 5 s", cycle);
  }
  g_rand_free(rand);
  GST_INFO("%d of 50 cycles stopped while connecting", stopped_connecting);
  fail_unless(stopped_connecting >= 20, "only %d cycles hit the handshake", stopped_connecting);
  // B is the DTLS client: its first ClientHello was dropped in (nearly) every run that got as
  // far as DTLS, which is what held the handshake open.
  fail_unless(pair.b().client_hellos.dropped() >= 20,
              "only %" G_GUINT64_FORMAT " ClientHellos dropped in 50 runs",
              pair.b().client_hellos.dropped());
  pair.options().drop_first_client_hello = false;

  connect_pair(pair);
  send_rtp_and_check(pair.a(), pair.b(), 10, 0x0a0000c3);
  send_rtp_and_check(pair.b(), pair.a(), 10, 0x0b0000c3);
  pair.stop();
  // Agents close asynchronously: give them a moment, then count sockets.
  int fds_after = 0;
  pair.wait_until([&] { return (fds_after = open_fd_count()) <= fds_before + 4; },
                  3 * G_USEC_PER_SEC);
  fail_unless(fds_after <= fds_before + 4,
              "file descriptors: %d before the cycles (%s), %d after (%s)", fds_before,
              kinds_before.c_str(), fds_after, open_fd_summary().c_str());
  fail_unless(pair.a().errors.empty() && pair.b().errors.empty(), "%s\n%s",
              pair.a().describe().c_str(), pair.b().describe().c_str());
}
GST_END_TEST

// 50 NULL↔PLAYING cycles, each with a data channel opened by A, a message across it, and the
// channel still open when both sides go to NULL. Every channel closes (on-close on both sides),
// every channel object is finalized once the application drops it, the SCTP elements leave the
// bins with their association, and no socket is left behind. (Runs under ASan in CI.)
GST_START_TEST(test_cycles_with_open_channels) {
  Pair pair(kDataOnlyBin, kDataOnlyBin);
  connect_pair(pair);  // warm-up
  pair.stop();
  pair.settle(300 * 1000);
  const int fds_before = open_fd_count();
  const int children_before = GST_BIN(pair.a().bin)->numchildren;
  std::atomic<int> finalized{0}, closed{0}, received{0};
  struct Peer {
    std::atomic<int>* closed;
    std::atomic<int>* received;
    std::atomic<int>* finalized;
  } peer{&closed, &received, &finalized};
  gulong handler = g_signal_connect(
      pair.b().bin, "on-data-channel", G_CALLBACK(+[](GstElement*, GObject* channel, Peer* p) {
        g_signal_connect(channel, "on-close",
                         G_CALLBACK(+[](GObject*, std::atomic<int>* c) { (*c)++; }), p->closed);
        g_signal_connect(channel, "on-message-string",
                         G_CALLBACK(+[](GObject*, const char*, std::atomic<int>* r) { (*r)++; }),
                         p->received);
        g_object_weak_ref(
            channel, [](gpointer f, GObject*) { (*static_cast<std::atomic<int>*>(f))++; },
            p->finalized);
      }),
      &peer);
  constexpr int kCycles = 50;
  for (int cycle = 0; cycle < kCycles; cycle++) {
    pair.start();
    GObject* channel = nullptr;
    g_signal_emit_by_name(pair.a().bin, "create-data-channel", "cycle", nullptr, &channel);
    fail_unless(channel != nullptr);
    g_signal_connect(channel, "on-close",
                     G_CALLBACK(+[](GObject*, std::atomic<int>* c) { (*c)++; }), &closed);
    g_object_weak_ref(
        channel, [](gpointer f, GObject*) { (*static_cast<std::atomic<int>*>(f))++; }, &finalized);
    fail_unless(pair.wait_until([&] {
      int state = 0;
      g_object_get(channel, "ready-state", &state, nullptr);
      return state == 2;  // open
    }),
                "cycle %d: channel not open", cycle);
    g_signal_emit_by_name(channel, "send-string", "ping");
    fail_unless(pair.wait_until([&] { return received.load() == cycle + 1; }),
                "cycle %d: message lost", cycle);
    pair.stop();
    g_object_unref(channel);
    fail_unless(pair.wait_until([&] { return closed.load() == 2 * (cycle + 1); }),
                "cycle %d: %d on-close of %d", cycle, closed.load(), 2 * (cycle + 1));
  }
  g_signal_handler_disconnect(pair.b().bin, handler);
  fail_unless(pair.wait_until([&] { return finalized.load() == 2 * kCycles; }),
              "%d of %d channel objects finalized", finalized.load(), 2 * kCycles);
  // The SCTP elements leave on the shared thread after DTLS ends.
  fail_unless(pair.wait_until([&] {
    return GST_BIN(pair.a().bin)->numchildren == children_before &&
           GST_BIN(pair.b().bin)->numchildren == children_before;
  }),
              "children: %d before, A %d, B %d after", children_before,
              GST_BIN(pair.a().bin)->numchildren, GST_BIN(pair.b().bin)->numchildren);
  int fds_after = 0;
  pair.wait_until([&] { return (fds_after = open_fd_count()) <= fds_before + 4; },
                  3 * G_USEC_PER_SEC);
  fail_unless(fds_after <= fds_before + 4, "file descriptors: %d before, %d after (%s)", fds_before,
              fds_after, open_fd_summary().c_str());
  fail_unless(pair.a().errors.empty() && pair.b().errors.empty(), "%s\n%s",
              pair.a().describe().c_str(), pair.b().describe().c_str());
}
GST_END_TEST

static Suite* element_lifecycle_suite(void) {
  Suite* s = suite_create("element_lifecycle");
  TCase* tc = tcase_create("lifecycle");
  tcase_set_timeout(tc, 180);
  tcase_add_test(tc, test_stop_closes_both);
  tcase_add_test(tc, test_restart);
  tcase_add_test(tc, test_rapid_cycles);
  tcase_add_test(tc, test_cycles_with_open_channels);
  tcase_add_test(tc, test_leaving_playing_sends_close_notify);
  tcase_add_test(tc, test_auto_restart_heals_when_the_peer_returns);
  tcase_add_test(tc, test_auto_restart_respects_our_own_stop);
  suite_add_tcase(s, tc);
  return s;
}

GST_CHECK_MAIN(element_lifecycle)
