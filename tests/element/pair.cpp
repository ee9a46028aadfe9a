#include "pair.h"

#include <dirent.h>
#include <gst/check/gstcheck.h>
#include <unistd.h>

#include <cstring>
#include <map>

namespace elemtest {

namespace {

const char kStandardSide[] =
    "appsrc name=rtp_in is-live=true format=time caps=application/x-rtp ! dtls.rtp_sink "
    "appsrc name=rtcp_in is-live=true format=time caps=application/x-rtcp ! dtls.rtcp_sink "
    "dtlstransportbin name=dtls local-addresses=127.0.0.1 "
    "dtls.rtp_src ! appsink name=rtp_out sync=false async=false "
    "dtls.rtcp_src ! appsink name=rtcp_out sync=false async=false";

GstPadProbeReturn count_probe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* counter = static_cast<Counter*>(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    counter->buffers += gst_buffer_list_length(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
  else
    counter->buffers += 1;
  return GST_PAD_PROBE_OK;
}

void on_state_changed(GstElement*, gint state, gpointer data) {
  static_cast<Side*>(data)->record_state_change(state);
}

// Trickle: hand each gathered candidate to the peer at once (runs on libnice's context thread
// or on the thread changing the state).
void on_local_candidate(GstElement*, const gchar* candidate, gpointer peer) {
  gboolean accepted = FALSE;
  g_signal_emit_by_name(peer, "add-remote-candidate", candidate, &accepted);
}

GstElement* by_name(GstElement* pipeline, const char* name) {
  return gst_bin_get_by_name(GST_BIN(pipeline), name);  // new ref, or nullptr
}

std::string lower(std::string text) {
  for (auto& c : text) c = g_ascii_tolower(c);
  return text;
}

}  // namespace

const char* state_name(int state) {
  static const char* const names[] = {"new", "connecting", "connected", "closed", "failed"};
  return state >= 0 && state < 5 ? names[state] : "?";
}

// --- Side -------------------------------------------------------------------------------------

Side::Side(const char* name) : label(name) {}

Side::~Side() {
  if (pipeline) gst_element_set_state(pipeline, GST_STATE_NULL);
  for (GstElement* element : {rtp_in, rtcp_in, rtp_out, rtcp_out, bin})
    if (element) gst_object_unref(element);
  if (pipeline) gst_object_unref(pipeline);
}

void Side::record_state_change(int state) {
  std::lock_guard lock(mutex_);
  state_changes_.push_back(state);
}

std::vector<int> Side::state_changes() const {
  std::lock_guard lock(mutex_);
  return state_changes_;
}

int Side::count_state_changes(int state) const {
  int n = 0;
  for (int s : state_changes()) n += s == state;
  return n;
}

int Side::enum_property(const char* name) const {
  gint value = -1;
  g_object_get(bin, name, &value, nullptr);
  return value;
}

int Side::state() const { return enum_property("state"); }

std::string Side::string_property(const char* name) const {
  gchar* value = nullptr;
  g_object_get(bin, name, &value, nullptr);
  std::string out = value ? value : "";
  g_free(value);
  return out;
}

uint64_t Side::stat(const char* field) const {
  GstStructure* stats = nullptr;
  g_object_get(bin, "stats", &stats, nullptr);
  fail_unless(stats != nullptr, "%s: stats is NULL", label.c_str());
  guint64 value = 0;
  gboolean found = gst_structure_get_uint64(stats, field, &value);
  gst_structure_free(stats);
  fail_unless(found, "%s: stats lack the uint64 field %s", label.c_str(), field);
  return value;
}

bool Side::has_warning(std::initializer_list<const char*> needles) const {
  for (const auto& warning : warnings) {
    std::string text = lower(warning);
    bool all = true;
    for (const char* needle : needles) all = all && text.find(lower(needle)) != std::string::npos;
    if (all) return true;
  }
  return false;
}

std::string Side::describe() const {
  std::string out = label + ": state " + state_name(state()) + ", ice-state " +
                    std::to_string(enum_property("ice-state")) + ", gathering " +
                    std::to_string(enum_property("ice-gathering-state"));
  for (const auto& w : warnings) out += "\n  warning: " + w;
  for (const auto& e : errors) out += "\n  ERROR: " + e;
  return out;
}

Counter* Side::count_buffers(GstElement* element, const char* pad_name) {
  GstPad* pad = gst_element_get_static_pad(element, pad_name);
  fail_unless(pad != nullptr, "%s: no pad %s", label.c_str(), pad_name);
  std::lock_guard lock(mutex_);
  counters_.push_back(std::make_unique<Counter>());
  Counter* counter = counters_.back().get();
  gst_pad_add_probe(
      pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      count_probe, counter, nullptr);
  gst_object_unref(pad);
  return counter;
}

// --- Pair -------------------------------------------------------------------------------------

Pair::Pair(PairOptions options) : Pair(kStandardSide, kStandardSide, options) {
  for (Side* side : {a_.get(), b_.get()}) {
    side->rtp_in = by_name(side->pipeline, "rtp_in");
    side->rtcp_in = by_name(side->pipeline, "rtcp_in");
    side->rtp_out = by_name(side->pipeline, "rtp_out");
    side->rtcp_out = by_name(side->pipeline, "rtcp_out");
    fail_unless(side->rtp_in && side->rtcp_in && side->rtp_out && side->rtcp_out);
    side->rtp_out_count = side->count_buffers(side->rtp_out, "sink");
  }
}

Pair::Pair(const std::string& a_description, const std::string& b_description, PairOptions options)
    : options_(options), a_(std::make_unique<Side>("A")), b_(std::make_unique<Side>("B")) {
  for (auto [side, description] :
       {std::pair{a_.get(), &a_description}, std::pair{b_.get(), &b_description}}) {
    GError* error = nullptr;
    side->pipeline = gst_parse_launch(description->c_str(), &error);
    fail_unless(side->pipeline != nullptr && error == nullptr, "%s: cannot build '%s': %s",
                side->label.c_str(), description->c_str(), error ? error->message : "?");
    side->bin = by_name(side->pipeline, "dtls");
    fail_unless(side->bin != nullptr, "%s: no element named dtls", side->label.c_str());
    g_signal_connect(side->bin, "state-changed", G_CALLBACK(on_state_changed), side);
  }
  g_object_set(a_->bin, "ice-controlling", options_.a_controlling, nullptr);
  g_object_set(b_->bin, "ice-controlling", options_.b_controlling, nullptr);
  if (options_.trickle) {
    g_signal_connect(a_->bin, "on-local-candidate", G_CALLBACK(on_local_candidate), b_->bin);
    g_signal_connect(b_->bin, "on-local-candidate", G_CALLBACK(on_local_candidate), a_->bin);
  }
}

Pair::~Pair() {
  // Pipelines go to NULL (in ~Side) before either bin is dropped: the trickle handlers point
  // at the peer bin.
  for (Side* side : {a_.get(), b_.get()})
    if (side && side->pipeline) gst_element_set_state(side->pipeline, GST_STATE_NULL);
}

void Pair::pump() {
  for (Side* side : {a_.get(), b_.get()}) {
    GstBus* bus = gst_element_get_bus(side->pipeline);
    while (GstMessage* message = gst_bus_pop(bus)) {
      if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING ||
          GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
        GError* error = nullptr;
        gchar* debug = nullptr;
        if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING)
          gst_message_parse_warning(message, &error, &debug);
        else
          gst_message_parse_error(message, &error, &debug);
        std::string text = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " +
                           (error ? error->message : "") + " (" + (debug ? debug : "") + ")";
        (GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING ? side->warnings : side->errors)
            .push_back(text);
        g_clear_error(&error);
        g_free(debug);
      }
      gst_message_unref(message);
    }
    gst_object_unref(bus);
  }
}

void Pair::settle(gint64 duration_us) {
  wait_until([] { return false; }, duration_us);
}

void Pair::exchange_fingerprints(Side& from, Side& to) {
  std::string fingerprint = from.string_property("local-fingerprint");
  fail_unless(!fingerprint.empty(), "%s: no local-fingerprint in READY", from.label.c_str());
  g_object_set(to.bin, "remote-fingerprints", fingerprint.c_str(), nullptr);
}

void Pair::exchange_candidates(Side& from, Side& to) {
  fail_unless(
      wait_until([&] { return from.enum_property("ice-gathering-state") == kGatheringComplete; }),
      "%s: gathering not complete", from.describe().c_str());
  gchar** candidates = nullptr;
  g_object_get(from.bin, "local-candidates", &candidates, nullptr);
  fail_unless(candidates && candidates[0], "%s: no local candidate on 127.0.0.1",
              from.label.c_str());
  gchar* joined = g_strjoinv(";", candidates);
  g_object_set(to.bin, "remote-candidates", joined, nullptr);
  g_free(joined);
  g_strfreev(candidates);
}

void Pair::start() {
  Side& a = *a_;
  Side& b = *b_;
  for (auto [from, to] : {std::pair{&a, &b}, std::pair{&b, &a}}) {
    std::string ufrag = from->string_property("local-ice-ufrag");
    std::string pwd = from->string_property("local-ice-pwd");
    g_object_set(to->bin, "remote-ice-ufrag", ufrag.c_str(), "remote-ice-pwd", pwd.c_str(),
                 nullptr);
  }
  for (Side* side : {&a, &b})
    fail_unless(gst_element_set_state(side->pipeline, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS,
                "%s: cannot go to READY", side->describe().c_str());
  if (options_.exchange_fingerprints) {
    exchange_fingerprints(a, b);
    exchange_fingerprints(b, a);
  }
  for (Side* side : {&a, &b})
    fail_unless(
        gst_element_set_state(side->pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE,
        "%s: cannot go to PLAYING", side->describe().c_str());
  if (!options_.trickle) {
    exchange_candidates(a, b);
    exchange_candidates(b, a);
  }
  pump();
}

void Pair::stop() {
  for (Side* side : {a_.get(), b_.get()}) {
    fail_unless(gst_element_set_state(side->pipeline, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS,
                "%s: cannot go to NULL", side->label.c_str());
    g_object_set(side->bin, "remote-candidates", nullptr, nullptr);
  }
  pump();
}

bool Pair::wait_state(Side& side, int state, gint64 limit_us) {
  return wait_until([&] { return side.state() == state; }, limit_us);
}

bool Pair::wait_both(int state, gint64 limit_us) {
  return wait_until([&] { return a_->state() == state && b_->state() == state; }, limit_us);
}

bool Pair::wait_connected(std::string* why, gint64 limit_us) {
  bool ok = wait_both(kConnected, limit_us);
  if (!ok && why) *why = a_->describe() + "\n" + b_->describe();
  return ok;
}

// --- Packets ----------------------------------------------------------------------------------

GstBuffer* make_rtp(uint16_t seq, size_t payload_size, uint32_t ssrc, uint8_t pt) {
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, 12 + payload_size, nullptr);
  GstMapInfo map;
  gst_buffer_map(buffer, &map, GST_MAP_WRITE);
  map.data[0] = 0x80;
  map.data[1] = pt & 0x7f;
  map.data[2] = seq >> 8;
  map.data[3] = seq & 0xff;
  uint32_t timestamp = seq * 3000u;
  for (int i = 0; i < 4; i++) {
    map.data[4 + i] = static_cast<uint8_t>(timestamp >> (24 - 8 * i));
    map.data[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  }
  for (size_t i = 0; i < payload_size; i++) map.data[12 + i] = static_cast<uint8_t>(seq * 7 + i);
  gst_buffer_unmap(buffer, &map);
  return buffer;
}

namespace {
void put32(uint8_t* p, uint32_t v) {
  p[0] = v >> 24;
  p[1] = (v >> 16) & 0xff;
  p[2] = (v >> 8) & 0xff;
  p[3] = v & 0xff;
}
}  // namespace

GstBuffer* make_pli(uint32_t sender_ssrc, uint32_t media_ssrc) {
  uint8_t pli[12] = {0x81, 206, 0, 2};  // V=2 P=0 FMT=1, PT=PSFB, length 2 words
  put32(pli + 4, sender_ssrc);
  put32(pli + 8, media_ssrc);
  return gst_buffer_new_memdup(pli, sizeof pli);
}

GstBuffer* make_sr(uint32_t ssrc, uint32_t packet_count) {
  uint8_t sr[28] = {0x80, 200, 0, 6};  // V=2 RC=0, PT=SR, length 6 words
  put32(sr + 4, ssrc);
  put32(sr + 8, 0xe1234567u);   // NTP seconds
  put32(sr + 12, 0x89abcdefu);  // NTP fraction
  put32(sr + 16, 123456u);      // RTP timestamp
  put32(sr + 20, packet_count);
  put32(sr + 24, packet_count * 100u);
  return gst_buffer_new_memdup(sr, sizeof sr);
}

void push(GstElement* appsrc, GstBuffer* buffer) {
  fail_unless_equals_int(gst_app_src_push_buffer(GST_APP_SRC(appsrc), buffer), GST_FLOW_OK);
}

GstBuffer* pull(GstElement* appsink, gint64 limit_us) {
  GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(appsink), limit_us * GST_USECOND);
  if (!sample) return nullptr;
  GstBuffer* buffer = gst_buffer_ref(gst_sample_get_buffer(sample));
  gst_sample_unref(sample);
  return buffer;
}

bool same_bytes(GstBuffer* a, GstBuffer* b) {
  GstMapInfo ma, mb;
  gst_buffer_map(a, &ma, GST_MAP_READ);
  gst_buffer_map(b, &mb, GST_MAP_READ);
  bool same = ma.size == mb.size && memcmp(ma.data, mb.data, ma.size) == 0;
  gst_buffer_unmap(a, &ma);
  gst_buffer_unmap(b, &mb);
  return same;
}

void send_rtp_and_check(Side& from, Side& to, unsigned count, uint32_t ssrc, uint16_t first_seq) {
  for (unsigned i = 0; i < count; i++) {
    GstBuffer* sent = make_rtp(static_cast<uint16_t>(first_seq + i), 100 + 10 * i, ssrc);
    push(from.rtp_in, gst_buffer_ref(sent));
    GstBuffer* received = pull(to.rtp_out);
    fail_unless(received != nullptr, "RTP %u from %s did not arrive at %s\n%s\n%s", i,
                from.label.c_str(), to.label.c_str(), from.describe().c_str(),
                to.describe().c_str());
    fail_unless(same_bytes(sent, received), "RTP %u from %s arrived altered (%zu vs %zu bytes)", i,
                from.label.c_str(), gst_buffer_get_size(received), gst_buffer_get_size(sent));
    gst_buffer_unref(sent);
    gst_buffer_unref(received);
  }
}

void send_rtcp_and_check(Side& from, Side& to, GstBuffer* packet, bool action) {
  if (action) {
    gboolean sent = FALSE;
    g_signal_emit_by_name(from.bin, "send-rtcp", packet, &sent);
    fail_unless(sent, "%s: send-rtcp returned FALSE while connected", from.label.c_str());
  } else {
    push(from.rtcp_in, gst_buffer_ref(packet));
  }
  GstBuffer* received = pull(to.rtcp_out);
  fail_unless(received != nullptr, "RTCP (%s) from %s did not arrive at %s",
              action ? "send-rtcp" : "rtcp_sink", from.label.c_str(), to.label.c_str());
  fail_unless(same_bytes(packet, received), "RTCP from %s arrived altered (%zu vs %zu bytes)",
              from.label.c_str(), gst_buffer_get_size(received), gst_buffer_get_size(packet));
  gst_buffer_unref(received);
  gst_buffer_unref(packet);
}

int open_fd_count() {
  int n = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (readdir(dir)) n++;
    closedir(dir);
  }
  return n;
}

std::string open_fd_summary() {
  std::map<std::string, int> kinds;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      char target[256] = {0};
      std::string path = std::string("/proc/self/fd/") + entry->d_name;
      ssize_t n = readlink(path.c_str(), target, sizeof target - 1);
      std::string kind = n > 0 ? std::string(target, static_cast<size_t>(n)) : "?";
      if (kind.rfind("socket:", 0) == 0) kind = "socket";
      kinds[kind]++;
    }
    closedir(dir);
  }
  std::string out;
  for (const auto& [kind, count] : kinds) out += kind + ": " + std::to_string(count) + ", ";
  return out;
}

}  // namespace elemtest
