#include "gstdtlstransportendpoint.h"

#include <array>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <utility>

#include "packet_classifier.hpp"
#include "srtp_session.hpp"

GST_DEBUG_CATEGORY_STATIC(endpoint_debug);
#define GST_CAT_DEFAULT endpoint_debug

using dtlstransport::Clock;
using dtlstransport::DtlsState;
using dtlstransport::FailureReason;
using dtlstransport::PacketKind;
using dtlstransport::SrtpResult;
using dtlstransport::SrtpSession;

namespace gstdtls {
namespace {

struct PendingEvent {
  DtlsState state;
  FailureReason reason;
  std::string detail;
};

// Per media src pad, touched only by the nicesrc streaming thread (and by change_state while no
// streaming runs).
struct SrcPadState {
  bool started = false;
  int caps_pt = -1;              // payload type whose caps were last pushed; -1 none
  unsigned caps_generation = 0;  // pt-map generation those caps came from
};

}  // namespace

struct EndpointImpl {
  EndpointListener listener;

  // DTLS: the core is single-threaded by contract; this mutex serializes every call.
  std::mutex dtls_mutex;
  std::unique_ptr<dtlstransport::DtlsTransport> dtls;
  std::vector<PendingEvent> pending;
  // Events leave in the order the core produced them, whichever thread caused them: they are
  // queued here before dtls_mutex is released and one thread at a time drains the queue with no
  // lock held (two threads delivering their own batches could reorder connecting/connected).
  // A leaf lock.
  std::mutex deliver_mutex;
  std::deque<PendingEvent> outbox;
  bool delivering = false;
  GSource* timer = nullptr;
  dtlstransport::TimePoint started_at;
  std::atomic<bool> drop_first_client_hello{false};
  bool dropped_client_hello = false;

  // SRTP: one session, each direction serialized by its own mutex (srtp_session.hpp).
  std::mutex protect_mutex;
  std::mutex unprotect_mutex;
  SrtpSession srtp;
  std::atomic<bool> media_open{false};

  // Everything pushed on net_src (DTLS and SRTP), so sticky events precede data and pushes from
  // the DTLS timer, the receive thread and the send threads do not interleave inside nicesink.
  std::mutex net_mutex;
  bool network_open = false;
  bool net_started = false;

  std::mutex info_mutex;
  EndpointInfo info;  // non-counter fields

  std::atomic<uint64_t> packets_sent{0}, bytes_sent{0}, packets_received{0}, bytes_received{0};
  std::atomic<uint64_t> rtcp_packets_sent{0}, rtcp_packets_received{0};
  std::atomic<uint64_t> dropped_auth_failure{0}, dropped_replay{0}, dropped_no_keys{0},
      dropped_malformed{0};

  std::mutex pt_mutex;
  GstCaps* pt_map = nullptr;
  std::array<GstCaps*, 128> pt_cache{};
  std::atomic<unsigned> pt_generation{0};  // written under pt_mutex

  SrcPadState rtp_src_state, rtcp_src_state;

  ~EndpointImpl() {
    gst_caps_replace(&pt_map, nullptr);
    for (auto& caps : pt_cache) gst_caps_replace(&caps, nullptr);
  }
};

}  // namespace gstdtls

struct _GstDtlsTransportEndpoint {
  GstElement parent;
  GstPad* net_sink;
  GstPad* net_src;
  GstPad* rtp_sink;
  GstPad* rtcp_sink;
  GstPad* rtp_src;
  GstPad* rtcp_src;
  std::unique_ptr<gstdtls::EndpointImpl> impl;  // placement-constructed in init
};

G_DEFINE_TYPE(GstDtlsTransportEndpoint, gst_dtls_transport_endpoint, GST_TYPE_ELEMENT)

using gstdtls::rtcp_sink_template;
using gstdtls::rtcp_src_template;
using gstdtls::rtp_sink_template;
using gstdtls::rtp_src_template;

namespace {

using gstdtls::EndpointImpl;

GstStaticPadTemplate net_sink_template =
    GST_STATIC_PAD_TEMPLATE("net_sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
GstStaticPadTemplate net_src_template =
    GST_STATIC_PAD_TEMPLATE("net_src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

EndpointImpl& impl_of(GstDtlsTransportEndpoint* self) { return *self->impl; }

std::span<uint8_t> as_span(const GstMapInfo& map) { return {map.data, map.size}; }

// gst_pad_create_stream_id() refuses elements with several sink pads: make a unique id here.
void push_stream_start(GstPad* pad, const char* suffix) {
  gchar* stream_id = g_strdup_printf("%08x%08x/%s", g_random_int(), g_random_int(), suffix);
  gst_pad_push_event(pad, gst_event_new_stream_start(stream_id));
  g_free(stream_id);
}

// --- Network output -------------------------------------------------------------------------

// Takes `caps`: gst_event_new_caps() only adds its own reference.
void push_caps(GstPad* pad, GstCaps* caps) {
  gst_pad_push_event(pad, gst_event_new_caps(caps));
  gst_caps_unref(caps);
}

void ensure_net_started_locked(GstDtlsTransportEndpoint* self) {
  EndpointImpl& impl = impl_of(self);
  if (impl.net_started) return;
  push_stream_start(self->net_src, "net");
  push_caps(self->net_src, gst_caps_new_empty_simple("application/x-dtls-srtp"));
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_BYTES);
  gst_pad_push_event(self->net_src, gst_event_new_segment(&segment));
  impl.net_started = true;
}

// Hands a buffer (or list) to nicesink. Dropped unless PLAYING: nicesink blocks its caller while
// prerolling, and the caller may be the shared main context serving every transport.
void push_network(GstDtlsTransportEndpoint* self, GstBuffer* buffer, GstBufferList* list) {
  EndpointImpl& impl = impl_of(self);
  std::lock_guard lock(impl.net_mutex);
  if (!impl.network_open) {
    if (buffer) gst_buffer_unref(buffer);
    if (list) gst_buffer_list_unref(list);
    return;
  }
  ensure_net_started_locked(self);
  GstFlowReturn ret =
      buffer ? gst_pad_push(self->net_src, buffer) : gst_pad_push_list(self->net_src, list);
  if (ret != GST_FLOW_OK && ret != GST_FLOW_FLUSHING)
    GST_DEBUG_OBJECT(self, "network push: %s", gst_flow_get_name(ret));
}

// --- DTLS -----------------------------------------------------------------------------------

void rearm_timer_locked(EndpointImpl& impl) {
  if (!impl.timer) return;
  auto deadline = impl.dtls ? impl.dtls->next_timeout() : std::nullopt;
  if (!deadline) {
    g_source_set_ready_time(impl.timer, -1);
    return;
  }
  auto delta =
      std::chrono::duration_cast<std::chrono::microseconds>(*deadline - Clock::now()).count();
  // g_source ready times are CLOCK_MONOTONIC µs, the same clock as std::chrono::steady_clock.
  g_source_set_ready_time(impl.timer, g_get_monotonic_time() + std::max<int64_t>(delta, 0));
}

void update_info_locked(EndpointImpl& impl) {
  std::lock_guard lock(impl.info_mutex);
  auto& t = *impl.dtls;
  bool changed = impl.info.state != t.state() || impl.info.role != t.role();
  impl.info.state = t.state();
  impl.info.role = t.role();
  if (!changed) return;
  auto profile = t.srtp_profile();
  impl.info.srtp_profile = profile ? std::string(dtlstransport::openssl_name(*profile)) : "";
  impl.info.dtls_version = t.dtls_version();
  impl.info.cipher = t.cipher_suite();
  impl.info.remote_certificate_pem = t.remote_certificate_pem();
  if (t.state() == DtlsState::Connected && impl.info.handshake_ms < 0)
    impl.info.handshake_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - impl.started_at).count();
}

// Drains the outbox unless another thread is draining it (that thread then delivers our events
// too, after its own). A listener calling back into the endpoint only queues more.
void deliver(EndpointImpl& impl) {
  std::unique_lock lock(impl.deliver_mutex);
  if (impl.delivering) return;
  impl.delivering = true;
  while (!impl.outbox.empty()) {
    gstdtls::PendingEvent event = std::move(impl.outbox.front());
    impl.outbox.pop_front();
    lock.unlock();
    if (impl.listener.state_changed)
      impl.listener.state_changed(event.state, event.reason, event.detail);
    lock.lock();
  }
  impl.delivering = false;
}

// Runs one core call under the DTLS lock, then delivers its events with no lock held.
template <class F>
void with_dtls(GstDtlsTransportEndpoint* self, F&& call) {
  EndpointImpl& impl = impl_of(self);
  {
    std::lock_guard lock(impl.dtls_mutex);
    if (!impl.dtls) return;
    call(*impl.dtls);
    update_info_locked(impl);
    rearm_timer_locked(impl);
    std::lock_guard out(impl.deliver_mutex);
    for (auto& event : impl.pending) impl.outbox.push_back(std::move(event));
    impl.pending.clear();
  }
  deliver(impl);
}

bool is_client_hello(std::span<const uint8_t> datagram) {
  // DTLS record header is 13 bytes (RFC 6347 §4.1); content type 22 = handshake, then the
  // handshake message type, 1 = ClientHello.
  return datagram.size() > 13 && datagram[0] == 22 && datagram[13] == 1;
}

void on_send_datagram(GstDtlsTransportEndpoint* self, std::span<const uint8_t> datagram) {
  EndpointImpl& impl = impl_of(self);
  if (impl.drop_first_client_hello && !impl.dropped_client_hello && is_client_hello(datagram)) {
    impl.dropped_client_hello = true;
    GST_INFO_OBJECT(self, "test knob: dropping the first ClientHello");
    return;
  }
  GstBuffer* buffer = gst_buffer_new_memdup(datagram.data(), datagram.size());
  push_network(self, buffer, nullptr);
}

void on_srtp_keys(GstDtlsTransportEndpoint* self, const dtlstransport::SrtpKeys& keys) {
  EndpointImpl& impl = impl_of(self);
  std::scoped_lock lock(impl.protect_mutex, impl.unprotect_mutex);
  auto status = impl.srtp.set_keys(keys);
  if (!status) {
    GST_ERROR_OBJECT(self, "cannot install SRTP keys: %s", status.error().message.c_str());
    return;
  }
  impl.media_open = true;
}

gboolean timer_dispatch(GSource* source, GSourceFunc, gpointer);
void timer_finalize(GSource* source);

GSourceFuncs timer_funcs = {nullptr, nullptr, timer_dispatch, timer_finalize, nullptr, nullptr};

struct TimerSource {
  GSource source;
  GstDtlsTransportEndpoint* self;
};

gboolean timer_dispatch(GSource* source, GSourceFunc, gpointer) {
  auto* timer = reinterpret_cast<TimerSource*>(source);
  g_source_set_ready_time(source, -1);  // re-armed from next_timeout() below
  with_dtls(timer->self, [](auto& dtls) { dtls.handle_timeout(Clock::now()); });
  return G_SOURCE_CONTINUE;
}

void timer_finalize(GSource* source) {
  gst_object_unref(reinterpret_cast<TimerSource*>(source)->self);
}

// --- SRTP send path ---------------------------------------------------------------------------

// A read mapping of a buffer: of its one memory directly when it has one (what payloaders and
// appsrc give us), which skips gst_buffer_map's merge bookkeeping; else of the whole buffer.
class InputMap {
 public:
  explicit InputMap(GstBuffer* buffer) {
    if (gst_buffer_n_memory(buffer) == 1) {
      memory_ = gst_buffer_peek_memory(buffer, 0);
      ok_ = gst_memory_map(memory_, &map_, GST_MAP_READ);
    } else {
      buffer_ = buffer;
      ok_ = gst_buffer_map(buffer, &map_, GST_MAP_READ);
    }
  }
  ~InputMap() { release(); }
  InputMap(const InputMap&) = delete;
  InputMap& operator=(const InputMap&) = delete;
  bool ok() const { return ok_; }
  std::span<const uint8_t> bytes() const { return {map_.data, map_.size}; }
  void release() {
    if (!ok_) return;
    ok_ = false;
    if (memory_)
      gst_memory_unmap(memory_, &map_);
    else
      gst_buffer_unmap(buffer_, &map_);
  }

 private:
  GstMemory* memory_ = nullptr;
  GstBuffer* buffer_ = nullptr;
  GstMapInfo map_{};
  bool ok_ = false;
};

// One output buffer with trailer room, one copy, protected in place. nullptr when dropped.
// Built from one GstMemory mapped and resized directly, not through the buffer: the buffer-level
// map and resize (gst_buffer_map, gst_buffer_set_size) cost ≈ 1 000 instructions per packet more
// (callgrind, docs/performance.md), and this memory is ours alone until it is appended.
// Not a GstBufferPool: a pool's acquire/release pair signals its GstPoll whenever it runs dry,
// and the recycled buffers must be reset anyway; one malloc'd chunk is cheaper here.
GstBuffer* protect_one(GstDtlsTransportEndpoint* self, GstBuffer* input, bool rtcp) {
  EndpointImpl& impl = impl_of(self);
  if (!impl.media_open.load(std::memory_order_relaxed)) {
    impl.dropped_no_keys++;
    return nullptr;
  }
  InputMap in(input);
  if (!in.ok()) {
    impl.dropped_malformed++;
    return nullptr;
  }
  std::span<const uint8_t> packet = in.bytes();
  if (!(rtcp ? dtlstransport::is_valid_rtcp(packet) : dtlstransport::is_valid_rtp(packet))) {
    impl.dropped_malformed++;
    return nullptr;
  }
  size_t room = rtcp ? SrtpSession::kRtcpTrailerRoom : SrtpSession::kRtpTrailerRoom;
  GstMemory* memory = gst_allocator_alloc(nullptr, packet.size() + room, nullptr);
  GstMapInfo out;
  if (!gst_memory_map(memory, &out, GST_MAP_WRITE)) {
    gst_memory_unref(memory);
    impl.dropped_malformed++;
    return nullptr;
  }
  std::copy(packet.begin(), packet.end(), out.data);
  size_t length = packet.size();
  in.release();
  SrtpResult result;
  {
    std::lock_guard lock(impl.protect_mutex);
    result = rtcp ? impl.srtp.protect_rtcp(as_span(out), length)
                  : impl.srtp.protect_rtp(as_span(out), length);
  }
  gst_memory_unmap(memory, &out);
  if (result != SrtpResult::Ok) {
    gst_memory_unref(memory);
    if (result == SrtpResult::NoKeys)
      impl.dropped_no_keys++;
    else
      impl.dropped_malformed++;
    return nullptr;
  }
  gst_memory_resize(memory, 0, length);
  GstBuffer* output = gst_buffer_new();
  gst_buffer_append_memory(output, memory);
  // What GST_BUFFER_COPY_TIMESTAMPS copies, without gst_buffer_copy_into's generic path.
  GST_BUFFER_PTS(output) = GST_BUFFER_PTS(input);
  GST_BUFFER_DTS(output) = GST_BUFFER_DTS(input);
  GST_BUFFER_DURATION(output) = GST_BUFFER_DURATION(input);
  GST_BUFFER_OFFSET(output) = GST_BUFFER_OFFSET(input);
  GST_BUFFER_OFFSET_END(output) = GST_BUFFER_OFFSET_END(input);
  (rtcp ? impl.rtcp_packets_sent : impl.packets_sent).fetch_add(1, std::memory_order_relaxed);
  impl.bytes_sent.fetch_add(length, std::memory_order_relaxed);
  return output;
}

GstFlowReturn send_chain(GstPad* pad, GstObject* parent, GstBuffer* buffer) {
  auto* self = GST_DTLS_TRANSPORT_ENDPOINT(parent);
  GstBuffer* output = protect_one(self, buffer, pad == self->rtcp_sink);
  gst_buffer_unref(buffer);
  if (output) push_network(self, output, nullptr);
  return GST_FLOW_OK;  // drops are counted, never a flow error
}

GstFlowReturn send_chain_list(GstPad* pad, GstObject* parent, GstBufferList* list) {
  auto* self = GST_DTLS_TRANSPORT_ENDPOINT(parent);
  bool rtcp = pad == self->rtcp_sink;
  guint n = gst_buffer_list_length(list);
  GstBufferList* output = gst_buffer_list_new_sized(n);
  for (guint i = 0; i < n; i++) {
    if (GstBuffer* protected_buffer = protect_one(self, gst_buffer_list_get(list, i), rtcp))
      gst_buffer_list_add(output, protected_buffer);
  }
  gst_buffer_list_unref(list);
  if (gst_buffer_list_length(output) > 0)
    push_network(self, nullptr, output);
  else
    gst_buffer_list_unref(output);
  return GST_FLOW_OK;
}

gboolean sink_event(GstPad* pad, GstObject* parent, GstEvent* event) {
  // Media sink events (caps, segment, EOS…) end here: the network side has its own stream, and
  // an upstream EOS must not end the transport.
  GST_LOG_OBJECT(pad, "consuming %s", GST_EVENT_TYPE_NAME(event));
  (void)parent;
  gst_event_unref(event);
  return TRUE;
}

// --- Receive path -----------------------------------------------------------------------------

GstCaps* caps_for_pt(GstDtlsTransportEndpoint* self, guint pt) {
  EndpointImpl& impl = impl_of(self);
  GstCaps* map = nullptr;
  unsigned generation;
  {
    std::lock_guard lock(impl.pt_mutex);
    if (impl.pt_cache[pt]) return gst_caps_ref(impl.pt_cache[pt]);
    if (impl.pt_map) map = gst_caps_ref(impl.pt_map);
    generation = impl.pt_generation;
  }
  GstCaps* caps = nullptr;
  if (map) {
    for (guint i = 0; i < gst_caps_get_size(map) && !caps; i++) {
      const GstStructure* s = gst_caps_get_structure(map, i);
      int payload;
      if (gst_structure_get_int(s, "payload", &payload) && payload == static_cast<int>(pt)) {
        GstStructure* copy = gst_structure_copy(s);
        gst_structure_set_name(copy, "application/x-rtp");
        caps = gst_caps_new_full(copy, nullptr);
      }
    }
    gst_caps_unref(map);
  }
  if (!caps && impl.listener.request_pt_map) {
    caps = impl.listener.request_pt_map(pt);  // a signal: no lock held
    if (caps) {
      caps = gst_caps_make_writable(caps);
      if (gst_caps_get_size(caps) > 0) {
        GstStructure* s = gst_caps_get_structure(caps, 0);
        gst_structure_set_name(s, "application/x-rtp");
        gst_structure_set(s, "payload", G_TYPE_INT, static_cast<int>(pt), nullptr);
      }
    }
  }
  if (!caps) caps = gst_caps_new_empty_simple("application/x-rtp");
  std::lock_guard lock(impl.pt_mutex);
  if (generation == impl.pt_generation && !impl.pt_cache[pt])
    impl.pt_cache[pt] = gst_caps_ref(caps);
  return caps;
}

GstFlowReturn push_media(GstDtlsTransportEndpoint* self, GstBuffer* buffer, bool rtcp, guint pt) {
  EndpointImpl& impl = impl_of(self);
  GstPad* pad = rtcp ? self->rtcp_src : self->rtp_src;
  gstdtls::SrcPadState& state = rtcp ? impl.rtcp_src_state : impl.rtp_src_state;
  // Sticky events in the order GStreamer requires: stream-start, caps, segment.
  if (!state.started) push_stream_start(pad, rtcp ? "rtcp" : "rtp");
  unsigned generation = impl.pt_generation.load();
  if (rtcp && !state.started) {
    push_caps(pad, gst_caps_new_empty_simple("application/x-rtcp"));
  } else if (!rtcp &&
             (state.caps_pt != static_cast<int>(pt) || state.caps_generation != generation)) {
    push_caps(pad, caps_for_pt(self, pt));
    state.caps_pt = static_cast<int>(pt);
    state.caps_generation = generation;
  }
  if (!state.started) {
    GstSegment segment;
    gst_segment_init(&segment, GST_FORMAT_TIME);
    gst_pad_push_event(pad, gst_event_new_segment(&segment));
    state.started = true;
  }
  GstFlowReturn ret = gst_pad_push(pad, buffer);
  // Unlinked or failing downstream must not stop nicesrc (that would stop ICE too).
  if (ret == GST_FLOW_FLUSHING) return ret;
  if (ret != GST_FLOW_OK && ret != GST_FLOW_NOT_LINKED)
    GST_DEBUG_OBJECT(pad, "downstream returned %s", gst_flow_get_name(ret));
  return GST_FLOW_OK;
}

// Unprotects in place the (writable, mapped) packet `map` of `buffer`, which it takes.
GstFlowReturn receive_media(GstDtlsTransportEndpoint* self, GstBuffer* buffer, GstMemory* memory,
                            GstMapInfo& map, bool rtcp) {
  EndpointImpl& impl = impl_of(self);
  auto drop = [&](std::atomic<uint64_t>& counter) {
    counter.fetch_add(1, std::memory_order_relaxed);
    gst_memory_unmap(memory, &map);
    gst_buffer_unref(buffer);
    return GST_FLOW_OK;
  };
  if (!impl.media_open.load(std::memory_order_relaxed)) return drop(impl.dropped_no_keys);
  size_t wire_length = map.size;
  size_t length = map.size;
  guint pt = map.size > 1 ? (map.data[1] & 0x7f) : 0;
  SrtpResult result;
  {
    std::lock_guard lock(impl.unprotect_mutex);
    result = rtcp ? impl.srtp.unprotect_rtcp(as_span(map), length)
                  : impl.srtp.unprotect_rtp(as_span(map), length);
  }
  switch (result) {
    case SrtpResult::Ok:
      break;
    case SrtpResult::AuthFailure:
      return drop(impl.dropped_auth_failure);
    case SrtpResult::Replay:
      return drop(impl.dropped_replay);
    case SrtpResult::NoKeys:
      return drop(impl.dropped_no_keys);
    default:
      return drop(impl.dropped_malformed);
  }
  gst_memory_unmap(memory, &map);
  // The buffer's size is the sum of its memories' sizes: resizing its one memory resizes it,
  // without gst_buffer_set_size's generic walk.
  gst_memory_resize(memory, 0, length);
  (rtcp ? impl.rtcp_packets_received : impl.packets_received)
      .fetch_add(1, std::memory_order_relaxed);
  impl.bytes_received.fetch_add(wire_length, std::memory_order_relaxed);
  return push_media(self, buffer, rtcp, pt);
}

// One map per packet: the buffer is made writable (a no-op for nicesrc's buffers, which nobody
// else holds), its memory mapped read-write once, classified (RFC 7983 §7), and SRTP/SRTCP is
// unprotected in that same mapping.
GstFlowReturn net_chain(GstPad*, GstObject* parent, GstBuffer* buffer) {
  auto* self = GST_DTLS_TRANSPORT_ENDPOINT(parent);
  buffer = gst_buffer_make_writable(buffer);
  // nicesrc delivers one memory per datagram; anything else is merged into one first.
  if (gst_buffer_n_memory(buffer) != 1) {
    GstMemory* merged = gst_buffer_get_all_memory(buffer);
    if (!merged) {
      gst_buffer_unref(buffer);
      return GST_FLOW_OK;
    }
    gst_buffer_replace_all_memory(buffer, merged);
  }
  GstMemory* memory = gst_buffer_peek_memory(buffer, 0);
  if (!gst_memory_is_writable(memory)) {
    // Shared with another buffer (a copy made by make_writable): unprotect into our own copy.
    memory = gst_memory_copy(memory, 0, -1);
    gst_buffer_replace_memory(buffer, 0, memory);
  }
  GstMapInfo map;
  if (!gst_memory_map(memory, &map, GST_MAP_READWRITE)) {
    impl_of(self).dropped_malformed++;
    gst_buffer_unref(buffer);
    return GST_FLOW_OK;
  }
  PacketKind kind = dtlstransport::classify_packet({map.data, map.size});
  switch (kind) {
    case PacketKind::Rtp:
      return receive_media(self, buffer, memory, map, false);
    case PacketKind::Rtcp:
      return receive_media(self, buffer, memory, map, true);
    case PacketKind::Dtls: {
      std::span<const uint8_t> datagram(map.data, map.size);
      with_dtls(self, [&](auto& dtls) { dtls.handle_datagram(datagram, Clock::now()); });
      break;
    }
    case PacketKind::Stun:
      break;  // libnice's business; nicesrc does not deliver it anyway
    default:
      impl_of(self).dropped_malformed++;
      break;
  }
  gst_memory_unmap(memory, &map);
  gst_buffer_unref(buffer);
  return GST_FLOW_OK;
}

gboolean src_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    // Network input: live, no latency of our own.
    gst_query_set_latency(query, TRUE, 0, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return gst_pad_query_default(pad, parent, query);
}

GstPad* make_pad(GstDtlsTransportEndpoint* self, GstStaticPadTemplate* templ) {
  GstPad* pad = gst_pad_new_from_static_template(templ, templ->name_template);
  gst_element_add_pad(GST_ELEMENT(self), pad);
  return pad;
}

GstStateChangeReturn change_state(GstElement* element, GstStateChange transition) {
  auto* self = GST_DTLS_TRANSPORT_ENDPOINT(element);
  EndpointImpl& impl = impl_of(self);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    // Pad activation clears sticky events: resend them with the first data of this run.
    impl.rtp_src_state = {};
    impl.rtcp_src_state = {};
    std::lock_guard lock(impl.net_mutex);
    impl.net_started = false;
  }
  return GST_ELEMENT_CLASS(gst_dtls_transport_endpoint_parent_class)
      ->change_state(element, transition);
}

}  // namespace

static void gst_dtls_transport_endpoint_init(GstDtlsTransportEndpoint* self) {
  new (&self->impl) std::unique_ptr<EndpointImpl>(std::make_unique<EndpointImpl>());
  self->net_sink = make_pad(self, &net_sink_template);
  gst_pad_set_chain_function(self->net_sink, net_chain);
  gst_pad_set_event_function(self->net_sink, sink_event);
  self->net_src = make_pad(self, &net_src_template);
  self->rtp_sink = make_pad(self, &rtp_sink_template);
  self->rtcp_sink = make_pad(self, &rtcp_sink_template);
  for (GstPad* pad : {self->rtp_sink, self->rtcp_sink}) {
    gst_pad_set_chain_function(pad, send_chain);
    gst_pad_set_chain_list_function(pad, send_chain_list);
    gst_pad_set_event_function(pad, sink_event);
  }
  self->rtp_src = make_pad(self, &rtp_src_template);
  self->rtcp_src = make_pad(self, &rtcp_src_template);
  for (GstPad* pad : {self->rtp_src, self->rtcp_src}) {
    gst_pad_set_query_function(pad, src_query);
    gst_pad_use_fixed_caps(pad);
  }
}

static void gst_dtls_transport_endpoint_finalize(GObject* object) {
  auto* self = GST_DTLS_TRANSPORT_ENDPOINT(object);
  gstdtls::endpoint_reset(self);
  self->impl.~unique_ptr();
  G_OBJECT_CLASS(gst_dtls_transport_endpoint_parent_class)->finalize(object);
}

static void gst_dtls_transport_endpoint_class_init(GstDtlsTransportEndpointClass* klass) {
  GST_DEBUG_CATEGORY_INIT(endpoint_debug, "dtlstransportendpoint", 0, "dtlstransportbin data path");
  G_OBJECT_CLASS(klass)->finalize = gst_dtls_transport_endpoint_finalize;
  auto* element_class = GST_ELEMENT_CLASS(klass);
  element_class->change_state = change_state;
  for (GstStaticPadTemplate* templ : {&net_sink_template, &net_src_template, &rtp_sink_template,
                                      &rtcp_sink_template, &rtp_src_template, &rtcp_src_template})
    gst_element_class_add_static_pad_template(element_class, templ);
  gst_element_class_set_static_metadata(
      element_class, "DTLS-SRTP transport data path", "Filter/Network/RTP",
      "Internal part of dtlstransportbin: DTLS records, SRTP protect/unprotect",
      "gst-dtlstransport");
}

namespace gstdtls {

GstStaticPadTemplate rtp_sink_template = GST_STATIC_PAD_TEMPLATE(
    "rtp_sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-rtp"));
GstStaticPadTemplate rtcp_sink_template = GST_STATIC_PAD_TEMPLATE(
    "rtcp_sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-rtcp"));
GstStaticPadTemplate rtp_src_template = GST_STATIC_PAD_TEMPLATE(
    "rtp_src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-rtp"));
GstStaticPadTemplate rtcp_src_template = GST_STATIC_PAD_TEMPLATE(
    "rtcp_src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-rtcp"));

void endpoint_set_listener(GstDtlsTransportEndpoint* self, EndpointListener listener) {
  impl_of(self).listener = std::move(listener);
}

dtlstransport::Status endpoint_prepare(GstDtlsTransportEndpoint* self,
                                       dtlstransport::DtlsConfig config, GMainContext* context,
                                       bool drop_first_client_hello) {
  endpoint_reset(self);
  EndpointImpl& impl = impl_of(self);
  dtlstransport::DtlsCallbacks callbacks;
  // The callbacks run inside a core call, under dtls_mutex (see with_dtls).
  callbacks.send_datagram = [self](std::span<const uint8_t> d) { on_send_datagram(self, d); };
  callbacks.state_changed = [&impl](DtlsState state, FailureReason reason,
                                    const std::string& detail) {
    if (state == DtlsState::Failed || state == DtlsState::Closed) impl.media_open = false;
    impl.pending.push_back({state, reason, detail});
  };
  callbacks.srtp_keys = [self](const dtlstransport::SrtpKeys& keys) { on_srtp_keys(self, keys); };
  auto transport = dtlstransport::DtlsTransport::create(std::move(config), std::move(callbacks));
  if (!transport) return transport.error();

  GSource* source = g_source_new(&timer_funcs, sizeof(TimerSource));
  reinterpret_cast<TimerSource*>(source)->self = GST_DTLS_TRANSPORT_ENDPOINT(gst_object_ref(self));
  g_source_set_ready_time(source, -1);
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_attach(source, context);

  std::lock_guard lock(impl.dtls_mutex);
  impl.dtls = std::move(transport).value();
  impl.timer = source;
  impl.drop_first_client_hello = drop_first_client_hello;
  impl.dropped_client_hello = false;
  {
    std::lock_guard info_lock(impl.info_mutex);
    impl.info = {};
  }
  for (auto* counter :
       {&impl.packets_sent, &impl.bytes_sent, &impl.packets_received, &impl.bytes_received,
        &impl.rtcp_packets_sent, &impl.rtcp_packets_received, &impl.dropped_auth_failure,
        &impl.dropped_replay, &impl.dropped_no_keys, &impl.dropped_malformed})
    counter->store(0);
  return {};
}

void endpoint_start(GstDtlsTransportEndpoint* self, dtlstransport::DtlsRole local_role,
                    const dtlstransport::DtlsParameters& remote, bool ice_controlling) {
  EndpointImpl& impl = impl_of(self);
  with_dtls(self, [&](auto& dtls) {
    if (dtls.state() != DtlsState::New) return;
    impl.started_at = Clock::now();
    auto status = dtls.start(local_role, remote, ice_controlling, impl.started_at);
    if (!status) GST_WARNING_OBJECT(self, "DTLS start: %s", status.error().message.c_str());
  });
}

void endpoint_set_remote_fingerprints(GstDtlsTransportEndpoint* self,
                                      std::vector<dtlstransport::Fingerprint> fingerprints) {
  with_dtls(self, [&](auto& dtls) {
    dtls.set_remote_fingerprints(std::move(fingerprints), Clock::now());
  });
}

void endpoint_stop(GstDtlsTransportEndpoint* self) {
  impl_of(self).media_open = false;
  with_dtls(self, [](auto& dtls) { dtls.stop(); });
}

void endpoint_reset(GstDtlsTransportEndpoint* self) {
  EndpointImpl& impl = impl_of(self);
  impl.media_open = false;
  std::unique_ptr<dtlstransport::DtlsTransport> old;
  GSource* timer = nullptr;
  {
    std::lock_guard lock(impl.dtls_mutex);
    old = std::move(impl.dtls);
    timer = std::exchange(impl.timer, nullptr);
    impl.pending.clear();
    {
      std::lock_guard out(impl.deliver_mutex);
      impl.outbox.clear();  // the old session's events must not reach the next one
    }
    std::lock_guard info_lock(impl.info_mutex);
    impl.info = {};  // the next run starts at new; counters stay readable until then
  }
  if (timer) {
    g_source_destroy(timer);
    g_source_unref(timer);
  }
  {
    std::scoped_lock lock(impl.protect_mutex, impl.unprotect_mutex);
    impl.srtp = SrtpSession();
  }
  // `old` is destroyed here, outside every lock; no network push can reach it any more.
}

void endpoint_set_network_open(GstDtlsTransportEndpoint* self, bool open) {
  EndpointImpl& impl = impl_of(self);
  std::lock_guard lock(impl.net_mutex);
  impl.network_open = open;
}

void endpoint_set_pt_map(GstDtlsTransportEndpoint* self, const GstCaps* pt_map) {
  EndpointImpl& impl = impl_of(self);
  std::lock_guard lock(impl.pt_mutex);
  gst_caps_replace(&impl.pt_map, const_cast<GstCaps*>(pt_map));
  for (auto& caps : impl.pt_cache) gst_caps_replace(&caps, nullptr);
  impl.pt_generation++;  // the receive thread pushes fresh caps with its next packet
}

void endpoint_set_drop_first_client_hello(GstDtlsTransportEndpoint* self, bool drop) {
  impl_of(self).drop_first_client_hello = drop;
}

bool endpoint_send_rtcp(GstDtlsTransportEndpoint* self, GstBuffer* buffer) {
  GstBuffer* output = protect_one(self, buffer, true);
  if (!output) return false;
  push_network(self, output, nullptr);
  return true;
}

EndpointInfo endpoint_info(GstDtlsTransportEndpoint* self) {
  EndpointImpl& impl = impl_of(self);
  EndpointInfo info;
  {
    std::lock_guard lock(impl.info_mutex);
    info = impl.info;
  }
  info.packets_sent = impl.packets_sent;
  info.bytes_sent = impl.bytes_sent;
  info.packets_received = impl.packets_received;
  info.bytes_received = impl.bytes_received;
  info.rtcp_packets_sent = impl.rtcp_packets_sent;
  info.rtcp_packets_received = impl.rtcp_packets_received;
  info.dropped_auth_failure = impl.dropped_auth_failure;
  info.dropped_replay = impl.dropped_replay;
  info.dropped_no_keys = impl.dropped_no_keys;
  info.dropped_malformed = impl.dropped_malformed;
  return info;
}

}  // namespace gstdtls
