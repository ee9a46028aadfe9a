// Data channels (issue 11) between two dtlstransportbins on 127.0.0.1: SCTP (GStreamer's
// sctpenc/sctpdec) over each bin's DTLS association, DCEP (RFC 8832), the channel API with
// GstWebRTCDataChannel's names used only through the dynamic GObject API, as an application
// written for webrtcbin would.
// pair.h (and the C++ library) first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include "pair.h"
//
#include <gst/check/gstcheck.h>
#define GST_USE_UNSTABLE_API 1  // gst/webrtc is unstable API in 1.22: only its enums are used
#include <gst/webrtc/webrtc.h>

#include <cstring>
#include <map>

using namespace elemtest;

namespace {

constexpr const char* kDataOnly = "dtlstransportbin name=dtls";

// What one channel told the application, recorded from its signals (any thread).
struct Recorder {
  GObject* channel = nullptr;  // a reference
  std::mutex mutex;
  std::vector<std::string> strings;
  std::vector<std::vector<uint8_t>> binaries;
  std::vector<std::string> errors;
  int opened = 0, closed = 0, low = 0;

  explicit Recorder(GObject* c) : channel(G_OBJECT(g_object_ref(c))) {
    g_signal_connect(channel, "on-message-string",
                     G_CALLBACK(+[](GObject*, const char* s, Recorder* r) {
                       std::lock_guard lock(r->mutex);
                       r->strings.emplace_back(s ? s : "(null)");
                     }),
                     this);
    g_signal_connect(channel, "on-message-data", G_CALLBACK(+[](GObject*, GBytes* b, Recorder* r) {
                       gsize size = 0;
                       auto* data = static_cast<const uint8_t*>(g_bytes_get_data(b, &size));
                       std::lock_guard lock(r->mutex);
                       r->binaries.emplace_back(data, data + size);
                     }),
                     this);
    g_signal_connect(channel, "on-error", G_CALLBACK(+[](GObject*, GError* e, Recorder* r) {
                       std::lock_guard lock(r->mutex);
                       r->errors.emplace_back(e->message);
                     }),
                     this);
    g_signal_connect(channel, "on-open", G_CALLBACK(+[](GObject*, Recorder* r) {
                       std::lock_guard lock(r->mutex);
                       r->opened++;
                     }),
                     this);
    g_signal_connect(channel, "on-close", G_CALLBACK(+[](GObject*, Recorder* r) {
                       std::lock_guard lock(r->mutex);
                       r->closed++;
                     }),
                     this);
    g_signal_connect(channel, "on-buffered-amount-low", G_CALLBACK(+[](GObject*, Recorder* r) {
                       std::lock_guard lock(r->mutex);
                       r->low++;
                     }),
                     this);
  }
  ~Recorder() {
    g_signal_handlers_disconnect_by_data(channel, this);
    g_object_unref(channel);
  }
  size_t count_strings() {
    std::lock_guard lock(mutex);
    return strings.size();
  }
  size_t count_binaries() {
    std::lock_guard lock(mutex);
    return binaries.size();
  }
  size_t count_errors() {
    std::lock_guard lock(mutex);
    return errors.size();
  }
  int count_closed() {
    std::lock_guard lock(mutex);
    return closed;
  }
  int state() {
    int s = 0;
    g_object_get(channel, "ready-state", &s, nullptr);
    return s;
  }
  int id() {
    int i = -2;
    g_object_get(channel, "id", &i, nullptr);
    return i;
  }
  std::string label() {
    gchar* l = nullptr;
    g_object_get(channel, "label", &l, nullptr);
    std::string out = l ? l : "";
    g_free(l);
    return out;
  }
  void send_string(const char* text) { g_signal_emit_by_name(channel, "send-string", text); }
  void send_data(const std::vector<uint8_t>& data) {
    GBytes* bytes = g_bytes_new(data.data(), data.size());
    g_signal_emit_by_name(channel, "send-data", bytes);
    g_bytes_unref(bytes);
  }
};

// The channels the peer opened (on-data-channel), each with a Recorder connected inside the
// signal, so that no message can come before it.
struct Incoming {
  std::mutex mutex;
  std::vector<std::unique_ptr<Recorder>> channels;
  explicit Incoming(GstElement* bin) {
    g_signal_connect(bin, "on-data-channel", G_CALLBACK(+[](GstElement*, GObject* c, Incoming* in) {
                       auto r = std::make_unique<Recorder>(c);
                       std::lock_guard lock(in->mutex);
                       in->channels.push_back(std::move(r));
                     }),
                     this);
  }
  size_t size() {
    std::lock_guard lock(mutex);
    return channels.size();
  }
  Recorder& at(size_t i) {
    std::lock_guard lock(mutex);
    return *channels.at(i);
  }
  Recorder* find(const std::string& label) {
    std::lock_guard lock(mutex);
    for (auto& r : channels)
      if (r->label() == label) return r.get();
    return nullptr;
  }
};

GObject* create_channel(GstElement* bin, const char* label, GstStructure* options = nullptr) {
  GObject* channel = nullptr;
  g_signal_emit_by_name(bin, "create-data-channel", label, options, &channel);
  if (options) gst_structure_free(options);
  return channel;
}

void connect_pair(Pair& pair) {
  pair.start();
  std::string why;
  fail_unless(pair.wait_connected(&why), "not connected:\n%s", why.c_str());
}

bool wait_open(Pair& pair, Recorder& r) {
  return pair.wait_until([&] { return r.state() == GST_WEBRTC_DATA_CHANNEL_STATE_OPEN; });
}

}  // namespace

// A opens a channel (DCEP) on a data-only pair (no RTP pad linked); B hears of it through
// on-data-channel; strings go both ways, in order; the stats count them.
GST_START_TEST(test_open_and_strings_both_ways) {
  Pair pair(kDataOnly, kDataOnly);
  Side& a = pair.a();
  Side& b = pair.b();
  Incoming incoming(b.bin);
  connect_pair(pair);
  GObject* channel = create_channel(a.bin, "chat");
  fail_unless(channel != nullptr);
  Recorder local(channel);
  g_object_unref(channel);
  fail_unless(wait_open(pair, local), "A's channel not open (state %d):\n%s\n%s", local.state(),
              a.describe().c_str(), b.describe().c_str());
  fail_unless(pair.wait_until([&] { return incoming.size() == 1; }), "B heard of no channel");
  Recorder& remote = incoming.at(0);
  fail_unless_equals_string(remote.label().c_str(), "chat");
  fail_unless_equals_int(remote.id(), local.id());
  fail_unless_equals_int(remote.state(), GST_WEBRTC_DATA_CHANNEL_STATE_OPEN);

  for (int i = 0; i < 10; i++) local.send_string(("a→b " + std::to_string(i)).c_str());
  for (int i = 0; i < 10; i++) remote.send_string(("b→a " + std::to_string(i)).c_str());
  fail_unless(
      pair.wait_until([&] { return remote.count_strings() == 10 && local.count_strings() == 10; }),
      "strings missing: B got %zu, A got %zu", remote.count_strings(), local.count_strings());
  for (int i = 0; i < 10; i++) {
    fail_unless_equals_string(remote.strings[i].c_str(), ("a→b " + std::to_string(i)).c_str());
    fail_unless_equals_string(local.strings[i].c_str(), ("b→a " + std::to_string(i)).c_str());
  }
  fail_unless_equals_uint64(a.stat("messages-sent"), 10);
  fail_unless_equals_uint64(b.stat("messages-received"), 10);
  fail_unless_equals_uint64(a.stat("data-channels-opened"), 1);
  fail_unless_equals_uint64(b.stat("data-channels-opened"), 1);
  fail_unless(a.stat("sctp-packets-sent") > 0);
  fail_unless(local.count_errors() == 0 && remote.count_errors() == 0);
  fail_unless(a.errors.empty() && b.errors.empty(), "%s\n%s", a.describe().c_str(),
              b.describe().c_str());
}
GST_END_TEST

static Suite* element_datachannel_suite(void) {
  Suite* s = suite_create("element_datachannel");
  TCase* tc = tcase_create("datachannel");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_open_and_strings_both_ways);
  suite_add_tcase(s, tc);
  return s;
}

GST_CHECK_MAIN(element_datachannel)
