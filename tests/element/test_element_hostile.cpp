// A hostile peer and a hostile wire, at element level, between two connected bins on 127.0.0.1:
//  - forged SRTP/SRTCP (replayed, tampered, truncated) sent from the peer's own socket is dropped,
//    counted in its own stats counter and never leaves rtp_src/rtcp_src (RFC 3711 §3.3 and §3.4:
//    a packet failing the replay check or authentication is discarded);
//  - the `mtu` property bounds every DTLS datagram on the wire, with an RSA-4096 certificate whose
//    flights need fragmentation (RFC 6347 §4.1.1.1, §4.2.3);
//  - `remote-fingerprints` changed in the middle of the handshake takes effect (docs/security.md):
//    a wrong one fails with *fingerprint mismatch*, a right one connects (RFC 8122 §5).
//
// The forged datagrams are built from what the sender's nicesink really sent (a pad probe on its
// sink pad sees every datagram it sends) and are chained into that same nicesink, so they leave
// from the socket libnice selected: libnice drops datagrams from unknown addresses before nicesrc.
// pair.h (and the C++ library) first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include "pair.h"
//
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>

#include <algorithm>
#include <cstring>

using namespace elemtest;

namespace {

using Bytes = std::vector<uint8_t>;

// PEM certificate + key of an RSA-4096 identity, made once in main() before the test processes
// are forked (empty if openssl could not make one: the tests that need it then fail saying so).
std::string g_rsa4096_pem;
std::string g_rsa4096_error;

bool is_dtls(const Bytes& datagram) {  // RFC 7983 §7: first byte 20–63
  return !datagram.empty() && datagram[0] >= 20 && datagram[0] <= 63;
}
bool is_media(const Bytes& datagram) {  // 128–191: RTP or RTCP
  return datagram.size() >= 2 && datagram[0] >= 128 && datagram[0] <= 191;
}
bool is_rtcp(const Bytes& datagram) {  // RFC 5761 §4: RTCP packet types 192–223 on a muxed port
  return is_media(datagram) && datagram[1] >= 192 && datagram[1] <= 223;
}

// A DTLS datagram of the final flight of a full handshake (RFC 6347 §4.2.4, flight 6: the
// server's ChangeCipherSpec and Finished): one of its records is a ChangeCipherSpec (content type
// 20) or is protected under epoch ≥ 1. Earlier flights are all epoch-0 handshake records.
bool is_final_flight(const Bytes& datagram) {
  size_t offset = 0;
  while (offset + 13 <= datagram.size()) {  // DTLS record header: 13 bytes (RFC 6347 §4.1)
    const uint8_t type = datagram[offset];
    const unsigned epoch = (datagram[offset + 3] << 8) | datagram[offset + 4];
    const size_t length = (datagram[offset + 11] << 8) | datagram[offset + 12];
    if (type == 20 || epoch != 0) return true;
    offset += 13 + length;
  }
  return false;
}

Bytes bytes_of(GstBuffer* buffer) {
  Bytes out(gst_buffer_get_size(buffer));
  gst_buffer_extract(buffer, 0, out.data(), out.size());
  return out;
}

// The bin's child element `name` (new reference); fails the test if absent.
GstElement* child(Side& side, const char* name) {
  GstElement* element = gst_bin_get_by_name(GST_BIN(side.bin), name);
  fail_unless(element != nullptr, "%s: the bin has no child %s (not READY?)", side.label.c_str(),
              name);
  return element;
}

// A tap on one side's nicesink sink pad: every datagram the side sends passes it. It records
// datagrams, and can withhold media (captured, then dropped: the peer never sees it) or hold the
// final handshake flight back. Lives shorter than the Pair (the probe is removed when it goes).
class Tap {
 public:
  explicit Tap(Side& side) {
    GstElement* sink = child(side, "nicesink");
    pad_ = gst_element_get_static_pad(sink, "sink");
    gst_object_unref(sink);
    probe_ = gst_pad_add_probe(
        pad_,
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        &Tap::on_data, this, nullptr);
  }
  ~Tap() {
    gst_pad_remove_probe(pad_, probe_);
    gst_object_unref(pad_);
  }
  Tap(const Tap&) = delete;
  Tap& operator=(const Tap&) = delete;

  void set_capture(bool on) {
    std::lock_guard lock(mutex_);
    capture_ = on;
  }
  void set_withhold_media(bool on) {
    std::lock_guard lock(mutex_);
    withhold_media_ = on;
  }
  void set_hold_final_flight(bool on) {
    std::lock_guard lock(mutex_);
    hold_final_flight_ = on;
  }
  std::vector<Bytes> datagrams() const {
    std::lock_guard lock(mutex_);
    return datagrams_;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    datagrams_.clear();
  }
  unsigned held() const {
    std::lock_guard lock(mutex_);
    return held_;
  }
  std::vector<Bytes> media() const {
    std::vector<Bytes> out;
    for (auto& datagram : datagrams())
      if (is_media(datagram)) out.push_back(datagram);
    return out;
  }
  std::vector<Bytes> dtls() const {
    std::vector<Bytes> out;
    for (auto& datagram : datagrams())
      if (is_dtls(datagram)) out.push_back(datagram);
    return out;
  }

 private:
  // True: drop this datagram.
  bool see(Bytes datagram) {
    std::lock_guard lock(mutex_);
    bool drop = false;
    if (withhold_media_ && is_media(datagram)) drop = true;
    if (hold_final_flight_ && is_dtls(datagram) && is_final_flight(datagram)) {
      held_++;
      drop = true;
    }
    if (capture_) datagrams_.push_back(std::move(datagram));
    return drop;
  }

  static GstPadProbeReturn on_data(GstPad*, GstPadProbeInfo* info, gpointer data) {
    auto* self = static_cast<Tap*>(data);
    bool drop = false;
    if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
      GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
      for (guint i = 0; i < gst_buffer_list_length(list); i++)
        drop = self->see(bytes_of(gst_buffer_list_get(list, i))) || drop;
    } else {
      drop = self->see(bytes_of(GST_PAD_PROBE_INFO_BUFFER(info)));
    }
    return drop ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
  }

  mutable std::mutex mutex_;
  GstPad* pad_ = nullptr;
  gulong probe_ = 0;
  bool capture_ = true;
  bool withhold_media_ = false;
  bool hold_final_flight_ = false;
  unsigned held_ = 0;
  std::vector<Bytes> datagrams_;
};

// Sends `datagram` from `from`'s selected socket, as if its element had sent it.
void inject(Side& from, const Bytes& datagram) {
  GstElement* sink = child(from, "nicesink");
  GstPad* pad = gst_element_get_static_pad(sink, "sink");
  GstFlowReturn ret = gst_pad_chain(pad, gst_buffer_new_memdup(datagram.data(), datagram.size()));
  gst_object_unref(pad);
  gst_object_unref(sink);
  fail_unless_equals_int(ret, GST_FLOW_OK);
}

// What the receiver counted: its stats and the buffers that left rtp_src / rtcp_src.
struct Counts {
  uint64_t received = 0, rtcp_received = 0, replay = 0, auth = 0, malformed = 0, no_keys = 0;
  uint64_t rtp_out = 0, rtcp_out = 0;
  bool operator==(const Counts&) const = default;
  std::string describe() const {
    return "packets-received " + std::to_string(received) + ", rtcp-packets-received " +
           std::to_string(rtcp_received) + ", dropped-replay " + std::to_string(replay) +
           ", dropped-auth-failure " + std::to_string(auth) + ", dropped-malformed " +
           std::to_string(malformed) + ", dropped-no-keys " + std::to_string(no_keys) +
           ", left rtp_src " + std::to_string(rtp_out) + ", left rtcp_src " +
           std::to_string(rtcp_out);
  }
};

Counts counts(Side& side, Counter* rtcp_out) {
  Counts c;
  c.received = side.stat("packets-received");
  c.rtcp_received = side.stat("rtcp-packets-received");
  c.replay = side.stat("dropped-replay");
  c.auth = side.stat("dropped-auth-failure");
  c.malformed = side.stat("dropped-malformed");
  c.no_keys = side.stat("dropped-no-keys");
  c.rtp_out = side.rtp_out_count->buffers.load();
  c.rtcp_out = rtcp_out->buffers.load();
  return c;
}

// Waits until the receiver's counts are exactly `expected`, then lets 200 ms more pass and checks
// that nothing else moved (no late extra count, nothing late out of rtp_src/rtcp_src).
void expect_counts(Pair& pair, Side& rx, Counter* rtcp_out, const Counts& expected,
                   const char* what) {
  bool reached =
      pair.wait_until([&] { return counts(rx, rtcp_out) == expected; }, 5 * G_USEC_PER_SEC);
  if (reached) {
    pair.settle(200 * 1000);
    reached = counts(rx, rtcp_out) == expected;
  }
  fail_unless(reached, "%s at %s:\n  expected %s\n  got      %s", what, rx.label.c_str(),
              expected.describe().c_str(), counts(rx, rtcp_out).describe().c_str());
}

void connect_pair(Pair& pair) {
  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());
}

// The forgery run: `tx` sends genuine media, some delivered and some withheld on its wire, then
// forged copies of both from its socket; `rx` must drop and count every forgery.
void run_forged_media(bool tx_is_a) {
  Pair pair;
  connect_pair(pair);
  Side& tx = tx_is_a ? pair.a() : pair.b();
  Side& rx = tx_is_a ? pair.b() : pair.a();
  Counter* rx_rtcp_out = rx.count_buffers(rx.rtcp_out, "sink");
  const uint32_t ssrc = tx_is_a ? 0x0a11ce01 : 0x0b0b0b01;
  Tap tap(tx);

  // Delivered: 4 RTP, a sender report and a PLI, each checked byte-wise at rx.
  send_rtp_and_check(tx, rx, 4, ssrc, 100);
  send_rtcp_and_check(tx, rx, make_sr(ssrc, 4), false);
  send_rtcp_and_check(tx, rx, make_pli(ssrc, 0x5eed0001), false);
  std::vector<Bytes> delivered = tap.media();
  fail_unless_equals_int(delivered.size(), 6);
  for (size_t i = 0; i < delivered.size(); i++)
    fail_unless_equals_int(is_rtcp(delivered[i]), i >= 4);

  // Withheld: 3 RTP and 2 PLIs that tx protected and sent, captured and dropped on tx's wire.
  const Counts before_withheld = counts(rx, rx_rtcp_out);
  tap.clear();
  tap.set_withhold_media(true);
  std::vector<GstBuffer*> plain;  // what tx was given, to compare at rx in the end
  for (uint16_t seq = 200; seq < 203; seq++) {
    plain.push_back(make_rtp(seq, 80 + seq % 7, ssrc));
    push(tx.rtp_in, gst_buffer_ref(plain.back()));
  }
  for (uint32_t media = 1; media <= 2; media++) {
    plain.push_back(make_pli(ssrc, 0x5eed0000 + media));
    push(tx.rtcp_in, gst_buffer_ref(plain.back()));
  }
  fail_unless(pair.wait_until([&] { return tap.media().size() == 5; }, 5 * G_USEC_PER_SEC),
              "tx sent %zu of the 5 withheld packets", tap.media().size());
  tap.set_capture(false);
  tap.set_withhold_media(false);
  expect_counts(pair, rx, rx_rtcp_out, before_withheld, "withheld packets reached rx");
  // RTP and RTCP come from two appsrc threads: their relative order on the wire is not fixed.
  std::vector<Bytes> withheld_rtp, withheld_rtcp;
  for (auto& p : tap.media()) (is_rtcp(p) ? withheld_rtcp : withheld_rtp).push_back(p);
  fail_unless_equals_int(withheld_rtp.size(), 3);
  fail_unless_equals_int(withheld_rtcp.size(), 2);
  std::vector<Bytes> withheld = withheld_rtp;
  withheld.insert(withheld.end(), withheld_rtcp.begin(), withheld_rtcp.end());

  // 1. Replays of delivered packets (RFC 3711 §3.3.2): the SRTP index, or the SRTCP index, was
  //    seen before.
  Counts expected = counts(rx, rx_rtcp_out);
  for (auto& p : delivered) inject(tx, p);
  expected.replay += delivered.size();
  expect_counts(pair, rx, rx_rtcp_out, expected, "replayed SRTP/SRTCP");

  // 2. Tampered copies of withheld packets: unseen indexes, so only authentication can reject
  //    them (RFC 7714 §9.2: the AEAD tag covers header and payload).
  for (auto& p : withheld_rtp) {
    Bytes payload = p, tag = p, cut = p;
    payload[14] ^= 0x01;  // first encrypted payload byte (12-byte header)
    tag.back() ^= 0x80;   // the tag
    cut.pop_back();       // one byte short: the tag no longer verifies
    for (auto* forged : {&payload, &tag, &cut}) inject(tx, *forged);
    expected.auth += 3;
  }
  for (auto& p : withheld_rtcp) {
    Bytes body = p, tag = p;
    body[8] ^= 0x01;  // first encrypted byte after the 8-byte clear header (RFC 3711 §3.4)
    tag.back() ^= 0x80;
    for (auto* forged : {&body, &tag}) inject(tx, *forged);
    expected.auth += 2;
  }
  expect_counts(pair, rx, rx_rtcp_out, expected, "tampered SRTP/SRTCP");

  // 3. Truncated below what a protected packet can be, yet still classified as RTP/RTCP (clear
  //    header intact) so it reaches unprotect: src/srtp_session.cpp refuses it as malformed
  //    (SRTP: header + 16-byte GCM tag; SRTCP: 8-byte header + 4-byte index + tag).
  for (auto& p : withheld_rtp) inject(tx, Bytes(p.begin(), p.begin() + 20));
  for (auto& p : withheld_rtcp) inject(tx, Bytes(p.begin(), p.begin() + 24));
  expected.malformed += withheld.size();
  expect_counts(pair, rx, rx_rtcp_out, expected, "truncated SRTP/SRTCP");
  fail_unless(pull(rx.rtp_out, 0) == nullptr, "a forged packet left rtp_src");
  fail_unless(pull(rx.rtcp_out, 0) == nullptr, "a forged packet left rtcp_src");

  // Control: the genuine withheld packets, sent the same way, are accepted and arrive intact, so
  //    the forgeries above were dropped for what was forged in them, not for how they were sent.
  for (auto& p : withheld) inject(tx, p);
  expected.received += 3;
  expected.rtcp_received += 2;
  expected.rtp_out += 3;
  expected.rtcp_out += 2;
  expect_counts(pair, rx, rx_rtcp_out, expected, "the genuine withheld packets");
  for (size_t i = 0; i < plain.size(); i++) {
    GstBuffer* received = pull(i < 3 ? rx.rtp_out : rx.rtcp_out);
    fail_unless(received != nullptr, "withheld packet %zu not at rx", i);
    fail_unless(same_bytes(received, plain[i]), "withheld packet %zu arrived altered", i);
    gst_buffer_unref(received);
    gst_buffer_unref(plain[i]);
  }
  // The receiving session still works.
  send_rtp_and_check(tx, rx, 3, ssrc, 300);
  fail_unless(rx.errors.empty() && tx.errors.empty(), "%s\n%s", rx.describe().c_str(),
              tx.describe().c_str());
}

// Every DTLS datagram either side sends is at most `mtu` bytes (UDP payload), with an RSA-4096
// certificate on both sides: its Certificate message alone (≈ 1.3 kB) needs fragmenting.
void run_mtu(guint mtu) {
  fail_unless(!g_rsa4096_pem.empty(), "no RSA-4096 certificate: %s", g_rsa4096_error.c_str());
  Pair pair;
  for (Side* side : {&pair.a(), &pair.b()}) {
    g_object_set(side->bin, "certificate", g_rsa4096_pem.c_str(), "mtu", mtu, nullptr);
    fail_unless(gst_element_set_state(side->pipeline, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
    // Our certificate is the one in use (not a generated ECDSA one).
    std::string local = side->string_property("local-certificate");
    std::string body = g_rsa4096_pem.substr(0, g_rsa4096_pem.find("-----END CERTIFICATE-----"));
    fail_unless(!local.empty() && local.find(body.substr(body.size() - 64)) != std::string::npos,
                "%s: local-certificate is not the RSA-4096 one", side->label.c_str());
  }
  guint set = 0;
  g_object_get(pair.a().bin, "mtu", &set, nullptr);
  fail_unless_equals_int(set, mtu);
  // nicesink exists from READY and DTLS starts only after ICE connects: the taps see it all.
  Tap tap_a(pair.a()), tap_b(pair.b());
  connect_pair(pair);
  send_rtp_and_check(pair.a(), pair.b(), 2, 0x0a000576);
  send_rtp_and_check(pair.b(), pair.a(), 2, 0x0b000576);
  for (auto [side, tap] : {std::pair{&pair.a(), &tap_a}, std::pair{&pair.b(), &tap_b}}) {
    std::vector<Bytes> dtls = tap->dtls();
    size_t largest = 0, total = 0;
    for (auto& datagram : dtls) {
      fail_unless(datagram.size() <= mtu, "%s sent a %zu-byte DTLS datagram with mtu %u",
                  side->label.c_str(), datagram.size(), mtu);
      largest = std::max(largest, datagram.size());
      total += datagram.size();
    }
    // The bound was exercised: the handshake needed more than one datagram's worth and the
    // datagrams were filled up to the bound (records are packed into mtu-sized datagrams; a
    // record header plus a handshake fragment header is 25 bytes).
    fail_unless(total > mtu, "%s: only %zu bytes of DTLS", side->label.c_str(), total);
    fail_unless(largest + 64 >= mtu, "%s: largest DTLS datagram %zu bytes, mtu %u",
                side->label.c_str(), largest, mtu);
  }
}

// `remote-fingerprints` of the client changed while the handshake is in progress: after the
// client verified the server's Certificate (flight 4) with the fingerprints it had then, and
// before it completes (flight 6, held on the server's wire until the change is made).
// `initial`: the client's fingerprints before (none, or the server's right one); `right`: whether
// the new value matches. docs/security.md: a change takes effect; a mismatch fails the
// transport (fingerprint mismatch), a match connects.
enum class Initial { kNone, kRight };

void run_midhandshake(Initial initial, bool right) {
  PairOptions options;
  options.exchange_fingerprints = false;
  Pair pair(options);
  Side& server = pair.a();
  Side& client = pair.b();
  gst_util_set_object_arg(G_OBJECT(server.bin), "role", "server");
  gst_util_set_object_arg(G_OBJECT(client.bin), "role", "client");
  for (Side* side : {&server, &client})
    fail_unless(gst_element_set_state(side->pipeline, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
  pair.exchange_fingerprints(client, server);
  if (initial == Initial::kRight) pair.exchange_fingerprints(server, client);
  Tap hold(server);
  hold.set_capture(false);
  hold.set_hold_final_flight(true);
  pair.start();

  // The server sent its final flight: it received the client's flight 5, which the client sent
  // only after processing the server's Certificate.
  fail_unless(pair.wait_until([&] { return hold.held() >= 1; }),
              "the server never sent its final flight:\n%s\n%s", server.describe().c_str(),
              client.describe().c_str());
  fail_unless_equals_int(client.state(), kConnecting);
  fail_unless_equals_int(client.count_state_changes(kConnected), 0);

  std::string fingerprint = server.string_property("local-fingerprint");
  if (!right) {
    char& digit = fingerprint.back();
    digit = digit == '0' ? '1' : '0';
  }
  g_object_set(client.bin, "remote-fingerprints", fingerprint.c_str(), nullptr);
  hold.set_hold_final_flight(false);  // the client's retransmitted flight 5 brings flight 6 again

  if (right) {
    std::string why;
    fail_unless(pair.wait_connected(&why), "not connected with the right fingerprint:\n%s",
                why.c_str());
    std::string remote = client.string_property("remote-certificate");
    std::string local = server.string_property("local-certificate");
    fail_unless_equals_string(remote.c_str(), local.c_str());
    send_rtp_and_check(server, client, 3, 0x0a0000c1);
    send_rtp_and_check(client, server, 3, 0x0b0000c1);
    return;
  }

  fail_unless(pair.wait_state(client, kFailed), "the client did not fail:\n%s",
              client.describe().c_str());
  fail_unless(pair.wait_until([&] {
    return client.has_warning({"DTLS transport failed (fingerprint mismatch)"});
  }),
              "no fingerprint-mismatch warning:\n%s", client.describe().c_str());
  fail_unless_equals_int(client.count_state_changes(kConnected), 0);
  fail_unless(client.string_property("remote-certificate").empty(),
              "remote-certificate set although the peer is unverified");
  fail_unless(client.errors.empty(), "%s", client.describe().c_str());
  // Media offered on both sides never gets out of the client, nor is protected by it. Input
  // existed: what is pushed into the client is refused there, and what the server (which
  // verified the client and is connected as far as it knows) protects and sends reaches the
  // client and is refused there too, both counted as dropped-no-keys.
  const uint64_t client_no_keys = client.stat("dropped-no-keys");
  const uint64_t server_sent = server.stat("packets-sent");
  for (uint16_t i = 0; i < 5; i++) {
    push(client.rtp_in, make_rtp(i, 40, 0x0b0000c2));
    push(server.rtp_in, make_rtp(i, 40, 0x0a0000c2));
  }
  pair.wait_until([&] {
    return client.stat("dropped-no-keys") ==
           client_no_keys + 5 + (server.stat("packets-sent") - server_sent);
  });
  pair.settle(300 * 1000);
  const uint64_t sent_by_server = server.stat("packets-sent") - server_sent;
  fail_unless_equals_uint64(sent_by_server, 5);
  fail_unless_equals_uint64(client.stat("dropped-no-keys") - client_no_keys, 5 + sent_by_server);
  fail_unless_equals_uint64(client.stat("packets-sent"), 0);
  fail_unless_equals_uint64(client.stat("packets-received"), 0);
  fail_unless_equals_uint64(client.rtp_out_count->buffers.load(), 0);
  fail_unless_equals_int(client.state(), kFailed);
}

// openssl req -x509 -newkey rsa:4096 into a temporary directory; PEM certificate then key.
void make_rsa4096() {
  GError* error = nullptr;
  gchar* dir = g_dir_make_tmp("hostile-XXXXXX", &error);
  if (!dir) {
    g_rsa4096_error = error->message;
    g_clear_error(&error);
    return;
  }
  gchar* cert = g_build_filename(dir, "cert.pem", nullptr);
  gchar* key = g_build_filename(dir, "key.pem", nullptr);
  const gchar* argv[] = {
      "openssl", "req", "-x509", "-newkey", "rsa:4096", "-nodes",           "-keyout", key,
      "-out",    cert,  "-days", "2",       "-subj",    "/CN=hostile-test", nullptr};
  gint status = -1;
  gchar* err = nullptr;
  if (!g_spawn_sync(nullptr, const_cast<gchar**>(argv), nullptr, G_SPAWN_SEARCH_PATH, nullptr,
                    nullptr, nullptr, &err, &status, &error) ||
      !g_spawn_check_wait_status(status, &error)) {
    g_rsa4096_error =
        std::string(error ? error->message : "openssl failed") + ": " + (err ? err : "");
    g_clear_error(&error);
  } else {
    gchar *cert_pem = nullptr, *key_pem = nullptr;
    if (g_file_get_contents(cert, &cert_pem, nullptr, nullptr) &&
        g_file_get_contents(key, &key_pem, nullptr, nullptr)) {
      g_rsa4096_pem = std::string(cert_pem) + key_pem;
    } else {
      g_rsa4096_error = "cannot read the files openssl wrote";
    }
    g_free(cert_pem);
    g_free(key_pem);
  }
  g_free(err);
  g_unlink(cert);
  g_unlink(key);
  g_rmdir(dir);
  g_free(cert);
  g_free(key);
  g_free(dir);
}

}  // namespace

GST_START_TEST(test_forged_media_to_b) { run_forged_media(true); }
GST_END_TEST

GST_START_TEST(test_forged_media_to_a) { run_forged_media(false); }
GST_END_TEST

GST_START_TEST(test_mtu_576_rsa4096) { run_mtu(576); }
GST_END_TEST

GST_START_TEST(test_mtu_1200_rsa4096) { run_mtu(1200); }
GST_END_TEST

GST_START_TEST(test_fingerprint_right_to_wrong_midhandshake) {
  run_midhandshake(Initial::kRight, false);
}
GST_END_TEST

GST_START_TEST(test_fingerprint_none_to_wrong_midhandshake) {
  run_midhandshake(Initial::kNone, false);
}
GST_END_TEST

GST_START_TEST(test_fingerprint_none_to_right_midhandshake) {
  run_midhandshake(Initial::kNone, true);
}
GST_END_TEST

static Suite* element_hostile_suite(void) {
  Suite* s = suite_create("element_hostile");
  TCase* tc = tcase_create("hostile");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_forged_media_to_b);
  tcase_add_test(tc, test_forged_media_to_a);
  tcase_add_test(tc, test_mtu_576_rsa4096);
  tcase_add_test(tc, test_mtu_1200_rsa4096);
  tcase_add_test(tc, test_fingerprint_right_to_wrong_midhandshake);
  tcase_add_test(tc, test_fingerprint_none_to_wrong_midhandshake);
  tcase_add_test(tc, test_fingerprint_none_to_right_midhandshake);
  suite_add_tcase(s, tc);
  return s;
}

// GST_CHECK_MAIN, plus the RSA-4096 key made once before the test processes are forked.
int main(int argc, char** argv) {
  gst_check_init(&argc, &argv);
  make_rsa4096();
  Suite* s = element_hostile_suite();
  return gst_check_run_suite(s, "element_hostile", __FILE__);
}
