/* Smoke test of dtlstransportbin: the plugin loads, the contract's pads and properties exist,
 * and two bins connect over 127.0.0.1 in one process (ICE → DTLS → SRTP) and carry RTP and RTCP
 * both ways with payload integrity. Every wait is bounded. */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <string.h>

#define WAIT_LIMIT_US (15 * G_USEC_PER_SEC)

static const char* const kProperties[] = {
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

static const char* const kSignals[] = {
    "state-changed",  "on-local-candidate",   "on-gathering-done",
    "request-pt-map", "add-remote-candidate", "send-rtcp",
    "stop",
};

static const char* const kPads[] = {"rtp_sink", "rtcp_sink", "rtp_src", "rtcp_src"};

GST_START_TEST(test_interface) {
  GstElement* bin = gst_element_factory_make("dtlstransportbin", NULL);
  gchar* fingerprint = NULL;
  guint i;

  fail_unless(bin != NULL, "dtlstransportbin not found: plugin not loaded");
  /* Our GTypes do not collide with gst-plugins-bad's or libnice's: load them side by side. */
  {
    const char* const others[] = {"webrtcbin", "dtlsenc", "dtlsdec",
                                  "srtpenc",   "srtpdec", "nicesrc"};
    for (i = 0; i < G_N_ELEMENTS(others); i++) {
      GstElement* other = gst_element_factory_make(others[i], NULL);
      if (other) gst_object_unref(other);
    }
  }
  for (i = 0; i < G_N_ELEMENTS(kPads); i++) {
    GstPad* pad = gst_element_get_static_pad(bin, kPads[i]);
    fail_unless(pad != NULL, "missing pad %s", kPads[i]);
    gst_object_unref(pad);
  }
  for (i = 0; i < G_N_ELEMENTS(kProperties); i++)
    fail_unless(g_object_class_find_property(G_OBJECT_GET_CLASS(bin), kProperties[i]) != NULL,
                "missing property %s", kProperties[i]);
  for (i = 0; i < G_N_ELEMENTS(kSignals); i++)
    fail_unless(g_signal_lookup(kSignals[i], G_OBJECT_TYPE(bin)) != 0, "missing signal %s",
                kSignals[i]);

  /* Lower-case nicks work as in gst-launch. */
  gst_util_set_object_arg(G_OBJECT(bin), "role", "client");
  {
    gint role;
    g_object_get(bin, "role", &role, NULL);
    fail_unless_equals_int(role, 1);
  }

  /* The certificate exists from READY on. */
  g_object_set(bin, "local-addresses", "127.0.0.1", NULL);
  fail_unless_equals_int(gst_element_set_state(bin, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  g_object_get(bin, "local-fingerprint", &fingerprint, NULL);
  fail_unless(fingerprint != NULL && g_str_has_prefix(fingerprint, "sha-256 "),
              "local-fingerprint '%s'", GST_STR_NULL(fingerprint));
  fail_unless_equals_int((int)strlen(fingerprint), 8 + 32 * 3 - 1);
  g_free(fingerprint);
  fail_unless_equals_int(gst_element_set_state(bin, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_object_unref(bin);
}
GST_END_TEST

/* A bad value is rejected with a warning message on the bus, and the old value stays. */
GST_START_TEST(test_bad_values_warn) {
  GstElement* pipeline = gst_pipeline_new(NULL);
  GstElement* bin = gst_element_factory_make("dtlstransportbin", NULL);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* message;
  gchar* value = NULL;
  gboolean accepted = TRUE;

  gst_bin_add(GST_BIN(pipeline), bin);
  g_object_set(bin, "remote-fingerprints", "sha-256 not-hex", NULL);
  message = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING);
  fail_unless(message != NULL, "no warning for a bad fingerprint");
  gst_message_unref(message);
  g_object_get(bin, "remote-fingerprints", &value, NULL);
  fail_unless(value == NULL);

  g_signal_emit_by_name(bin, "add-remote-candidate",
                        "candidate:1 1 udp 2122260223 abcd-1234.local 50000 typ host", &accepted);
  fail_if(accepted, "an mDNS candidate was accepted");
  message = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING);
  fail_unless(message != NULL, "no warning for an mDNS candidate");
  gst_message_unref(message);

  g_signal_emit_by_name(
      bin, "add-remote-candidate",
      "a=candidate:1 1 UDP 2122260223 127.0.0.1 50000 typ host generation 0 network-id 1",
      &accepted);
  fail_unless(accepted, "a valid a=candidate: line with extra fields was refused");

  gst_object_unref(bus);
  gst_object_unref(pipeline);
}
GST_END_TEST

/* ---- Two bins over loopback ---- */

typedef struct {
  GstElement* bin;
  GstHarness* rtp;  /* pushes into rtp_sink, pulls from rtp_src */
  GstHarness* rtcp; /* pushes into rtcp_sink, pulls from rtcp_src */
} Side;

static gint get_enum(GstElement* bin, const gchar* property) {
  gint value;
  g_object_get(bin, property, &value, NULL);
  return value;
}

static gboolean wait_for_enum(GstElement* bin, const gchar* property, gint wanted) {
  gint64 deadline = g_get_monotonic_time() + WAIT_LIMIT_US;
  while (get_enum(bin, property) != wanted) {
    if (g_get_monotonic_time() > deadline) return FALSE;
    g_usleep(5000);
  }
  return TRUE;
}

static gchar** wait_for_candidates(GstElement* bin) {
  gint64 deadline = g_get_monotonic_time() + WAIT_LIMIT_US;
  for (;;) {
    gchar** candidates = NULL;
    g_object_get(bin, "local-candidates", &candidates, NULL);
    if (candidates && candidates[0]) return candidates;
    g_strfreev(candidates);
    if (g_get_monotonic_time() > deadline) return NULL;
    g_usleep(5000);
  }
}

static void side_init(Side* side, gboolean controlling) {
  side->bin = gst_element_factory_make("dtlstransportbin", NULL);
  fail_unless(side->bin != NULL);
  g_object_set(side->bin, "local-addresses", "127.0.0.1", "ice-controlling", controlling, NULL);
  /* The RTCP harness owns the element's state; the RTP harness shares the element. */
  side->rtp = gst_harness_new_with_element(side->bin, "rtp_sink", "rtp_src");
  side->rtcp = gst_harness_new_with_element(side->bin, "rtcp_sink", "rtcp_src");
  gst_harness_set_src_caps_str(side->rtp, "application/x-rtp");
  gst_harness_set_src_caps_str(side->rtcp, "application/x-rtcp");
}

static void side_clear(Side* side) {
  gst_harness_teardown(side->rtcp);
  gst_harness_teardown(side->rtp);
  gst_object_unref(side->bin);
}

/* Signalling by properties, as an application would do it with SDP. */
static void exchange(Side* from, Side* to) {
  gchar *ufrag, *pwd, *fingerprint, **candidates, *joined;

  g_object_get(from->bin, "local-ice-ufrag", &ufrag, "local-ice-pwd", &pwd, "local-fingerprint",
               &fingerprint, NULL);
  fail_unless(fingerprint != NULL);
  g_object_set(to->bin, "remote-ice-ufrag", ufrag, "remote-ice-pwd", pwd, "remote-fingerprints",
               fingerprint, NULL);
  candidates = wait_for_candidates(from->bin);
  fail_unless(candidates != NULL, "no local candidate gathered on 127.0.0.1");
  joined = g_strjoinv(";", candidates);
  g_object_set(to->bin, "remote-candidates", joined, NULL);
  g_free(joined);
  g_strfreev(candidates);
  g_free(ufrag);
  g_free(pwd);
  g_free(fingerprint);
}

static GstBuffer* make_rtp(guint16 seq, gsize payload_size) {
  GstBuffer* buffer = gst_buffer_new_allocate(NULL, 12 + payload_size, NULL);
  GstMapInfo map;
  gsize i;

  gst_buffer_map(buffer, &map, GST_MAP_WRITE);
  map.data[0] = 0x80;
  map.data[1] = 96;
  map.data[2] = seq >> 8;
  map.data[3] = seq & 0xff;
  memset(map.data + 4, 0, 4); /* timestamp */
  map.data[8] = 0x12;
  map.data[9] = 0x34;
  map.data[10] = 0x56;
  map.data[11] = 0x78; /* SSRC */
  for (i = 0; i < payload_size; i++) map.data[12 + i] = (guint8)(seq + i);
  gst_buffer_unmap(buffer, &map);
  return buffer;
}

/* A lone PLI (RFC 4585 §6.3.1, reduced-size RTCP per RFC 5506). */
static GstBuffer* make_pli(void) {
  static const guint8 pli[12] = {0x81, 206, 0, 2, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0};
  return gst_buffer_new_memdup(pli, sizeof pli);
}

static GstBuffer* pull_within(GstHarness* h) {
  gint64 deadline = g_get_monotonic_time() + WAIT_LIMIT_US;
  for (;;) {
    GstBuffer* buffer = gst_harness_try_pull(h);
    if (buffer || g_get_monotonic_time() > deadline) return buffer;
    g_usleep(2000);
  }
}

static void send_and_check(Side* from, Side* to, guint count) {
  guint i;
  for (i = 0; i < count; i++) {
    GstBuffer* sent = make_rtp(1000 + i, 200 + i);
    GstBuffer* received;
    GstMapInfo a, b;

    fail_unless_equals_int(gst_harness_push(from->rtp, gst_buffer_ref(sent)), GST_FLOW_OK);
    received = pull_within(to->rtp);
    fail_unless(received != NULL, "RTP packet %u did not arrive", i);
    gst_buffer_map(sent, &a, GST_MAP_READ);
    gst_buffer_map(received, &b, GST_MAP_READ);
    fail_unless_equals_int((int)b.size, (int)a.size);
    fail_unless(memcmp(a.data, b.data, a.size) == 0, "RTP packet %u corrupted", i);
    gst_buffer_unmap(sent, &a);
    gst_buffer_unmap(received, &b);
    gst_buffer_unref(sent);
    gst_buffer_unref(received);
  }
}

static guint64 stat_u64(GstElement* bin, const gchar* field) {
  GstStructure* stats = NULL;
  guint64 value = G_MAXUINT64;
  g_object_get(bin, "stats", &stats, NULL);
  fail_unless(stats != NULL);
  fail_unless(gst_structure_get_uint64(stats, field, &value), "stats lack %s", field);
  gst_structure_free(stats);
  return value;
}

GST_START_TEST(test_two_bins_loopback) {
  Side a, b;
  GstBuffer* received;
  gboolean sent = FALSE;
  gchar *profile_a = NULL, *profile_b = NULL;
  gint role_a, role_b;

  side_init(&a, TRUE);
  side_init(&b, FALSE);

  /* Before keys: dropped and counted, never a flow error. */
  fail_unless_equals_int(gst_harness_push(a.rtp, make_rtp(1, 10)), GST_FLOW_OK);
  fail_unless(stat_u64(a.bin, "dropped-no-keys") >= 1);

  exchange(&a, &b);
  exchange(&b, &a);

  fail_unless(wait_for_enum(a.bin, "state", 2), "A not connected (state %d, ice %d)",
              get_enum(a.bin, "state"), get_enum(a.bin, "ice-state"));
  fail_unless(wait_for_enum(b.bin, "state", 2), "B not connected (state %d, ice %d)",
              get_enum(b.bin, "state"), get_enum(b.bin, "ice-state"));

  /* auto/auto: the ICE-controlling side is the DTLS server (RFC 5763 §5). */
  role_a = get_enum(a.bin, "dtls-role");
  role_b = get_enum(b.bin, "dtls-role");
  fail_unless_equals_int(role_a, 2);
  fail_unless_equals_int(role_b, 1);
  g_object_get(a.bin, "srtp-profile", &profile_a, NULL);
  g_object_get(b.bin, "srtp-profile", &profile_b, NULL);
  fail_unless_equals_string(profile_a, "SRTP_AEAD_AES_128_GCM");
  fail_unless_equals_string(profile_b, profile_a);
  g_free(profile_a);
  g_free(profile_b);

  send_and_check(&a, &b, 20);
  send_and_check(&b, &a, 20);
  fail_unless(stat_u64(a.bin, "packets-sent") == 20);
  fail_unless(stat_u64(b.bin, "packets-received") == 20);

  /* RTCP via rtcp_sink and via send-rtcp. */
  fail_unless_equals_int(gst_harness_push(a.rtcp, make_pli()), GST_FLOW_OK);
  received = pull_within(b.rtcp);
  fail_unless(received != NULL, "RTCP from rtcp_sink did not arrive");
  fail_unless_equals_int((int)gst_buffer_get_size(received), 12);
  gst_buffer_unref(received);
  {
    GstBuffer* pli = make_pli();
    g_signal_emit_by_name(b.bin, "send-rtcp", pli, &sent);
    gst_buffer_unref(pli);
  }
  fail_unless(sent, "send-rtcp refused a PLI");
  received = pull_within(a.rtcp);
  fail_unless(received != NULL, "RTCP from send-rtcp did not arrive");
  gst_buffer_unref(received);
  fail_unless(stat_u64(b.bin, "rtcp-packets-received") == 1);

  /* stop: close_notify reaches the peer. */
  g_signal_emit_by_name(a.bin, "stop");
  fail_unless(wait_for_enum(a.bin, "state", 3), "A not closed after stop");
  fail_unless(wait_for_enum(b.bin, "state", 3), "B not closed after the peer's stop");

  side_clear(&b);
  side_clear(&a);
}
GST_END_TEST

/* Fail closed: B expects a certificate A does not have → both failed, nothing reaches rtp_src. */
GST_START_TEST(test_wrong_fingerprint_fails_closed) {
  Side a, b;
  GstBuffer* received;

  side_init(&a, TRUE);
  side_init(&b, FALSE);
  exchange(&a, &b);
  exchange(&b, &a);
  g_object_set(b.bin, "remote-fingerprints",
               "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
               "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
               NULL);
  fail_unless(wait_for_enum(b.bin, "state", 4), "B not failed (state %d)",
              get_enum(b.bin, "state"));
  fail_unless(wait_for_enum(a.bin, "state", 4), "A not failed (state %d)",
              get_enum(a.bin, "state"));
  fail_unless_equals_int(gst_harness_push(a.rtp, make_rtp(7, 100)), GST_FLOW_OK);
  g_usleep(50000);
  received = gst_harness_try_pull(b.rtp);
  fail_unless(received == NULL, "media left rtp_src after a failed verification");
  fail_unless(stat_u64(a.bin, "packets-sent") == 0);
  side_clear(&b);
  side_clear(&a);
}
GST_END_TEST

/* PLAYING→NULL→PLAYING gives a fresh transport and handshake. */
GST_START_TEST(test_restart) {
  Side a, b;
  gint round;

  side_init(&a, TRUE);
  side_init(&b, FALSE);
  for (round = 0; round < 2; round++) {
    if (round > 0) {
      fail_unless_equals_int(gst_element_set_state(a.bin, GST_STATE_NULL),
                             GST_STATE_CHANGE_SUCCESS);
      fail_unless_equals_int(gst_element_set_state(b.bin, GST_STATE_NULL),
                             GST_STATE_CHANGE_SUCCESS);
      fail_unless_equals_int(get_enum(a.bin, "state"), 0);
      /* New agents, new ports: the old candidates are useless. */
      g_object_set(a.bin, "remote-candidates", "", NULL);
      g_object_set(b.bin, "remote-candidates", "", NULL);
      fail_if(gst_element_set_state(a.bin, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
      fail_if(gst_element_set_state(b.bin, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
    }
    exchange(&a, &b);
    exchange(&b, &a);
    fail_unless(wait_for_enum(a.bin, "state", 2), "round %d: A not connected", round);
    fail_unless(wait_for_enum(b.bin, "state", 2), "round %d: B not connected", round);
    send_and_check(&a, &b, 5);
    send_and_check(&b, &a, 5);
  }
  side_clear(&b);
  side_clear(&a);
}
GST_END_TEST

/* Test knob: the client's first ClientHello is lost; the core's retransmission still connects. */
GST_START_TEST(test_lost_client_hello) {
  Side a, b;

  side_init(&a, TRUE);
  side_init(&b, FALSE); /* controlled + auto/auto → DTLS client */
  g_object_set(b.bin, "drop-first-client-hello", TRUE, NULL);
  exchange(&a, &b);
  exchange(&b, &a);
  fail_unless(wait_for_enum(b.bin, "state", 2), "B not connected after a lost ClientHello");
  fail_unless(wait_for_enum(a.bin, "state", 2), "A not connected after a lost ClientHello");
  send_and_check(&b, &a, 3);
  side_clear(&b);
  side_clear(&a);
}
GST_END_TEST

static Suite* dtlstransportbin_smoke_suite(void) {
  Suite* s = suite_create("dtlstransportbin-smoke");
  TCase* tc = tcase_create("general");
  tcase_set_timeout(tc, 60);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_interface);
  tcase_add_test(tc, test_bad_values_warn);
  tcase_add_test(tc, test_two_bins_loopback);
  tcase_add_test(tc, test_wrong_fingerprint_fails_closed);
  tcase_add_test(tc, test_restart);
  tcase_add_test(tc, test_lost_client_hello);
  return s;
}

GST_CHECK_MAIN(dtlstransportbin_smoke)
