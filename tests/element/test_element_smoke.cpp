// Smoke test of dtlstransportbin (merged from tests/gst/test_element_smoke.c): the plugin loads
// beside gst-plugins-bad's DTLS/SRTP/WebRTC elements without a GType clash, the contract's pads,
// properties and signals exist; two bins connect over 127.0.0.1 (ICE → DTLS → SRTP) and carry
// RTP and RTCP both ways; a lost first ClientHello is recovered by retransmission; a wrong
// fingerprint keeps the peer's media out of rtp_src.
//
// Dropped from the C version, because another element test proves the same more strictly:
// test_bad_values_warn (test_element_security's test_bad_values_rejected: the same bad
// fingerprint, mDNS candidate and a=candidate line with extra fields, and more) and test_restart
// (test_element_lifecycle's test_restart: also after stop, with fresh SRTP contexts and counters).
// pair.h (and the C++ library) first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include "pair.h"
//
#include <gst/check/gstcheck.h>

#include <cstring>

using namespace elemtest;

namespace {

const char* const kProperties[] = {
    "role",
    "remote-role",
    "dtls-role",
    "ice-controlling",
    "certificate",
    "certificate-file",
    "key-type",
    "certificate-lifetime",
    "local-certificate",
    "local-fingerprint",
    "remote-fingerprints",
    "remote-certificate",
    "state",
    "ice-state",
    "ice-gathering-state",
    "local-ice-ufrag",
    "local-ice-pwd",
    "remote-ice-ufrag",
    "remote-ice-pwd",
    "local-candidates",
    "remote-candidates",
    "local-addresses",
    "min-port",
    "max-port",
    "stun-server",
    "turn-server",
    "srtp-profiles",
    "srtp-profile",
    "pt-map",
    "mtu",
    "handshake-timeout",
    "ice-agent",
    "stats",
};

const char* const kSignals[] = {
    "state-changed",  "on-local-candidate",   "on-gathering-done",
    "request-pt-map", "add-remote-candidate", "send-rtcp",
    "stop",
};

const char* const kPads[] = {"rtp_sink", "rtcp_sink", "rtp_src", "rtcp_src"};

void connect_pair(Pair& pair) {
  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());
}

}  // namespace

GST_START_TEST(test_interface) {
  GstElement* bin = gst_element_factory_make("dtlstransportbin", nullptr);
  fail_unless(bin != nullptr, "dtlstransportbin not found: plugin not loaded");
  gst_object_ref_sink(bin);
  for (const char* name : kPads) {
    GstPad* pad = gst_element_get_static_pad(bin, name);
    fail_unless(pad != nullptr, "missing pad %s", name);
    gst_object_unref(pad);
  }
  for (const char* name : kProperties)
    fail_unless(g_object_class_find_property(G_OBJECT_GET_CLASS(bin), name) != nullptr,
                "missing property %s", name);
  for (const char* name : kSignals)
    fail_unless(g_signal_lookup(name, G_OBJECT_TYPE(bin)) != 0, "missing signal %s", name);

  // Lower-case nicks work as in gst-launch.
  gst_util_set_object_arg(G_OBJECT(bin), "role", "client");
  fail_unless_equals_int(binpair::enum_property(bin, "role"), kClient);

  // The certificate exists from READY on: "sha-256 " and 32 bytes as upper-case hex pairs.
  g_object_set(bin, "local-addresses", "127.0.0.1", nullptr);
  fail_unless_equals_int(gst_element_set_state(bin, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  std::string fingerprint = binpair::string_property(bin, "local-fingerprint");
  fail_unless(g_str_has_prefix(fingerprint.c_str(), "sha-256 "), "local-fingerprint '%s'",
              fingerprint.c_str());
  fail_unless_equals_int(fingerprint.size(), 8 + 32 * 3 - 1);
  fail_unless_equals_int(gst_element_set_state(bin, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_object_unref(bin);
}
GST_END_TEST

// Our GTypes (element, endpoint, enums) do not collide with those of gst-plugins-bad's dtls,
// srtp and webrtc plugins or libnice's: theirs are registered first (an instance of each runs
// its class_init, which registers its enums), then ours. A name registered twice makes GLib
// refuse the second registration with a critical, which gst-check makes fatal. The other
// plugins are required: without them this test would prove nothing.
GST_START_TEST(test_gtypes_coexist) {
  for (const char* other :
       {"webrtcbin", "dtlsenc", "dtlsdec", "dtlssrtpenc", "srtpenc", "srtpdec", "nicesrc"}) {
    GstElement* element = gst_element_factory_make(other, nullptr);
    fail_unless(element != nullptr,
                "%s is missing (gst-plugins-bad / gstreamer1.0-nice): the collision check needs it",
                other);
    gst_object_unref(gst_object_ref_sink(element));
  }
  fail_unless(g_type_from_name("GstDtlsConnectionState") != 0, "dtlsenc registered no enum");
  GstElement* ours = gst_element_factory_make("dtlstransportbin", nullptr);
  fail_unless(ours != nullptr);
  gst_object_ref_sink(ours);
  // Every type our element registers is ours, under its own name.
  GType bin_type = G_OBJECT_TYPE(ours);
  fail_unless_equals_string(g_type_name(bin_type), "GstDtlsTransportBin");
  for (const char* property : {"role", "state", "ice-state", "ice-gathering-state", "key-type"}) {
    GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(ours), property);
    fail_unless(spec != nullptr && G_IS_PARAM_SPEC_ENUM(spec), "%s is not an enum", property);
    const char* name = g_type_name(spec->value_type);
    fail_unless(g_str_has_prefix(name, "GstDtlsTransportBin"), "%s has the enum type %s", property,
                name);
  }
  GstElement* endpoint = gst_bin_get_by_name(GST_BIN(ours), "endpoint");
  if (endpoint) {  // an internal child: checked while it exists under this name
    fail_unless(g_str_has_prefix(G_OBJECT_TYPE_NAME(endpoint), "GstDtlsTransport"), "%s",
                G_OBJECT_TYPE_NAME(endpoint));
    gst_object_unref(endpoint);
  }
  gst_object_unref(ours);
}
GST_END_TEST

// Two bins over loopback, end to end: media before keys is dropped and counted, never a flow
// error; auto/auto roles (the ICE-controlling side is the DTLS server, RFC 5763 §5); the default
// profile AES-GCM (RFC 7714); RTP both ways byte for byte and counted; RTCP via rtcp_sink and via
// send-rtcp; stop closes both sides (close_notify, RFC 5246 §7.2.1).
GST_START_TEST(test_two_bins_loopback) {
  Pair pair;
  Side& a = pair.a();
  Side& b = pair.b();
  std::string why;
  // Every step but the candidates: ICE cannot connect yet, so there are certainly no keys.
  pair.exchange_ice_credentials();
  fail_unless(pair.set_state(GST_STATE_READY, &why), "%s", why.c_str());
  fail_unless(pair.exchange_fingerprints(&why), "%s", why.c_str());
  fail_unless(pair.set_state(GST_STATE_PLAYING, &why), "%s", why.c_str());
  push(a.rtp_in, make_rtp(1, 10, 0x12345678));
  fail_unless(pair.wait_until([&] { return a.stat("dropped-no-keys") >= 1; }),
              "media before keys not counted as dropped-no-keys:\n%s", a.describe().c_str());
  fail_unless(pair.exchange_candidates(&why), "%s", why.c_str());
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());

  fail_unless_equals_int(a.enum_property("dtls-role"), kServer);
  fail_unless_equals_int(b.enum_property("dtls-role"), kClient);
  std::string profile = a.string_property("srtp-profile");
  fail_unless_equals_string(profile.c_str(), "SRTP_AEAD_AES_128_GCM");
  std::string profile_b = b.string_property("srtp-profile");
  fail_unless_equals_string(profile_b.c_str(), profile.c_str());

  send_rtp_and_check(a, b, 20, 0x12345678, 1000);
  send_rtp_and_check(b, a, 20, 0x9abcdef0, 1000);
  fail_unless_equals_uint64(a.stat("packets-sent"), 20);
  fail_unless_equals_uint64(b.stat("packets-received"), 20);

  send_rtcp_and_check(a, b, make_pli(0x12345678, 0x9abcdef0), false);
  send_rtcp_and_check(b, a, make_pli(0x9abcdef0, 0x12345678), true);
  fail_unless_equals_uint64(a.stat("rtcp-packets-received"), 1);

  g_signal_emit_by_name(a.bin, "stop");
  fail_unless(pair.wait_both(kClosed), "not closed on both after stop:\n%s\n%s",
              a.describe().c_str(), b.describe().c_str());
  fail_unless(a.errors.empty() && b.errors.empty(), "%s\n%s", a.describe().c_str(),
              b.describe().c_str());
}
GST_END_TEST

// B's certificate check fails closed and gates what A sends. B learns no fingerprint before the
// handshake, so the handshake completes: A verified B and is connected (it protects and sends
// RTP), B holds its keys back (connecting). Then B is given a fingerprint A's certificate does
// not match: B fails. At no point does anything A sent leave B's rtp_src, although it reached B:
// A counted it sent, B counted it dropped for want of keys.
GST_START_TEST(test_wrong_fingerprint_fails_closed) {
  PairOptions options;
  options.exchange_fingerprints = false;
  Pair pair(options);
  Side& a = pair.a();
  Side& b = pair.b();
  for (Side* side : {&a, &b})
    fail_unless(gst_element_set_state(side->pipeline, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
  pair.exchange_fingerprints(b, a);  // A knows B; B knows nothing yet
  pair.start();
  fail_unless(pair.wait_state(a, kConnected), "A not connected:\n%s\n%s", a.describe().c_str(),
              b.describe().c_str());
  fail_unless_equals_int(b.state(), kConnecting);

  constexpr unsigned kPackets = 10;
  for (uint16_t i = 0; i < kPackets; i++) push(a.rtp_in, make_rtp(i, 80, 0x0a0000e1));
  fail_unless(pair.wait_until([&] { return a.stat("packets-sent") >= kPackets; }),
              "A did not send its RTP:\n%s", a.describe().c_str());
  // Arrived at B: held back (dropped-no-keys) or, wrongly, unprotected and delivered.
  fail_unless(pair.wait_until([&] {
    return b.stat("dropped-no-keys") + b.stat("packets-received") >= kPackets;
  }),
              "A's RTP did not reach B (dropped-no-keys %" G_GUINT64_FORMAT ")",
              b.stat("dropped-no-keys"));
  pair.settle(100 * 1000);  // a delivered packet is counted just before it leaves rtp_src
  fail_unless_equals_uint64(b.rtp_out_count->buffers.load(), 0);
  fail_unless_equals_uint64(b.stat("packets-received"), 0);
  fail_unless(b.stat("dropped-no-keys") >= kPackets);

  // The peer's real fingerprint with one hex digit changed: what a MITM's certificate looks like.
  std::string forged = a.string_property("local-fingerprint");
  forged.back() = forged.back() == '0' ? '1' : '0';
  g_object_set(b.bin, "remote-fingerprints", forged.c_str(), nullptr);
  fail_unless(pair.wait_state(b, kFailed), "B not failed:\n%s", b.describe().c_str());
  pair.settle(300 * 1000);  // whatever A still had in flight arrives
  fail_unless(b.has_warning({"fingerprint"}), "B's warning does not name the fingerprint:\n%s",
              b.describe().c_str());
  fail_unless_equals_uint64(b.rtp_out_count->buffers.load(), 0);
  fail_unless_equals_uint64(b.stat("packets-received"), 0);
  fail_unless(b.string_property("remote-certificate").empty(),
              "B: remote-certificate set although unverified");
  fail_unless_equals_int(b.count_state_changes(kConnected), 0);
  fail_unless(b.errors.empty(), "%s", b.describe().c_str());
}
GST_END_TEST

// The DTLS client's first ClientHello is lost (dropped by the fixture before nicesink): the
// handshake still connects, because the client retransmits it (RFC 6347 §4.2.4), and media flows.
GST_START_TEST(test_lost_client_hello) {
  PairOptions options;
  options.drop_first_client_hello = true;  // A controlling, auto/auto: B is the DTLS client
  Pair pair(options);
  connect_pair(pair);
  Side& client = pair.b();
  fail_unless_equals_uint64(client.client_hellos.dropped(), 1);
  fail_unless(client.client_hellos.resent() >= 1,
              "no retransmission of the dropped ClientHello went out (%" G_GUINT64_FORMAT
              " ClientHellos passed)",
              client.client_hellos.passed());
  fail_unless_equals_uint64(pair.a().client_hellos.dropped(), 0);  // the server sends none
  send_rtp_and_check(client, pair.a(), 3, 0x0b0000e2);
  send_rtp_and_check(pair.a(), client, 3, 0x0a0000e2);
}
GST_END_TEST

static Suite* element_smoke_suite(void) {
  Suite* s = suite_create("element_smoke");
  TCase* tc = tcase_create("smoke");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_interface);
  tcase_add_test(tc, test_gtypes_coexist);
  tcase_add_test(tc, test_two_bins_loopback);
  tcase_add_test(tc, test_wrong_fingerprint_fails_closed);
  tcase_add_test(tc, test_lost_client_hello);
  suite_add_tcase(s, tc);
  return s;
}

GST_CHECK_MAIN(element_smoke)
