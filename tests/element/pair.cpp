#include "pair.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <gst/check/gstcheck.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

namespace elemtest {

namespace {

const char kStandardSide[] =
    "appsrc name=rtp_in is-live=true format=time caps=application/x-rtp ! dtls.rtp_sink "
    "appsrc name=rtcp_in is-live=true format=time caps=application/x-rtcp ! "
    "dtls.rtcp_sink " BINPAIR_BIN
    " "
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

GstElement* by_name(GstElement* pipeline, const char* name) {
  return gst_bin_get_by_name(GST_BIN(pipeline), name);  // new ref, or nullptr
}

std::string lower(std::string text) {
  for (auto& c : text) c = g_ascii_tolower(c);
  return text;
}

}  // namespace

// --- Side -------------------------------------------------------------------------------------

Side::Side(const char* name) : Endpoint(name) {}

Side::~Side() {
  // Stopped first: the counting probes point at counters_, which go before ~Endpoint runs.
  if (pipeline) gst_element_set_state(pipeline, GST_STATE_NULL);
  for (GstElement* element : {rtp_in, rtcp_in, rtp_out, rtcp_out})
    if (element) gst_object_unref(element);
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

size_t Side::count_element_messages(const char* name) const {
  const std::string prefix = std::string(name) + ",";
  size_t count = 0;
  for (const auto& text : element_messages)
    if (text.rfind(prefix, 0) == 0 || text == name) count++;
  return count;
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
  for (Side* side : {&a(), &b()}) {
    side->rtp_in = by_name(side->pipeline, "rtp_in");
    side->rtcp_in = by_name(side->pipeline, "rtcp_in");
    side->rtp_out = by_name(side->pipeline, "rtp_out");
    side->rtcp_out = by_name(side->pipeline, "rtcp_out");
    fail_unless(side->rtp_in && side->rtcp_in && side->rtp_out && side->rtcp_out);
    side->rtp_out_count = side->count_buffers(side->rtp_out, "sink");
  }
}

Pair::Pair(const std::string& a_description, const std::string& b_description, PairOptions options)
    : BinPair(std::make_unique<Side>("A"), std::make_unique<Side>("B")), options_(options) {
  std::string why;
  fail_unless(build(a_description, b_description, &why), "%s", why.c_str());
  for (Side* side : {&a(), &b()})
    g_signal_connect(side->bin, "state-changed", G_CALLBACK(on_state_changed), side);
  set_controlling(options_.a_controlling, options_.b_controlling);
  if (options_.trickle) trickle_candidates();
}

// ~BinPair takes both pipelines to NULL before either side goes.
Pair::~Pair() = default;

void Pair::pump() {
  for (Side* side : {&a(), &b()}) {
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
      } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ELEMENT) {
        if (const GstStructure* structure = gst_message_get_structure(message)) {
          gchar* text = gst_structure_to_string(structure);
          side->element_messages.push_back(text);
          g_free(text);
        }
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
  std::string why;
  fail_unless(give_fingerprint(from, to, &why), "%s in READY", why.c_str());
}

void Pair::exchange_candidates(Side& from, Side& to) {
  std::string why;
  fail_unless(give_candidates(from, to, &why), "%s\n%s", why.c_str(), from.describe().c_str());
}

void Pair::start() {
  std::string why;
  exchange_ice_credentials();
  fail_unless(set_state(GST_STATE_READY, &why), "%s\n%s\n%s", why.c_str(), a().describe().c_str(),
              b().describe().c_str());
  if (options_.drop_first_client_hello)
    fail_unless(drop_first_client_hello(&why), "%s", why.c_str());
  if (options_.exchange_fingerprints) {
    exchange_fingerprints(a(), b());
    exchange_fingerprints(b(), a());
  }
  fail_unless(set_state(GST_STATE_PLAYING, &why), "%s\n%s\n%s", why.c_str(), a().describe().c_str(),
              b().describe().c_str());
  if (!options_.trickle) {
    exchange_candidates(a(), b());
    exchange_candidates(b(), a());
  }
  pump();
}

void Pair::stop() {
  for (Side* side : {&a(), &b()}) {
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
  return wait_until([&] { return a().state() == state && b().state() == state; }, limit_us);
}

bool Pair::wait_connected(std::string* why, gint64 limit_us) {
  bool ok = wait_both(kConnected, limit_us);
  if (!ok && why) *why = a().describe() + "\n" + b().describe();
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

void send_rtcp(Side& from, GstBuffer* packet, bool action) {
  if (action) {
    gboolean sent = FALSE;
    g_signal_emit_by_name(from.bin, "send-rtcp", packet, &sent);
    fail_unless(sent, "%s: send-rtcp returned FALSE while connected", from.label.c_str());
  } else {
    push(from.rtcp_in, gst_buffer_ref(packet));
  }
}

void send_rtcp_and_check(Side& from, Side& to, GstBuffer* packet, bool action) {
  send_rtcp(from, packet, action);
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

namespace elemtest {

bool udp_port_free(guint port) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool free = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  close(fd);
  return free;
}

std::pair<guint, guint> two_free_udp_ports() {
  // Both sockets stay bound until both ports are known, so the two picks differ.
  int fds[2];
  guint ports[2];
  for (int i = 0; i < 2; i++) {
    fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
    fail_unless(fds[i] >= 0, "socket: %s", g_strerror(errno));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    fail_unless(bind(fds[i], reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                    getsockname(fds[i], reinterpret_cast<sockaddr*>(&address), &length) == 0,
                "bind to 127.0.0.1:0: %s", g_strerror(errno));
    ports[i] = ntohs(address.sin_port);
  }
  close(fds[0]);
  close(fds[1]);
  return {ports[0], ports[1]};
}

void silence(GstElement* bin) {
  GstElement* nicesink = gst_bin_get_by_name(GST_BIN(bin), "nicesink");
  fail_unless(nicesink != nullptr);
  GstPad* pad = gst_element_get_static_pad(nicesink, "sink");
  gst_pad_add_probe(
      pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      [](GstPad*, GstPadProbeInfo*, gpointer) { return GST_PAD_PROBE_DROP; }, nullptr, nullptr);
  gst_object_unref(pad);
  gst_object_unref(nicesink);
}

}  // namespace elemtest
