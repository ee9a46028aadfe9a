// Fail-closed behaviour (RFC 8827 §6.5, RFC 5763 §5/§6): a peer whose certificate matches no
// remote fingerprint (a MITM) fails both sides and no media ever leaves rtp_src; a fingerprint
// given after the handshake verifies then; a DTLS role conflict fails. Each failure is checked
// for its specific reason, and each "nothing gets out" for proof that something went in.
// `failed` is a WARNING message naming the reason, never an ERROR. Bad property values and
// candidates are refused with a warning while the element keeps working.
// pair.h (and the C++ library) first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include "pair.h"
//
#include <gst/check/gstcheck.h>

#include <mutex>
#include <string>
#include <tuple>
#include <vector>

using namespace elemtest;

namespace {

// The peer's real fingerprint with one hex digit changed: what a MITM's certificate looks like.
std::string forged_fingerprint(Side& peer) {
  std::string fingerprint = peer.string_property("local-fingerprint");
  fail_unless(fingerprint.size() > 10);
  char& digit = fingerprint[fingerprint.size() - 1];
  digit = digit == '0' ? '1' : '0';
  return fingerprint;
}

// Whether one of `side`'s warnings contains all of `needles` (case-insensitive); with no needles,
// true. A failed transport's warning reads "DTLS transport failed (<reason>): <detail>".
bool warned_with(const Side& side, std::initializer_list<const char*> needles) {
  return needles.size() == 0 || side.has_warning(needles);
}

// Media is offered on both sides during and after the failure; nothing is ever let out, and the
// offered media provably got in: each packet pushed into a side, and each one its peer protected
// and sent, is counted there as dropped-no-keys. `a_reason`/`b_reason`: what each side's failed
// warning must contain. `peer_may_close`: after a completed handshake no alert can go out any
// more, so the side that rejects a late fingerprint ends the session with close_notify and its
// peer (B) reads closed.
void check_failed_closed(Pair& pair, std::initializer_list<const char*> a_reason,
                         std::initializer_list<const char*> b_reason, bool peer_may_close = false) {
  constexpr uint64_t kPushed = 20;
  for (uint16_t i = 0; i < kPushed / 2; i++) {
    push(pair.a().rtp_in, make_rtp(i, 60, 0x0a0000f1));
    push(pair.b().rtp_in, make_rtp(i, 60, 0x0b0000f1));
  }
  fail_unless(pair.wait_until([&] {
    return pair.a().state() == kFailed &&
           (pair.b().state() == kFailed || (peer_may_close && pair.b().state() == kClosed));
  }),
              "not failed on both:\n%s\n%s", pair.a().describe().c_str(),
              pair.b().describe().c_str());
  for (uint16_t i = kPushed / 2; i < kPushed; i++) {
    push(pair.a().rtp_in, make_rtp(i, 60, 0x0a0000f1));
    push(pair.b().rtp_in, make_rtp(i, 60, 0x0b0000f1));
  }
  gboolean sent = TRUE;
  GstBuffer* pli = make_pli(1, 2);
  g_signal_emit_by_name(pair.a().bin, "send-rtcp", pli, &sent);
  gst_buffer_unref(pli);
  fail_if(sent, "send-rtcp accepted a packet after failed");
  // What each side must have refused: its own pushes (A also the send-rtcp packet) that it did
  // not protect, plus what its peer protected and sent to it.
  auto refused = [&](Side& side, Side& peer) {
    return kPushed + (&side == &pair.a() ? 1 : 0) - side.stat("packets-sent") +
           peer.stat("packets-sent");
  };
  pair.wait_until([&] {
    return pair.a().stat("dropped-no-keys") == refused(pair.a(), pair.b()) &&
           pair.b().stat("dropped-no-keys") == refused(pair.b(), pair.a());
  });
  pair.settle(500 * 1000);
  for (auto [side, peer, reason] :
       {std::tuple{&pair.a(), &pair.b(), a_reason}, std::tuple{&pair.b(), &pair.a(), b_reason}}) {
    bool closed = side->state() == kClosed;
    fail_unless(closed || warned_with(*side, reason), "%s: no failed warning with the reason",
                side->describe().c_str());
    fail_unless(side->errors.empty(), "%s: an ERROR was posted", side->describe().c_str());
    fail_unless_equals_uint64(side->stat("dropped-no-keys"), refused(*side, *peer));
    fail_unless_equals_uint64(side->rtp_out_count->buffers.load(), 0);
    fail_unless(pull(side->rtcp_out, 0) == nullptr, "%s: RTCP left rtcp_src", side->label.c_str());
    // A peer that verified us correctly is legitimately connected until our close_notify
    // arrives, so it may protect and send a packet or two; the rejecting side never does.
    if (!(closed && peer_may_close)) fail_unless_equals_uint64(side->stat("packets-sent"), 0);
    fail_unless_equals_uint64(side->stat("packets-received"), 0);
    std::string remote = side->string_property("remote-certificate");
    fail_unless(closed || remote.empty(), "%s: remote-certificate set although unverified",
                side->label.c_str());
    // A failed transport does not tear the pipeline down.
    GstState state = GST_STATE_NULL;
    gst_element_get_state(side->pipeline, &state, nullptr, 0);
    fail_unless_equals_int(state, GST_STATE_PLAYING);
    if (!closed) {
      fail_unless_equals_int(side->count_state_changes(kConnected), 0);
      fail_unless_equals_int(side->count_state_changes(kFailed), 1);
    }
  }
}

void run_mitm(bool forged_on_a, bool a_controlling) {
  PairOptions options;
  options.a_controlling = a_controlling;
  options.b_controlling = !a_controlling;
  options.exchange_fingerprints = false;
  Pair pair(options);
  // READY for the certificates, then the signalling, with one fingerprint swapped.
  for (Side* side : {&pair.a(), &pair.b()})
    fail_unless(gst_element_set_state(side->pipeline, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
  Side& victim = forged_on_a ? pair.a() : pair.b();
  Side& peer = forged_on_a ? pair.b() : pair.a();
  g_object_set(victim.bin, "remote-fingerprints", forged_fingerprint(peer).c_str(), nullptr);
  pair.exchange_fingerprints(victim, peer);
  pair.start();
  // The verifying side names the mismatch; its peer receives the fatal bad_certificate alert
  // (RFC 5246 §7.2.2) sent from inside the handshake.
  std::initializer_list<const char*> mismatch = {"DTLS transport failed (fingerprint mismatch)"};
  std::initializer_list<const char*> alerted = {"DTLS transport failed (fatal alert received)",
                                                "bad certificate"};
  check_failed_closed(pair, forged_on_a ? mismatch : alerted, forged_on_a ? alerted : mismatch);
}

}  // namespace

GST_START_TEST(test_mitm_forged_on_a_server) { run_mitm(true, true); }
GST_END_TEST

GST_START_TEST(test_mitm_forged_on_b_client) { run_mitm(false, true); }
GST_END_TEST

GST_START_TEST(test_mitm_forged_on_a_client) { run_mitm(true, false); }
GST_END_TEST

GST_START_TEST(test_mitm_forged_on_b_server) { run_mitm(false, false); }
GST_END_TEST

// A fingerprint among several (different algorithms, mixed case) suffices.
GST_START_TEST(test_fingerprint_list_any_match) {
  PairOptions options;
  options.exchange_fingerprints = false;
  Pair pair(options);
  for (Side* side : {&pair.a(), &pair.b()})
    fail_unless(gst_element_set_state(side->pipeline, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
  std::string real = pair.b().string_property("local-fingerprint");
  gchar* lower = g_ascii_strdown(real.c_str(), -1);
  std::string list = "sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33, " +
                     forged_fingerprint(pair.b()) + ", " + std::string(lower);
  g_free(lower);
  g_object_set(pair.a().bin, "remote-fingerprints", list.c_str(), nullptr);
  pair.exchange_fingerprints(pair.a(), pair.b());
  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());
  send_rtp_and_check(pair.a(), pair.b(), 3, 0x0a0000f2);
  send_rtp_and_check(pair.b(), pair.a(), 3, 0x0b0000f2);
}
GST_END_TEST

namespace {

// The late-fingerprint setup: A (DTLS server) does not know B's fingerprint, B (client) knows
// A's. Returns once the handshake is over: B connected means it received A's final flight, which
// A sends only after its own handshake completed (RFC 6347 §4.2.4); A then holds the keys back,
// still connecting (docs/security.md, RFC 8842).
void start_without_fingerprint_on_a(Pair& pair) {
  gst_util_set_object_arg(G_OBJECT(pair.a().bin), "role", "server");
  gst_util_set_object_arg(G_OBJECT(pair.b().bin), "role", "client");
  for (Side* side : {&pair.a(), &pair.b()})
    fail_unless(gst_element_set_state(side->pipeline, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
  pair.exchange_fingerprints(pair.a(), pair.b());  // B knows A; A knows nothing yet
  pair.start();
  fail_unless(pair.wait_state(pair.b(), kConnected), "B did not finish the handshake:\n%s\n%s",
              pair.a().describe().c_str(), pair.b().describe().c_str());
  fail_unless_equals_int(pair.a().state(), kConnecting);
  fail_unless_equals_int(pair.a().count_state_changes(kConnected), 0);
  fail_unless(pair.a().string_property("remote-certificate").empty());
}

}  // namespace

// Late fingerprint: A learns B's fingerprint only after the handshake finished. Until then A is
// not connected and lets nothing out of what B sends it; then it verifies and media flows.
GST_START_TEST(test_late_fingerprint) {
  PairOptions options;
  options.exchange_fingerprints = false;
  Pair pair(options);
  start_without_fingerprint_on_a(pair);
  // B is connected and protects and sends; A receives it all and lets none of it out.
  const uint64_t b_sent = pair.b().stat("packets-sent");
  const uint64_t a_no_keys = pair.a().stat("dropped-no-keys");
  for (uint16_t i = 0; i < 5; i++) push(pair.b().rtp_in, make_rtp(i, 30, 0x0b0000f3));
  fail_unless(pair.wait_until([&] {
    return pair.b().stat("packets-sent") == b_sent + 5 &&
           pair.a().stat("dropped-no-keys") == a_no_keys + 5;
  }),
              "B sent %" G_GUINT64_FORMAT " of 5, A refused %" G_GUINT64_FORMAT " of them",
              pair.b().stat("packets-sent") - b_sent, pair.a().stat("dropped-no-keys") - a_no_keys);
  pair.settle(200 * 1000);
  fail_unless_equals_uint64(pair.a().stat("dropped-no-keys"), a_no_keys + 5);
  fail_unless_equals_uint64(pair.a().stat("packets-received"), 0);
  fail_unless_equals_uint64(pair.a().rtp_out_count->buffers.load(), 0);
  fail_unless(pair.a().string_property("remote-certificate").empty());
  fail_unless_equals_int(pair.a().state(), kConnecting);

  pair.exchange_fingerprints(pair.b(), pair.a());
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected after the late fingerprint:\n%s",
              why.c_str());
  std::string remote = pair.a().string_property("remote-certificate");
  std::string local_b = pair.b().string_property("local-certificate");
  fail_unless_equals_string(remote.c_str(), local_b.c_str());
  send_rtp_and_check(pair.a(), pair.b(), 10, 0x0a0000f3, 1000);
  send_rtp_and_check(pair.b(), pair.a(), 10, 0x0b0000f3, 1000);
  fail_unless(pair.a().errors.empty() && pair.b().errors.empty());
}
GST_END_TEST

// A late fingerprint (given after the handshake finished) that does not match: A fails, closed,
// and B is told with close_notify (docs/element.md, fail-closed rules).
GST_START_TEST(test_late_wrong_fingerprint) {
  PairOptions options;
  options.exchange_fingerprints = false;
  Pair pair(options);
  start_without_fingerprint_on_a(pair);
  g_object_set(pair.a().bin, "remote-fingerprints", forged_fingerprint(pair.b()).c_str(), nullptr);
  check_failed_closed(pair, {"DTLS transport failed (fingerprint mismatch)"}, {}, true);
  fail_unless(pair.wait_state(pair.b(), kClosed), "B did not read close_notify:\n%s",
              pair.b().describe().c_str());
}
GST_END_TEST

// Both say client (a=setup:active on both sides): a role conflict, failed on both.
GST_START_TEST(test_role_conflict_signalled) {
  Pair pair;
  for (Side* side : {&pair.a(), &pair.b()}) {
    gst_util_set_object_arg(G_OBJECT(side->bin), "role", "client");
    gst_util_set_object_arg(G_OBJECT(side->bin), "remote-role", "client");
  }
  pair.start();
  check_failed_closed(pair, {"DTLS transport failed (role conflict)"},
                      {"DTLS transport failed (role conflict)"});
}
GST_END_TEST

// Both client with no hint about the peer: two ClientHellos meet. A ClientHello is an unexpected
// message to a client, which answers with a fatal unexpected_message alert (RFC 5246 §7.2.2,
// §7.4): each side fails for that alert, sent or received, well before the handshake timeout.
GST_START_TEST(test_role_conflict_unsignalled) {
  Pair pair;
  for (Side* side : {&pair.a(), &pair.b()}) {
    gst_util_set_object_arg(G_OBJECT(side->bin), "role", "client");
    g_object_set(side->bin, "handshake-timeout", 3000u, nullptr);
  }
  pair.start();
  check_failed_closed(pair, {"DTLS transport failed ("}, {"DTLS transport failed ("});
  for (Side* side : {&pair.a(), &pair.b()}) {
    // The side that received the alert reports it; the side that sent it, OpenSSL's error.
    bool received = side->has_warning({"(fatal alert received)", "unexpected_message"});
    bool sent = side->has_warning({"(protocol error)", "unexpected message"});
    fail_unless(received || sent, "%s: failed for another reason than the unexpected ClientHello",
                side->describe().c_str());
    fail_if(side->has_warning({"(handshake timeout)"}), "%s", side->describe().c_str());
  }
}
GST_END_TEST

// Bad values are refused with a warning saying what; the element keeps its old value and works.
GST_START_TEST(test_bad_values_rejected) {
  Pair pair;
  Side& a = pair.a();
  auto warned = [&](size_t before, const char* what) {
    pair.pump();
    fail_unless(a.warnings.size() > before, "no warning for %s", what);
  };

  size_t before = a.warnings.size();
  g_object_set(a.bin, "certificate",
               "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"
               "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n",
               nullptr);
  warned(before, "a bad PEM certificate");
  before = a.warnings.size();
  g_object_set(a.bin, "certificate", "just text", nullptr);
  warned(before, "a certificate that is not PEM");
  before = a.warnings.size();
  g_object_set(a.bin, "srtp-profiles", "SRTP_NOT_A_PROFILE", nullptr);
  warned(before, "an unknown SRTP profile");
  std::string profiles = a.string_property("srtp-profiles");
  fail_unless(profiles.find("SRTP_AEAD_AES_128_GCM") != std::string::npos, "srtp-profiles '%s'",
              profiles.c_str());

  // A rejected certificate stops NULL→READY (tests/gst/test_element_config.cpp) until it is
  // withdrawn: then READY generates one.
  g_object_set(a.bin, "certificate", "", nullptr);
  pair.start();  // fingerprints exchanged
  std::string fingerprint = a.string_property("remote-fingerprints");
  fail_unless(!fingerprint.empty());
  for (const char* bad : {"sha-256 not-hex", "sha-256 AB:CD",
                          "md5 AB:CD:EF:01:23:45:67:89:AB:CD:"
                          "EF:01:23:45:67:89",
                          "AB:CD:EF", "sha-256"}) {
    before = a.warnings.size();
    g_object_set(a.bin, "remote-fingerprints", bad, nullptr);
    warned(before, bad);
    std::string now = a.string_property("remote-fingerprints");
    fail_unless_equals_string(now.c_str(), fingerprint.c_str());
  }

  const char* const bad_candidates[] = {
      "garbage",
      "candidate:",
      "candidate:1 1 udp 2122260223 127.0.0.1",
      "candidate:1 1 udp 2122260223 abcd-1234-5678.local 50000 typ host",
      "a=candidate:1 1 udp 2122260223 0d3c2d6e-0b5f-4b52-9c1b-1a2b3c4d5e6f.local 9 typ host",
      "candidate:1 1 tcp 2122260223 127.0.0.1 9 typ host tcptype active",
      "candidate:1 2 udp 2122260223 127.0.0.1 50000 typ host",
      "candidate:1 1 udp 2122260223 999.1.2.3 50000 typ host",
      "candidate:1 1 udp 2122260223 127.0.0.1 notaport typ host",
      "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ bogus",
  };
  std::string accepted_bad;
  for (const char* bad : bad_candidates) {
    before = a.warnings.size();
    gboolean accepted = TRUE;
    g_signal_emit_by_name(a.bin, "add-remote-candidate", bad, &accepted);
    pair.pump();
    if (accepted) accepted_bad += std::string("\n  accepted: ") + bad;
    if (a.warnings.size() == before) accepted_bad += std::string("\n  no warning: ") + bad;
  }
  fail_unless(accepted_bad.empty(), "bad candidates:%s", accepted_bad.c_str());
  // The good forms with extra fields are accepted.
  for (const char* good :
       {"a=candidate:7 1 UDP 2122260223 127.0.0.1 9 typ host generation 0 network-id 1",
        "candidate:8 1 udp 1686052607 127.0.0.1 10 typ srflx raddr 127.0.0.1 rport 9 generation 0 "
        "ufrag abcd network-cost 10"}) {
    gboolean accepted = FALSE;
    g_signal_emit_by_name(a.bin, "add-remote-candidate", good, &accepted);
    fail_unless(accepted, "add-remote-candidate refused '%s'", good);
  }

  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected after bad values:\n%s", why.c_str());
  send_rtp_and_check(pair.a(), pair.b(), 5, 0x0a0000f4);
  send_rtp_and_check(pair.b(), pair.a(), 5, 0x0b0000f4);
  fail_unless(a.errors.empty(), "%s", a.describe().c_str());
}
GST_END_TEST

namespace {

// INFO lines of the plugin's debug categories (dtlstransport*), from any thread.
class InfoLog {
 public:
  InfoLog() {
    gst_debug_set_threshold_for_name("dtlstransport*", GST_LEVEL_INFO);
    // The function, not gstinfo.h's macro of the same name (a comparison -Wpedantic refuses).
    (gst_debug_add_log_function)(&InfoLog::log, this, nullptr);
  }
  ~InfoLog() { gst_debug_remove_log_function_by_data(this); }
  bool has(const std::string& part) {
    std::lock_guard lock(mutex_);
    for (const auto& line : lines_)
      if (line.find(part) != std::string::npos) return true;
    return false;
  }

 private:
  static void log(GstDebugCategory* category, GstDebugLevel level, const gchar*, const gchar*, gint,
                  GObject*, GstDebugMessage* message, gpointer data) {
    if (level != GST_LEVEL_INFO ||
        !g_str_has_prefix(gst_debug_category_get_name(category), "dtlstransport"))
      return;
    auto* self = static_cast<InfoLog*>(data);
    std::lock_guard lock(self->mutex_);
    self->lines_.push_back(std::string(gst_debug_category_get_name(category)) + ": " +
                           gst_debug_message_get(message));
  }
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace

// What an operator reads in GST_DEBUG=dtlstransport*:4 (docs/element.md "Debug logs"): each
// local candidate, the selected pair, what the handshake negotiated.
GST_START_TEST(test_info_logs_of_a_connection) {
  InfoLog log;
  Pair pair;
  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());
  fail_unless(log.has("dtlstransportbin: local candidate: candidate:"), "no local candidate log");
  fail_unless(log.has("dtlstransportice: selected pair: local candidate:"), "no selected pair log");
  GstStructure* stats = nullptr;
  g_object_get(pair.a().bin, "stats", &stats, nullptr);
  fail_unless(stats && gst_structure_get_string(stats, "dtls-cipher"));
  const std::string cipher = gst_structure_get_string(stats, "dtls-cipher");
  gst_structure_free(stats);
  fail_unless(!cipher.empty());
  // `state` reads connected as soon as the core is; the log comes from the element's handler of
  // that event, on the streaming thread, a moment later.
  const std::string negotiated =
      "dtlstransportbin: DTLS connected: role client, DTLSv1.2, cipher " + cipher +
      ", SRTP profile SRTP_AEAD_AES_128_GCM";
  fail_unless(pair.wait_until([&] { return log.has(negotiated); }, 5 * G_USEC_PER_SEC),
              "no log of the negotiated parameters (cipher %s)", cipher.c_str());
}
GST_END_TEST

// On a mismatch, the log names the certificate the peer actually presented (its sha-256
// fingerprint, the value that should have been in remote-fingerprints).
GST_START_TEST(test_mismatch_logs_the_presented_fingerprint) {
  InfoLog log;
  PairOptions options;
  options.exchange_fingerprints = false;
  Pair pair(options);
  for (Side* side : {&pair.a(), &pair.b()})
    fail_unless(gst_element_set_state(side->pipeline, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
  g_object_set(pair.a().bin, "remote-fingerprints", forged_fingerprint(pair.b()).c_str(), nullptr);
  pair.exchange_fingerprints(pair.a(), pair.b());
  pair.start();
  fail_unless(pair.wait_state(pair.a(), kFailed), "A did not fail: %s",
              pair.a().describe().c_str());
  const std::string presented = pair.b().string_property("local-fingerprint");
  fail_unless(
      log.has("dtlstransportendpoint: fingerprint mismatch: the peer presented " + presented),
      "no log of the presented fingerprint %s", presented.c_str());
}
GST_END_TEST

static Suite* element_security_suite(void) {
  Suite* s = suite_create("element_security");
  TCase* tc = tcase_create("security");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_mitm_forged_on_a_server);
  tcase_add_test(tc, test_mitm_forged_on_b_client);
  tcase_add_test(tc, test_mitm_forged_on_a_client);
  tcase_add_test(tc, test_mitm_forged_on_b_server);
  tcase_add_test(tc, test_fingerprint_list_any_match);
  tcase_add_test(tc, test_late_fingerprint);
  tcase_add_test(tc, test_late_wrong_fingerprint);
  tcase_add_test(tc, test_role_conflict_signalled);
  tcase_add_test(tc, test_role_conflict_unsignalled);
  tcase_add_test(tc, test_bad_values_rejected);
  tcase_add_test(tc, test_info_logs_of_a_connection);
  tcase_add_test(tc, test_mismatch_logs_the_presented_fingerprint);
  suite_add_tcase(s, tc);
  return s;
}

GST_CHECK_MAIN(element_security)
