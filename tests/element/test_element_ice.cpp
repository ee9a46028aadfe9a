// ICE over the whole call: restart-ice (RFC 8445 §9) keeps the DTLS association and SRTP keys
// while ICE starts a new generation; ICE failing before DTLS started fails the transport with a
// reason and a WARNING; a peer gone for good is noticed by consent freshness (RFC 7675), the
// transport fails and media stops being sent.
// pair.h (and the C++ library) first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include "pair.h"
//
#include <gst/check/gstcheck.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

using namespace elemtest;

namespace {

enum IceState { kIceNew, kIceChecking, kIceConnected, kIceCompleted, kIceFailed, kIceDisconnected };

void connect_pair(Pair& pair) {
  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());
}

double double_stat(Side& side, const char* field) {
  GstStructure* stats = nullptr;
  g_object_get(side.bin, "stats", &stats, nullptr);
  double value = -2;
  fail_unless(stats && gst_structure_get_double(stats, field, &value), "no %s in stats", field);
  gst_structure_free(stats);
  return value;
}

// Every ice-state a bin goes through, in order.
struct IceStates {
  std::mutex mutex;
  std::vector<int> seen;
  static void on_notify(GObject* bin, GParamSpec*, gpointer data) {
    auto* self = static_cast<IceStates*>(data);
    int state = 0;
    g_object_get(bin, "ice-state", &state, nullptr);
    std::lock_guard lock(self->mutex);
    self->seen.push_back(state);
  }
  void watch(GstElement* bin) {
    g_signal_connect(bin, "notify::ice-state", G_CALLBACK(on_notify), this);
  }
  bool saw(int state) {
    std::lock_guard lock(mutex);
    return std::find(seen.begin(), seen.end(), state) != seen.end();
  }
  void clear() {
    std::lock_guard lock(mutex);
    seen.clear();
  }
  // The states seen after the first `state`, in order.
  std::vector<int> after(int state) {
    std::lock_guard lock(mutex);
    auto first = std::find(seen.begin(), seen.end(), state);
    return first == seen.end() ? std::vector<int>{} : std::vector<int>(first + 1, seen.end());
  }
};

// on-local-candidate and on-gathering-done emissions.
struct GatheringCounts {
  std::atomic<int> candidates{0}, done{0};
  void watch(GstElement* bin) {
    g_signal_connect(bin, "on-local-candidate",
                     G_CALLBACK(+[](GstElement*, const gchar*, gpointer data) {
                       static_cast<GatheringCounts*>(data)->candidates++;
                     }),
                     this);
    g_signal_connect(bin, "on-gathering-done", G_CALLBACK(+[](GstElement*, gpointer data) {
                       static_cast<GatheringCounts*>(data)->done++;
                     }),
                     this);
  }
};

// Arrival times of the RTP leaving a bin's rtp_src: the largest gap between two packets.
struct GapMeter {
  std::mutex mutex;
  gint64 last = 0, largest = 0;
  uint64_t packets = 0;
  static GstPadProbeReturn probe(GstPad*, GstPadProbeInfo*, gpointer data) {
    auto* self = static_cast<GapMeter*>(data);
    const gint64 now = g_get_monotonic_time();
    std::lock_guard lock(self->mutex);
    if (self->last) self->largest = std::max(self->largest, now - self->last);
    self->last = now;
    self->packets++;
    return GST_PAD_PROBE_OK;
  }
  void watch(GstElement* bin) {
    GstPad* pad = gst_element_get_static_pad(bin, "rtp_src");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, probe, this, nullptr);
    gst_object_unref(pad);
  }
};

// RTP from one side every 5 ms on its own thread until stopped (sequence numbers from `first`).
class Streamer {
 public:
  Streamer(Side& from, uint32_t ssrc, uint16_t first)
      : thread_([this, &from, ssrc, first] {
          uint16_t seq = first;
          while (!stop_) {
            gst_app_src_push_buffer(GST_APP_SRC(from.rtp_in), make_rtp(seq++, 160, ssrc));
            pushed_++;
            g_usleep(5000);
          }
        }) {}
  ~Streamer() { stop(); }
  uint64_t stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return pushed_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> pushed_{0};
  std::thread thread_;
};

}  // namespace

// restart-ice on both sides while RTP flows A→B, credentials and candidates exchanged again as an
// application would after a new offer/answer: ICE checks again and completes, DTLS stays connected
// (no second handshake: handshake-ms unchanged, no state change), SRTP goes on with the same keys
// (no authentication failure, no replay), and the largest gap in the received media is reported.
GST_START_TEST(test_restart_ice_keeps_dtls_and_srtp) {
  // The recorders outlive the bins, which notify and signal on their way to NULL.
  IceStates ice_a, ice_b;
  GatheringCounts gathering_a, gathering_b;
  GapMeter gap;
  Pair pair;
  ice_a.watch(pair.a().bin);
  ice_b.watch(pair.b().bin);
  connect_pair(pair);
  send_rtp_and_check(pair.a(), pair.b(), 5, 0x0a0000e1);
  const double handshake_a = double_stat(pair.a(), "handshake-ms");
  const double handshake_b = double_stat(pair.b(), "handshake-ms");
  const std::string ufrag_a = pair.a().string_property("local-ice-ufrag");
  const std::string pwd_a = pair.a().string_property("local-ice-pwd");
  gathering_a.watch(pair.a().bin);
  gathering_b.watch(pair.b().bin);
  gap.watch(pair.b().bin);
  const uint64_t received_before = pair.b().stat("packets-received");

  Streamer streamer(pair.a(), 0x0a0000e1, 1000);
  pair.settle(300 * 1000);
  ice_a.clear();
  ice_b.clear();
  // B's credentials are the application's own (set just before); A's are drawn anew.
  g_object_set(pair.b().bin, "local-ice-ufrag", "bbbbrestart", "local-ice-pwd",
               "bbbbrestartpassword0123456789", nullptr);
  for (Side* side : {&pair.a(), &pair.b()}) {
    gboolean ok = FALSE;
    g_signal_emit_by_name(side->bin, "restart-ice", &ok);
    fail_unless(ok, "%s: restart-ice refused", side->label.c_str());
    // The old generation's remote credentials and candidates are gone.
    fail_unless(side->string_property("remote-ice-ufrag").empty());
    fail_unless(side->string_property("remote-candidates").empty());
  }
  fail_if(pair.a().string_property("local-ice-ufrag") == ufrag_a);
  fail_if(pair.a().string_property("local-ice-pwd") == pwd_a);
  const std::string ufrag_b = pair.b().string_property("local-ice-ufrag");
  fail_unless(ufrag_b == "bbbbrestart", "B's ufrag after restart-ice: %s", ufrag_b.c_str());
  fail_unless(gathering_a.candidates > 0 && gathering_a.done == 1, "A: %d candidates, %d done",
              gathering_a.candidates.load(), gathering_a.done.load());
  fail_unless(gathering_b.candidates > 0 && gathering_b.done == 1, "B: %d candidates, %d done",
              gathering_b.candidates.load(), gathering_b.done.load());
  fail_unless_equals_int(pair.a().enum_property("ice-gathering-state"), kGatheringComplete);

  pair.exchange_ice_credentials();
  pair.exchange_candidates(pair.a(), pair.b());
  pair.exchange_candidates(pair.b(), pair.a());
  // The new generation checks again and completes on both sides.
  fail_unless(pair.wait_until([&] {
    return ice_a.saw(kIceChecking) && ice_b.saw(kIceChecking) &&
           pair.a().enum_property("ice-state") == kIceCompleted &&
           pair.b().enum_property("ice-state") == kIceCompleted;
  }),
              "ICE did not complete again:\n%s\n%s", pair.a().describe().c_str(),
              pair.b().describe().c_str());
  pair.settle(500 * 1000);
  const uint64_t pushed = streamer.stop();
  pair.settle(200 * 1000);

  const uint64_t received = pair.b().stat("packets-received") - received_before;
  g_print("restart-ice: %" G_GUINT64_FORMAT " RTP packets sent every 5 ms, %" G_GUINT64_FORMAT
          " received; largest gap %.1f ms\n",
          pushed, received, static_cast<double>(gap.largest) / 1000.0);
  fail_unless(received > 0 && received + 5 >= pushed,
              "pushed %" G_GUINT64_FORMAT ", received %" G_GUINT64_FORMAT, pushed, received);
  send_rtp_and_check(pair.b(), pair.a(), 5, 0x0b0000e1);  // and the other way, after the restart
  for (Side* side : {&pair.a(), &pair.b()}) {
    fail_unless_equals_int(side->state(), kConnected);
    fail_unless_equals_int(side->count_state_changes(kConnected), 1);  // one handshake
    fail_unless_equals_int(side->count_state_changes(kConnecting), 1);
    fail_unless_equals_uint64(side->stat("dropped-auth-failure"), 0);
    fail_unless_equals_uint64(side->stat("dropped-replay"), 0);
    fail_unless(side->errors.empty() && side->warnings.empty(), "%s", side->describe().c_str());
  }
  fail_unless(double_stat(pair.a(), "handshake-ms") == handshake_a);
  fail_unless(double_stat(pair.b(), "handshake-ms") == handshake_b);
}
GST_END_TEST

// restart-ice with no ICE agent (NULL state) refuses with a warning.
GST_START_TEST(test_restart_ice_in_null_refuses) {
  Pair pair;
  gboolean ok = TRUE;
  g_signal_emit_by_name(pair.a().bin, "restart-ice", &ok);
  fail_if(ok);
}
GST_END_TEST

// A remote candidate at a port nobody listens on: ICE gives up (its checks time out), and the
// transport goes from new to failed with the reason and a WARNING instead of staying new.
GST_START_TEST(test_ice_failure_before_dtls_fails_transport) {
  Pair pair;
  std::string why;
  pair.exchange_ice_credentials();
  fail_unless(pair.set_state(GST_STATE_READY, &why), "%s", why.c_str());
  pair.exchange_fingerprints(pair.b(), pair.a());
  fail_unless(gst_element_set_state(pair.a().pipeline, GST_STATE_PLAYING) !=
              GST_STATE_CHANGE_FAILURE);
  // Port 9 (discard) on loopback: nothing listens, nothing answers.
  g_object_set(pair.a().bin, "remote-candidates",
               "candidate:1 1 UDP 2130706431 127.0.0.1 9 typ host", nullptr);
  fail_unless(pair.wait_state(pair.a(), kFailed, 45 * G_USEC_PER_SEC), "not failed:\n%s",
              pair.a().describe().c_str());
  fail_unless_equals_int(pair.a().enum_property("ice-state"), kIceFailed);
  // `state` reads failed as soon as the core is; the element posts its WARNING a moment later.
  fail_unless(
      pair.wait_until(
          [&] {
            return pair.a().has_warning({"transport lost", "ICE failed", "no candidate pair"});
          },
          5 * G_USEC_PER_SEC),
      "%s", pair.a().describe().c_str());
  fail_unless_equals_int(pair.a().count_state_changes(kFailed), 1);
}
GST_END_TEST

// The peer vanishes without a word (to NULL with everything it sends dropped): A's
// consent checks go unanswered; ice-state says disconnected, then failed, the transport fails
// with "consent expired" and a WARNING, and media pushed afterwards is not sent.
GST_START_TEST(test_dead_peer_fails_by_consent) {
  IceStates ice_a;  // outlives the bins, which notify on their way to NULL
  Pair pair;
  ice_a.watch(pair.a().bin);
  connect_pair(pair);
  send_rtp_and_check(pair.a(), pair.b(), 5, 0x0a0000e2);
  // Whatever B would still send on its way down (a close_notify) never leaves; then B goes to
  // NULL: its agent and sockets close, and nothing answers A any more.
  silence(pair.b().bin);
  const gint64 death = g_get_monotonic_time();
  fail_unless(gst_element_set_state(pair.b().pipeline, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS);

  fail_unless(pair.wait_until([&] { return ice_a.saw(kIceDisconnected); }, 20 * G_USEC_PER_SEC),
              "A never disconnected:\n%s", pair.a().describe().c_str());
  fail_unless(pair.wait_state(pair.a(), kFailed, 40 * G_USEC_PER_SEC), "A not failed:\n%s",
              pair.a().describe().c_str());
  g_print("dead peer: A failed %.1f s after B went away\n",
          static_cast<double>(g_get_monotonic_time() - death) / G_USEC_PER_SEC);
  fail_unless_equals_int(pair.a().enum_property("ice-state"), kIceFailed);
  // Disconnected, then failed: a peer that never answered was never taken for back (a consent
  // "regained" before libnice's next loss came would restore connected and restart the grace).
  const std::vector<int> later = ice_a.after(kIceDisconnected);
  fail_unless(later == std::vector<int>{kIceFailed},
              "after disconnected, ice-state went through %zu states, not just failed",
              later.size());
  fail_unless(pair.wait_until(
                  [&] {
                    return pair.a().has_warning({"transport lost", "consent expired"});
                  },
                  5 * G_USEC_PER_SEC),
              "%s", pair.a().describe().c_str());
  // RFC 7675 §5.1: nothing more is sent.
  const uint64_t sent = pair.a().stat("packets-sent");
  const uint64_t no_keys = pair.a().stat("dropped-no-keys");
  for (uint16_t i = 0; i < 10; i++)
    push(pair.a().rtp_in, make_rtp(static_cast<uint16_t>(500 + i), 40, 0x0a0000e2));
  pair.settle(200 * 1000);
  fail_unless_equals_uint64(pair.a().stat("packets-sent"), sent);
  fail_unless_equals_uint64(pair.a().stat("dropped-no-keys"), no_keys + 10);
}
GST_END_TEST

static Suite* element_ice_suite(void) {
  Suite* s = suite_create("element_ice");
  TCase* restart = tcase_create("restart");
  tcase_set_timeout(restart, 60);
  tcase_add_test(restart, test_restart_ice_keeps_dtls_and_srtp);
  tcase_add_test(restart, test_restart_ice_in_null_refuses);
  suite_add_tcase(s, restart);
  // Each waits for libnice's timers (≈ 25 s and ≈ 30 s): one case each, bounded.
  TCase* failure = tcase_create("failure");
  tcase_set_timeout(failure, 60);
  tcase_add_test(failure, test_ice_failure_before_dtls_fails_transport);
  suite_add_tcase(s, failure);
  TCase* consent = tcase_create("consent");
  tcase_set_timeout(consent, 60);
  tcase_add_test(consent, test_dead_peer_fails_by_consent);
  suite_add_tcase(s, consent);
  return s;
}

GST_CHECK_MAIN(element_ice)
