// The data path's send side: RTP/RTCP from the application's payloaders or rtpbin, checked and
// protected with SRTP (one output buffer per packet, protected in place), then pushed to nicesink
// in the same shape it came (a list stays a list).
#include <algorithm>

#include "endpoint_private.h"
#include "packet_classifier.hpp"

#define GST_CAT_DEFAULT endpoint_debug

using dtlstransport::SrtpResult;
using dtlstransport::SrtpSession;

namespace gstdtls {
namespace {

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

}  // namespace

// Dropped unless PLAYING: nicesink blocks its caller while prerolling, and the caller may be the
// shared main context serving every transport.
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

gboolean media_sink_event(GstPad* pad, GstObject* parent, GstEvent* event) {
  // Media sink events (caps, segment, EOS…) end here: the network side has its own stream, and
  // an upstream EOS must not end the transport.
  GST_LOG_OBJECT(pad, "consuming %s", GST_EVENT_TYPE_NAME(event));
  (void)parent;
  gst_event_unref(event);
  return TRUE;
}

bool endpoint_send_rtcp(GstDtlsTransportEndpoint* self, GstBuffer* buffer) {
  GstBuffer* output = protect_one(self, buffer, true);
  if (!output) return false;
  push_network(self, output, nullptr);
  return true;
}

void endpoint_set_network_open(GstDtlsTransportEndpoint* self, bool open) {
  EndpointImpl& impl = impl_of(self);
  std::lock_guard lock(impl.net_mutex);
  impl.network_open = open;
}

}  // namespace gstdtls
