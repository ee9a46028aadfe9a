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
#include <set>

using namespace elemtest;

namespace {

constexpr const char* kDataOnly = "dtlstransportbin name=dtls";

// What one channel told the application, recorded from its signals (any thread). The records
// live in a shared block each handler holds (its closure data, released by GLib once the handler
// is disconnected and no emission still runs it), so a signal racing the Recorder's destruction
// never writes freed memory.
struct Records {
  std::mutex mutex;
  std::vector<std::string> strings;
  std::vector<std::vector<uint8_t>> binaries;
  std::vector<std::string> errors;
  int opened = 0, closed = 0, low = 0;
};
using RecordsRef = std::shared_ptr<Records>;

template <class Handler>
gulong connect_records(GObject* object, const char* signal, Handler handler,
                       const RecordsRef& records) {
  return g_signal_connect_data(
      object, signal, G_CALLBACK(handler), new RecordsRef(records),
      [](gpointer data, GClosure*) { delete static_cast<RecordsRef*>(data); },
      static_cast<GConnectFlags>(0));
}

struct Recorder {
  GObject* channel = nullptr;  // a reference
  RecordsRef records = std::make_shared<Records>();
  std::mutex& mutex = records->mutex;
  std::vector<std::string>& strings = records->strings;
  std::vector<std::vector<uint8_t>>& binaries = records->binaries;
  std::vector<std::string>& errors = records->errors;
  int& opened = records->opened;
  int& closed = records->closed;
  int& low = records->low;
  std::vector<gulong> handlers;

  explicit Recorder(GObject* c) : channel(G_OBJECT(g_object_ref(c))) {
    handlers.push_back(connect_records(
        channel, "on-message-string",
        +[](GObject*, const char* s, RecordsRef* r) {
          std::lock_guard lock((*r)->mutex);
          (*r)->strings.emplace_back(s ? s : "(null)");
        },
        records));
    handlers.push_back(connect_records(
        channel, "on-message-data",
        +[](GObject*, GBytes* b, RecordsRef* r) {
          gsize size = 0;
          auto* data = static_cast<const uint8_t*>(g_bytes_get_data(b, &size));
          std::lock_guard lock((*r)->mutex);
          (*r)->binaries.emplace_back(data, data + size);
        },
        records));
    handlers.push_back(connect_records(
        channel, "on-error",
        +[](GObject*, GError* e, RecordsRef* r) {
          std::lock_guard lock((*r)->mutex);
          (*r)->errors.emplace_back(e->message);
        },
        records));
    handlers.push_back(connect_records(
        channel, "on-open",
        +[](GObject*, RecordsRef* r) {
          std::lock_guard lock((*r)->mutex);
          (*r)->opened++;
        },
        records));
    handlers.push_back(connect_records(
        channel, "on-close",
        +[](GObject*, RecordsRef* r) {
          std::lock_guard lock((*r)->mutex);
          (*r)->closed++;
        },
        records));
    handlers.push_back(connect_records(
        channel, "on-buffered-amount-low",
        +[](GObject*, RecordsRef* r) {
          std::lock_guard lock((*r)->mutex);
          (*r)->low++;
        },
        records));
  }
  ~Recorder() {
    for (gulong id : handlers) g_signal_handler_disconnect(channel, id);
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
  GstElement* bin;
  gulong handler;
  explicit Incoming(GstElement* b) : bin(b) {
    handler = g_signal_connect(bin, "on-data-channel",
                               G_CALLBACK(+[](GstElement*, GObject* c, Incoming* in) {
                                 auto r = std::make_unique<Recorder>(c);
                                 std::lock_guard lock(in->mutex);
                                 in->channels.push_back(std::move(r));
                               }),
                               this);
  }
  // Only once no channel can open any more (the test is over: nothing new is opened then).
  ~Incoming() { g_signal_handler_disconnect(bin, handler); }
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
  const std::string remote_label = remote.label();  // gst-check's macro outlives temporaries
  fail_unless_equals_string(remote_label.c_str(), "chat");
  fail_unless_equals_int(remote.id(), local.id());
  fail_unless_equals_int(remote.state(), GST_WEBRTC_DATA_CHANNEL_STATE_OPEN);

  for (int i = 0; i < 10; i++) local.send_string(("a→b " + std::to_string(i)).c_str());
  for (int i = 0; i < 10; i++) remote.send_string(("b→a " + std::to_string(i)).c_str());
  fail_unless(
      pair.wait_until([&] { return remote.count_strings() == 10 && local.count_strings() == 10; }),
      "strings missing: B got %zu, A got %zu", remote.count_strings(), local.count_strings());
  for (int i = 0; i < 10; i++) {
    const std::string to_b = "a→b " + std::to_string(i), to_a = "b→a " + std::to_string(i);
    fail_unless_equals_string(remote.strings[i].c_str(), to_b.c_str());
    fail_unless_equals_string(local.strings[i].c_str(), to_a.c_str());
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

// B (the DTLS client: odd/even parity from the role) opens; binary messages both ways, an empty
// string and an empty binary message (PPIDs 56/57), unordered channel.
GST_START_TEST(test_binary_unordered_opened_by_other_side) {
  Pair pair(kDataOnly, kDataOnly);
  Side& a = pair.a();
  Side& b = pair.b();
  Incoming incoming(a.bin);
  connect_pair(pair);
  GObject* channel = create_channel(
      b.bin, "bin", gst_structure_new("options", "ordered", G_TYPE_BOOLEAN, FALSE, nullptr));
  fail_unless(channel != nullptr);
  Recorder local(channel);
  g_object_unref(channel);
  fail_unless(wait_open(pair, local), "B's channel not open:\n%s", b.describe().c_str());
  // A is the DTLS server (controlling, auto): B, the client, uses even ids (RFC 8832 §6).
  fail_unless_equals_int(local.id() % 2, 0);
  fail_unless(pair.wait_until([&] { return incoming.size() == 1; }));
  Recorder& remote = incoming.at(0);
  gboolean ordered = TRUE;
  g_object_get(remote.channel, "ordered", &ordered, nullptr);
  fail_if(ordered, "the peer's channel is ordered although opened unordered");

  std::vector<uint8_t> blob(1000);
  for (size_t i = 0; i < blob.size(); i++) blob[i] = static_cast<uint8_t>(i * 7);
  local.send_data(blob);
  remote.send_data(blob);
  local.send_data({});
  local.send_string("");
  fail_unless(pair.wait_until([&] {
    return remote.count_binaries() == 2 && local.count_binaries() == 1 &&
           remote.count_strings() == 1;
  }));
  std::lock_guard lock(remote.mutex);
  // Unordered: the two may arrive either way round.
  bool full_first = remote.binaries[0] == blob;
  fail_unless(remote.binaries[full_first ? 0 : 1] == blob);
  fail_unless(remote.binaries[full_first ? 1 : 0].empty());
  fail_unless(local.binaries[0] == blob);
  fail_unless(remote.strings[0].empty());
}
GST_END_TEST

// A 64 KiB message (the default max-message-size, RFC 8841 §6.1; SCTP fragments it into ~56
// packets), both ways, intact. (Larger messages reach a GStreamer 1.22 receiver in pieces: its
// sctpdec drops usrsctp's end-of-record flag; see docs/element.md.)
GST_START_TEST(test_large_message) {
  Pair pair(kDataOnly, kDataOnly);
  Side& a = pair.a();
  Side& b = pair.b();
  Incoming incoming(b.bin);
  connect_pair(pair);
  GObject* channel = create_channel(a.bin, "big");
  Recorder local(channel);
  g_object_unref(channel);
  fail_unless(wait_open(pair, local));
  fail_unless(pair.wait_until([&] { return incoming.size() == 1; }));
  Recorder& remote = incoming.at(0);
  std::vector<uint8_t> big(65536);
  for (size_t i = 0; i < big.size(); i++) big[i] = static_cast<uint8_t>((i * 131) >> 3);
  local.send_data(big);
  remote.send_data(big);
  fail_unless(
      pair.wait_until([&] { return remote.count_binaries() == 1 && local.count_binaries() == 1; }),
      "64 KiB message missing: B %zu, A %zu (errors %zu)", remote.count_binaries(),
      local.count_binaries(), local.count_errors());
  fail_unless(remote.binaries[0] == big, "B got %zu bytes, not the message",
              remote.binaries[0].size());
  fail_unless(local.binaries[0] == big);
  pair.settle(200 * 1000);  // nothing more (no piece of it as a message of its own)
  fail_unless_equals_int(remote.count_binaries(), 1);
  fail_unless_equals_uint64(b.stat("message-bytes-received"), 65536);
}
GST_END_TEST

// A message larger than max-message-size (the peer's limit) is refused: on-error with a message
// naming the limit, a warning in the log, nothing sent; a message at the limit goes.
GST_START_TEST(test_larger_than_max_message_size_refused) {
  Pair pair(kDataOnly, kDataOnly);
  Side& a = pair.a();
  Side& b = pair.b();
  g_object_set(a.bin, "max-message-size", 1000u, nullptr);
  Incoming incoming(b.bin);
  connect_pair(pair);
  GObject* channel = create_channel(a.bin, "limited");
  Recorder local(channel);
  g_object_unref(channel);
  fail_unless(wait_open(pair, local));
  fail_unless(pair.wait_until([&] { return incoming.size() == 1; }));
  Recorder& remote = incoming.at(0);
  local.send_data(std::vector<uint8_t>(1001, 1));
  fail_unless_equals_int(local.count_errors(), 1);
  {
    std::lock_guard lock(local.mutex);
    fail_unless(local.errors[0].find("max-message-size") != std::string::npos, "%s",
                local.errors[0].c_str());
  }
  local.send_data(std::vector<uint8_t>(1000, 2));
  fail_unless(pair.wait_until([&] { return remote.count_binaries() == 1; }));
  pair.settle(200 * 1000);
  fail_unless_equals_int(remote.count_binaries(), 1);
  fail_unless_equals_int(remote.binaries[0].size(), 1000);
  fail_unless_equals_uint64(a.stat("messages-refused"), 1);
  fail_unless_equals_uint64(a.stat("messages-sent"), 1);
}
GST_END_TEST

// 20 channels from each side at once, each with its own message; then each is closed, half by
// the side that opened it, half by the other: both sides see on-close, the stats agree.
GST_START_TEST(test_many_channels_and_close_from_either_side) {
  Pair pair(kDataOnly, kDataOnly);
  Side& a = pair.a();
  Side& b = pair.b();
  Incoming in_a(a.bin), in_b(b.bin);
  connect_pair(pair);
  constexpr int kChannels = 20;
  std::vector<std::unique_ptr<Recorder>> mine_a, mine_b;
  for (int i = 0; i < kChannels; i++) {
    for (auto [side, mine] : {std::pair{&a, &mine_a}, std::pair{&b, &mine_b}}) {
      std::string label = std::string(side == &a ? "a" : "b") + std::to_string(i);
      GObject* c = create_channel(side->bin, label.c_str());
      fail_unless(c != nullptr);
      mine->push_back(std::make_unique<Recorder>(c));
      g_object_unref(c);
    }
  }
  fail_unless(pair.wait_until([&] { return in_a.size() == kChannels && in_b.size() == kChannels; }),
              "A heard of %zu, B of %zu channels", in_a.size(), in_b.size());
  for (auto* mine : {&mine_a, &mine_b})
    for (auto& r : *mine) fail_unless(wait_open(pair, *r));
  std::set<int> ids;
  for (auto* mine : {&mine_a, &mine_b})
    for (auto& r : *mine) ids.insert(r->id());
  fail_unless_equals_int(ids.size(), 2 * kChannels);  // no stream used twice
  for (auto& r : mine_a) r->send_string(r->label().c_str());
  fail_unless(pair.wait_until([&] {
    for (int i = 0; i < kChannels; i++)
      if (in_b.at(static_cast<size_t>(i)).count_strings() != 1) return false;
    return true;
  }));
  for (int i = 0; i < kChannels; i++) {
    Recorder& r = in_b.at(static_cast<size_t>(i));
    const std::string label = r.label();
    fail_unless_equals_string(r.strings[0].c_str(), label.c_str());
  }
  // Close: A's even-numbered channels by A, odd-numbered ones by B (the receiving side).
  for (int i = 0; i < kChannels; i++) {
    std::string label = "a" + std::to_string(i);
    Recorder* theirs = in_b.find(label);
    fail_unless(theirs != nullptr);
    Recorder& closer = i % 2 ? *theirs : *mine_a[static_cast<size_t>(i)];
    g_signal_emit_by_name(closer.channel, "close");
  }
  fail_unless(pair.wait_until([&] {
    for (int i = 0; i < kChannels; i++) {
      if (mine_a[static_cast<size_t>(i)]->count_closed() != 1) return false;
      if (in_b.find("a" + std::to_string(i))->count_closed() != 1) return false;
    }
    return true;
  }),
              "not every channel closed on both sides: %s",
              [&] {
                std::string out;
                for (int i = 0; i < kChannels; i++) {
                  Recorder* theirs = in_b.find("a" + std::to_string(i));
                  out += "a" + std::to_string(i) + "(id " +
                         std::to_string(mine_a[static_cast<size_t>(i)]->id()) + ") A " +
                         std::to_string(mine_a[static_cast<size_t>(i)]->state()) + " B " +
                         std::to_string(theirs->state()) + "; ";
                }
                return out;
              }()
                  .c_str());
  for (int i = 0; i < kChannels; i++)
    fail_unless_equals_int(mine_a[static_cast<size_t>(i)]->state(),
                           GST_WEBRTC_DATA_CHANNEL_STATE_CLOSED);
  fail_unless_equals_uint64(a.stat("data-channels-closed"), kChannels);
  fail_unless_equals_uint64(b.stat("data-channels-closed"), kChannels);
  // B's channels are still open and work.
  mine_b[0]->send_string("still here");
  fail_unless(pair.wait_until([&] { return in_a.find("b0")->count_strings() == 1; }));
}
GST_END_TEST

// A pre-negotiated channel (negotiated=true, id agreed by the application): no DCEP, open on
// both sides once the association is up, created before connected on one side and after on
// the other. No on-data-channel for it.
GST_START_TEST(test_pre_negotiated_channel) {
  Pair pair(kDataOnly, kDataOnly);
  Side& a = pair.a();
  Side& b = pair.b();
  Incoming in_a(a.bin), in_b(b.bin);
  auto options = [] {
    return gst_structure_new("options", "negotiated", G_TYPE_BOOLEAN, TRUE, "id", G_TYPE_INT, 7,
                             nullptr);
  };
  GObject* ca = create_channel(a.bin, "neg", options());
  fail_unless(ca != nullptr);
  Recorder ra(ca);
  g_object_unref(ca);
  fail_unless_equals_int(ra.state(), GST_WEBRTC_DATA_CHANNEL_STATE_CONNECTING);
  connect_pair(pair);
  GObject* cb = create_channel(b.bin, "neg", options());
  Recorder rb(cb);
  g_object_unref(cb);
  fail_unless(wait_open(pair, ra));
  fail_unless(wait_open(pair, rb));
  fail_unless_equals_int(ra.id(), 7);
  ra.send_string("hello 7");
  rb.send_string("hello back");
  fail_unless(pair.wait_until([&] { return rb.count_strings() == 1 && ra.count_strings() == 1; }));
  fail_unless_equals_string(rb.strings[0].c_str(), "hello 7");
  fail_unless_equals_int(in_a.size(), 0);
  fail_unless_equals_int(in_b.size(), 0);
  // negotiated without an id is misuse: refused with a warning that says why.
  fail_unless(create_channel(a.bin, "noid",
                             gst_structure_new("options", "negotiated", G_TYPE_BOOLEAN, TRUE,
                                               nullptr)) == nullptr);
  pair.pump();
  fail_unless(a.has_warning({"negotiated", "id"}), "%s", a.describe().c_str());
}
GST_END_TEST

// A negotiated channel's peer may send as soon as its own side is open: what arrives before this
// side has opened the channel is kept and delivered in order once it is open, never dropped.
// Each side sends from its on-open handler and then holds the shared thread (where the other
// side's channel would open) for a moment, so whichever opens first sends to one not yet open.
GST_START_TEST(test_negotiated_channel_keeps_messages_sent_before_it_opens) {
  Pair pair(kDataOnly, kDataOnly);
  auto options = [] {
    return gst_structure_new("options", "negotiated", G_TYPE_BOOLEAN, TRUE, "id", G_TYPE_INT, 9,
                             nullptr);
  };
  GObject* ca = create_channel(pair.a().bin, "neg", options());
  GObject* cb = create_channel(pair.b().bin, "neg", options());
  fail_unless(ca != nullptr && cb != nullptr);
  Recorder ra(ca), rb(cb);
  for (GObject* channel : {ca, cb})
    g_signal_connect(channel, "on-open", G_CALLBACK(+[](GObject* c, gpointer) {
                       for (const char* text : {"one", "two", "three"})
                         g_signal_emit_by_name(c, "send-string", text);
                       g_usleep(300 * 1000);
                     }),
                     nullptr);
  g_object_unref(ca);
  g_object_unref(cb);
  connect_pair(pair);
  fail_unless(pair.wait_until([&] { return ra.count_strings() >= 3 && rb.count_strings() >= 3; }),
              "received: A %zu, B %zu of 3", ra.count_strings(), rb.count_strings());
  for (Recorder* r : {&ra, &rb}) {
    std::lock_guard lock(r->mutex);
    fail_unless_equals_int(r->strings.size(), 3);
    fail_unless_equals_string(r->strings[0].c_str(), "one");
    fail_unless_equals_string(r->strings[2].c_str(), "three");
  }
}
GST_END_TEST

// Configured by properties only, a bin runs SCTP only when its application uses data channels:
// with no channel created and no on-data-channel handler, neither side sends any SCTP packet
// (a peer without data channels, webrtcbin among them, fails on DTLS application data it has no
// SCTP transport for). A channel created once connected starts the association then.
GST_START_TEST(test_sctp_only_when_data_channels_are_used) {
  Pair pair(kDataOnly, kDataOnly);
  Side& a = pair.a();
  Side& b = pair.b();
  connect_pair(pair);
  g_usleep(500 * 1000);
  pair.pump();
  for (Side* side : {&a, &b}) {
    fail_unless_equals_uint64(side->stat("sctp-packets-sent"), 0);
    fail_unless_equals_uint64(side->stat("sctp-packets-received"), 0);
  }
  auto options = [] {
    return gst_structure_new("options", "negotiated", G_TYPE_BOOLEAN, TRUE, "id", G_TYPE_INT, 3,
                             nullptr);
  };
  GObject* ca = create_channel(a.bin, "late", options());
  GObject* cb = create_channel(b.bin, "late", options());
  fail_unless(ca != nullptr && cb != nullptr);
  Recorder ra(ca), rb(cb);
  g_object_unref(ca);
  g_object_unref(cb);
  fail_unless(wait_open(pair, ra));
  fail_unless(wait_open(pair, rb));
  ra.send_string("late but here");
  fail_unless(pair.wait_until([&] { return rb.count_strings() == 1; }));
  fail_unless(a.stat("sctp-packets-sent") > 0);
}
GST_END_TEST

// Documented: a channel created before DTLS is connected waits in `connecting`; a send then is
// refused (on-error, nothing queued); once connected it opens and works.
GST_START_TEST(test_data_before_connected_refused) {
  Pair pair(kDataOnly, kDataOnly);
  Side& a = pair.a();
  Side& b = pair.b();
  Incoming incoming(b.bin);
  GObject* channel = create_channel(a.bin, "early");
  Recorder local(channel);
  g_object_unref(channel);
  local.send_string("too early");
  fail_unless_equals_int(local.count_errors(), 1);
  fail_unless_equals_int(local.state(), GST_WEBRTC_DATA_CHANNEL_STATE_CONNECTING);
  fail_unless_equals_int(local.id(), -1);  // parity depends on the DTLS role, unknown yet
  connect_pair(pair);
  fail_unless(wait_open(pair, local));
  local.send_string("on time");
  fail_unless(
      pair.wait_until([&] { return incoming.size() == 1 && incoming.at(0).count_strings() == 1; }));
  fail_unless_equals_string(incoming.at(0).strings[0].c_str(), "on time");
  fail_unless_equals_uint64(a.stat("messages-refused"), 1);
}
GST_END_TEST

// Fail-closed: B's remote fingerprint is wrong. No SCTP packet is ever produced or sent by
// either side (no SCTP association exists before the peer is verified): no DTLS application-data
// record crosses either nicesink, sctp-packets-sent and -dropped stay 0; the channel created
// before never opens and is closed when DTLS fails; a send on it is refused.
GST_START_TEST(test_wrong_fingerprint_no_sctp) {
  PairOptions options;
  options.exchange_fingerprints = false;
  Pair pair(kDataOnly, kDataOnly, options);
  Side& a = pair.a();
  Side& b = pair.b();
  for (Side* side : {&a, &b})
    fail_unless(gst_element_set_state(side->pipeline, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
  std::atomic<int> app_records{0};
  for (Side* side : {&a, &b}) {
    GstElement* sink = nullptr;
    GstIterator* it = gst_bin_iterate_recurse(GST_BIN(side->bin));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
      auto* e = GST_ELEMENT(g_value_get_object(&item));
      if (g_str_has_prefix(GST_OBJECT_NAME(e), "nicesink")) sink = e;
      g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
    fail_unless(sink != nullptr);
    GstPad* pad = gst_element_get_static_pad(sink, "sink");
    gst_pad_add_probe(
        pad, GST_PAD_PROBE_TYPE_BUFFER,
        +[](GstPad*, GstPadProbeInfo* info, gpointer data) {
          GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
          guint8 first = 0;
          // content type 23: application_data (RFC 6347 §4.1)
          if (gst_buffer_extract(buffer, 0, &first, 1) == 1 && first == 23)
            (*static_cast<std::atomic<int>*>(data))++;
          return GST_PAD_PROBE_OK;
        },
        &app_records, nullptr);
    gst_object_unref(pad);
  }
  pair.exchange_fingerprints(b, a);
  std::string forged = a.string_property("local-fingerprint");
  forged.back() = forged.back() == '0' ? '1' : '0';
  g_object_set(b.bin, "remote-fingerprints", forged.c_str(), nullptr);
  GObject* channel = create_channel(b.bin, "never");
  Recorder early(channel);
  g_object_unref(channel);
  pair.start();
  fail_unless(pair.wait_state(b, kFailed), "B not failed:\n%s", b.describe().c_str());
  pair.settle(500 * 1000);
  fail_unless_equals_int(app_records.load(), 0);
  for (Side* side : {&a, &b}) {
    fail_unless_equals_uint64(side->stat("sctp-packets-sent"), 0);
    fail_unless_equals_uint64(side->stat("sctp-packets-dropped"), 0);
  }
  fail_unless(early.state() != GST_WEBRTC_DATA_CHANNEL_STATE_OPEN);
  early.send_string("after failure");
  fail_unless(early.count_errors() >= 1);
}
GST_END_TEST

// Media and data at once over one association (standard pipelines: RTP both ways), and data
// channel messages in between.
GST_START_TEST(test_media_and_data) {
  Pair pair;
  Side& a = pair.a();
  Side& b = pair.b();
  Incoming incoming(b.bin);
  connect_pair(pair);
  GObject* channel = create_channel(a.bin, "control");
  Recorder local(channel);
  g_object_unref(channel);
  fail_unless(wait_open(pair, local));
  fail_unless(pair.wait_until([&] { return incoming.size() == 1; }));
  for (int round = 0; round < 5; round++) {
    send_rtp_and_check(a, b, 10, 0x0a0000d1, static_cast<uint16_t>(100 + round * 10));
    local.send_string(("keyframe please " + std::to_string(round)).c_str());
    send_rtp_and_check(b, a, 10, 0x0b0000d1, static_cast<uint16_t>(100 + round * 10));
  }
  fail_unless(pair.wait_until([&] { return incoming.at(0).count_strings() == 5; }));
  fail_unless_equals_uint64(b.stat("packets-received"), 50);
  fail_unless_equals_uint64(b.stat("dropped-malformed"), 0);
}
GST_END_TEST

// After stop (close_notify), channels close on both sides and sends are refused and counted.
GST_START_TEST(test_stop_closes_channels) {
  Pair pair(kDataOnly, kDataOnly);
  Side& a = pair.a();
  Side& b = pair.b();
  Incoming incoming(b.bin);
  connect_pair(pair);
  GObject* channel = create_channel(a.bin, "bye");
  Recorder local(channel);
  g_object_unref(channel);
  fail_unless(wait_open(pair, local));
  fail_unless(pair.wait_until([&] { return incoming.size() == 1; }));
  g_signal_emit_by_name(a.bin, "stop");
  fail_unless(pair.wait_until(
      [&] { return local.count_closed() == 1 && incoming.at(0).count_closed() == 1; }));
  local.send_string("after stop");
  fail_unless_equals_int(local.count_errors(), 1);
  fail_unless_equals_uint64(a.stat("messages-refused"), 1);
}
GST_END_TEST

// buffered-amount counts what SCTP has not taken yet and returns to 0; on-buffered-amount-low
// fires when it falls to the threshold. The channel's options reach the peer through
// DATA_CHANNEL_OPEN: max-retransmits, priority, protocol.
GST_START_TEST(test_buffered_amount_and_options) {
  Pair pair(kDataOnly, kDataOnly);
  Side& a = pair.a();
  Side& b = pair.b();
  Incoming incoming(b.bin);
  connect_pair(pair);
  GObject* channel =
      create_channel(a.bin, "opts",
                     gst_structure_new("options", "max-retransmits", G_TYPE_INT, 0, "priority",
                                       GST_TYPE_WEBRTC_PRIORITY_TYPE, GST_WEBRTC_PRIORITY_TYPE_HIGH,
                                       "protocol", G_TYPE_STRING, "chat-v1", nullptr));
  fail_unless(channel != nullptr);
  Recorder local(channel);
  g_object_unref(channel);
  fail_unless(wait_open(pair, local));
  fail_unless(pair.wait_until([&] { return incoming.size() == 1; }));
  Recorder& remote = incoming.at(0);
  gint retransmits = -2, lifetime = -2, priority = 0;
  gchar* protocol = nullptr;
  g_object_get(remote.channel, "max-retransmits", &retransmits, "max-packet-lifetime", &lifetime,
               "priority", &priority, "protocol", &protocol, nullptr);
  fail_unless_equals_int(retransmits, 0);
  fail_unless_equals_int(lifetime, -1);
  fail_unless_equals_int(priority, GST_WEBRTC_PRIORITY_TYPE_HIGH);
  fail_unless_equals_string(protocol, "chat-v1");
  g_free(protocol);

  g_object_set(local.channel, "buffered-amount-low-threshold", G_GUINT64_CONSTANT(1000), nullptr);
  for (int i = 0; i < 20; i++)
    local.send_data(std::vector<uint8_t>(60000, static_cast<uint8_t>(i)));
  fail_unless(pair.wait_until([&] {
    guint64 amount = 1;
    g_object_get(local.channel, "buffered-amount", &amount, nullptr);
    std::lock_guard lock(local.mutex);
    return amount == 0 && local.low >= 1;
  }),
              "buffered-amount never drained or on-buffered-amount-low never came");
}
GST_END_TEST

// Handlers may act on the bin from the threads signals come from: close a channel from its
// on-buffered-amount-low (the appsrc's streaming thread) and stop the bin from on-message-string
// (sctpdec's streaming thread). Neither may deadlock or try to stop a task from itself.
GST_START_TEST(test_actions_from_channel_handlers) {
  Pair pair(kDataOnly, kDataOnly);
  Side& a = pair.a();
  Side& b = pair.b();
  Incoming incoming(b.bin);
  connect_pair(pair);
  GObject* channel = create_channel(a.bin, "handlers");
  Recorder local(channel);
  g_object_unref(channel);
  fail_unless(wait_open(pair, local));
  fail_unless(pair.wait_until([&] { return incoming.size() == 1; }));
  g_signal_connect(local.channel, "on-buffered-amount-low",
                   G_CALLBACK(+[](GObject* c, gpointer) { g_signal_emit_by_name(c, "close"); }),
                   nullptr);
  local.send_string("first");
  fail_unless(pair.wait_until([&] { return local.count_closed() == 1; }),
              "closing from on-buffered-amount-low did not close (state %d)", local.state());

  GObject* second = create_channel(a.bin, "bye");
  Recorder bye(second);
  g_object_unref(second);
  fail_unless(wait_open(pair, bye));
  fail_unless(pair.wait_until([&] { return incoming.size() == 2; }));
  g_signal_connect(incoming.at(1).channel, "on-message-string",
                   G_CALLBACK(+[](GObject*, const char*, GstElement* bin) {
                     g_signal_emit_by_name(bin, "stop");
                   }),
                   b.bin);
  bye.send_string("bye");
  fail_unless(pair.wait_both(kClosed), "not closed after stop from a handler:\n%s\n%s",
              a.describe().c_str(), b.describe().c_str());
  fail_unless(pair.wait_until([&] { return bye.count_closed() == 1; }));
}
GST_END_TEST

// ready-state stays connecting until the peer's DATA_CHANNEL_ACK: here the peer refuses our
// OPEN because the stream is already in use on its side (its pre-negotiated channel id 1; A, the
// DTLS server, picks 1 for its first channel). The refusal is counted (dcep-malformed) and the
// channel never opens: a send on it is refused.
GST_START_TEST(test_open_waits_for_ack) {
  Pair pair(kDataOnly, kDataOnly);
  Side& a = pair.a();
  Side& b = pair.b();
  Incoming incoming(b.bin);
  Incoming incoming_a(a.bin);  // A listens too: its association runs from connected on
  connect_pair(pair);
  GObject* taken = create_channel(b.bin, "taken",
                                  gst_structure_new("options", "negotiated", G_TYPE_BOOLEAN, TRUE,
                                                    "id", G_TYPE_INT, 1, nullptr));
  fail_unless(taken != nullptr);
  Recorder b_taken(taken);
  g_object_unref(taken);
  fail_unless(wait_open(pair, b_taken));
  GObject* channel = create_channel(a.bin, "refused");
  Recorder local(channel);
  g_object_unref(channel);
  fail_unless(pair.wait_until([&] { return b.stat("dcep-malformed") == 1; }),
              "B did not refuse the OPEN on its stream in use");
  fail_unless_equals_int(local.id(), 1);
  pair.settle(300 * 1000);
  fail_unless_equals_int(local.state(), GST_WEBRTC_DATA_CHANNEL_STATE_CONNECTING);
  fail_unless_equals_int(incoming.size(), 0);
  local.send_string("not yet");
  fail_unless_equals_int(local.count_errors(), 1);
}
GST_END_TEST

static Suite* element_datachannel_suite(void) {
  Suite* s = suite_create("element_datachannel");
  TCase* tc = tcase_create("datachannel");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_open_and_strings_both_ways);
  tcase_add_test(tc, test_binary_unordered_opened_by_other_side);
  tcase_add_test(tc, test_large_message);
  tcase_add_test(tc, test_larger_than_max_message_size_refused);
  tcase_add_test(tc, test_many_channels_and_close_from_either_side);
  tcase_add_test(tc, test_pre_negotiated_channel);
  tcase_add_test(tc, test_negotiated_channel_keeps_messages_sent_before_it_opens);
  tcase_add_test(tc, test_sctp_only_when_data_channels_are_used);
  tcase_add_test(tc, test_data_before_connected_refused);
  tcase_add_test(tc, test_wrong_fingerprint_no_sctp);
  tcase_add_test(tc, test_media_and_data);
  tcase_add_test(tc, test_stop_closes_channels);
  tcase_add_test(tc, test_buffered_amount_and_options);
  tcase_add_test(tc, test_actions_from_channel_handlers);
  tcase_add_test(tc, test_open_waits_for_ack);
  suite_add_tcase(s, tc);
  return s;
}

GST_CHECK_MAIN(element_datachannel)
