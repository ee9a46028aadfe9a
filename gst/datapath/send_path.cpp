// The data path's send side: RTP/RTCP from the application's payloaders or rtpbin, checked and
// protected with SRTP, then pushed to nicesink in the same shape it came (a list stays a list, and
// nicesink sends it with one sendmmsg). A buffer ours alone with the trailer room after the packet
// is protected where it is (no copy, no allocation; rtp_sink/rtcp_sink ask upstream for that room
// in the ALLOCATION query); any other is copied once, into one chunk per list.
#include <algorithm>
#include <vector>

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

size_t trailer_room(bool rtcp) {
  return rtcp ? SrtpSession::kRtcpTrailerRoom : SrtpSession::kRtpTrailerRoom;
}

// The memory `buffer` can be protected in: the buffer ours alone (writable), one memory ours
// alone (not shared with another buffer, not read-only) with the trailer room after the packet.
// Then the packet is protected where it is, in the buffer we were given: no allocation, no copy.
// nullptr when a copy is needed.
GstMemory* in_place_memory(GstBuffer* buffer, bool rtcp) {
  if (!gst_buffer_is_writable(buffer) || gst_buffer_n_memory(buffer) != 1) return nullptr;
  GstMemory* memory = gst_buffer_peek_memory(buffer, 0);
  if (!gst_memory_is_writable(memory)) return nullptr;
  if (memory->maxsize - memory->offset - memory->size < trailer_room(rtcp)) return nullptr;
  return memory;
}

// Protects the packet at the start of `room` (`length` bytes, `room` holding the trailer room
// too); counts a drop and returns false on failure, leaving `length` as it was.
bool protect_bytes(EndpointImpl& impl, std::span<uint8_t> room, size_t& length, bool rtcp) {
  SrtpResult result;
  {
    std::lock_guard lock(impl.protect_mutex);
    result = rtcp ? impl.srtp.protect_rtcp(room, length) : impl.srtp.protect_rtp(room, length);
  }
  if (result == SrtpResult::Ok) {
    (rtcp ? impl.rtcp_packets_sent : impl.packets_sent).fetch_add(1, std::memory_order_relaxed);
    impl.bytes_sent.fetch_add(length, std::memory_order_relaxed);
    return true;
  }
  if (result == SrtpResult::NoKeys)
    impl.dropped_no_keys++;
  else
    impl.dropped_malformed++;
  return false;
}

bool valid_packet(std::span<const uint8_t> packet, bool rtcp) {
  return rtcp ? dtlstransport::is_valid_rtcp(packet) : dtlstransport::is_valid_rtp(packet);
}

// Protects the packet in `memory` (from in_place_memory()) where it is; false when dropped.
bool protect_in_place(EndpointImpl& impl, GstMemory* memory, bool rtcp) {
  GstMapInfo map;
  if (!gst_memory_map(memory, &map, GST_MAP_READWRITE)) {
    impl.dropped_malformed++;
    return false;
  }
  size_t length = map.size;
  // map.maxsize runs to the end of the memory: the packet and the room after it.
  const bool ok = valid_packet({map.data, map.size}, rtcp)
                      ? protect_bytes(impl, {map.data, map.maxsize}, length, rtcp)
                      : (impl.dropped_malformed++, false);
  gst_memory_unmap(memory, &map);
  // The buffer's size is its memories' sizes: growing the one memory grows the buffer.
  if (ok) gst_memory_resize(memory, 0, length);
  return ok;
}

// The new buffer that carries `memory` (taken), with the timestamps of `input`.
GstBuffer* output_buffer(GstBuffer* input, GstMemory* memory) {
  GstBuffer* output = gst_buffer_new();
  if (memory) gst_buffer_append_memory(output, memory);
  // What GST_BUFFER_COPY_TIMESTAMPS copies, without gst_buffer_copy_into's generic path.
  GST_BUFFER_PTS(output) = GST_BUFFER_PTS(input);
  GST_BUFFER_DTS(output) = GST_BUFFER_DTS(input);
  GST_BUFFER_DURATION(output) = GST_BUFFER_DURATION(input);
  GST_BUFFER_OFFSET(output) = GST_BUFFER_OFFSET(input);
  GST_BUFFER_OFFSET_END(output) = GST_BUFFER_OFFSET_END(input);
  return output;
}

// One packet (`input`, taken) protected: in place when in_place_memory() allows it, else into
// one new buffer with trailer room (one copy). nullptr when dropped.
// Built from one GstMemory mapped and resized directly, not through the buffer: the buffer-level
// map and resize (gst_buffer_map, gst_buffer_set_size) cost ≈ 1 000 instructions per packet more
// (callgrind, docs/performance.md).
GstBuffer* protect_one(GstDtlsTransportEndpoint* self, GstBuffer* input, bool rtcp) {
  EndpointImpl& impl = impl_of(self);
  if (!impl.media_open.load(std::memory_order_relaxed)) {
    impl.dropped_no_keys++;
    gst_buffer_unref(input);
    return nullptr;
  }
  if (GstMemory* memory = in_place_memory(input, rtcp)) {
    if (protect_in_place(impl, memory, rtcp)) return input;
    gst_buffer_unref(input);
    return nullptr;
  }
  InputMap in(input);
  if (!in.ok() || !valid_packet(in.bytes(), rtcp)) {
    impl.dropped_malformed++;
    in.release();
    gst_buffer_unref(input);
    return nullptr;
  }
  std::span<const uint8_t> packet = in.bytes();
  GstMemory* memory = gst_allocator_alloc(nullptr, packet.size() + trailer_room(rtcp), nullptr);
  GstMapInfo out;
  if (!gst_memory_map(memory, &out, GST_MAP_WRITE)) {
    gst_memory_unref(memory);
    impl.dropped_malformed++;
    in.release();
    gst_buffer_unref(input);
    return nullptr;
  }
  std::copy(packet.begin(), packet.end(), out.data);
  size_t length = packet.size();
  in.release();
  const bool ok = protect_bytes(impl, as_span(out), length, rtcp);
  gst_memory_unmap(memory, &out);
  GstBuffer* output = nullptr;
  if (ok) {
    gst_memory_resize(memory, 0, length);
    output = output_buffer(input, memory);
  } else {
    gst_memory_unref(memory);
  }
  gst_buffer_unref(input);
  return output;
}

// The packets of a list that need a copy share one allocation: one chunk, each packet at its own
// offset with its trailer room, protected there; each output buffer holds a share of the chunk
// (a read-only view; the chunk is freed with the last of them). Not a GstBufferPool: a pool's
// acquire/release pair signals its GstPoll whenever it runs dry, and recycled buffers must be
// reset anyway; one chunk per list is cheaper.
class ListChunk {
 public:
  ListChunk(GstBufferList* list, bool rtcp) : rtcp_(rtcp) {
    const guint n = gst_buffer_list_length(list);
    size_t total = 0;
    for (guint i = 0; i < n; i++) {
      GstBuffer* buffer = gst_buffer_list_get(list, i);
      if (!in_place_memory(buffer, rtcp)) total += gst_buffer_get_size(buffer) + trailer_room(rtcp);
    }
    if (total == 0) return;
    chunk_ = gst_allocator_alloc(nullptr, total, nullptr);
    if (!gst_memory_map(chunk_, &map_, GST_MAP_WRITE)) {
      gst_memory_unref(chunk_);
      chunk_ = nullptr;
    }
  }
  ~ListChunk() {
    if (!chunk_) return;
    gst_memory_unmap(chunk_, &map_);
    for (auto& [buffer, offset, length] : pending_)
      gst_buffer_append_memory(buffer, gst_memory_share(chunk_, static_cast<gssize>(offset),
                                                        static_cast<gssize>(length)));
    gst_memory_unref(chunk_);
  }
  ListChunk(const ListChunk&) = delete;
  ListChunk& operator=(const ListChunk&) = delete;

  // `input` (not taken) copied into the chunk and protected there: a new buffer whose memory is
  // attached when the chunk is done (so the chunk is mapped once), or nullptr when dropped.
  GstBuffer* protect(EndpointImpl& impl, GstBuffer* input) {
    InputMap in(input);
    const size_t room = in.ok() ? in.bytes().size() + trailer_room(rtcp_) : 0;
    if (!chunk_ || !in.ok() || used_ + room > map_.size || !valid_packet(in.bytes(), rtcp_)) {
      impl.dropped_malformed++;
      return nullptr;
    }
    std::span<const uint8_t> packet = in.bytes();
    std::copy(packet.begin(), packet.end(), map_.data + used_);
    size_t length = packet.size();
    in.release();
    if (!protect_bytes(impl, {map_.data + used_, room}, length, rtcp_)) return nullptr;
    GstBuffer* output = output_buffer(input, nullptr);
    pending_.push_back({output, used_, length});
    used_ += room;
    return output;
  }

 private:
  struct Pending {
    GstBuffer* buffer;
    size_t offset, length;
  };
  const bool rtcp_;
  GstMemory* chunk_ = nullptr;
  GstMapInfo map_{};
  size_t used_ = 0;
  std::vector<Pending> pending_;
};

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
  if (GstBuffer* output = protect_one(self, buffer, pad == self->rtcp_sink))
    push_network(self, output, nullptr);
  return GST_FLOW_OK;  // drops are counted, never a flow error
}

// A list stays a list (nicesink sends it with one sendmmsg): each buffer protected in place when
// it can be, the others copied into one chunk for the whole list.
GstFlowReturn send_chain_list(GstPad* pad, GstObject* parent, GstBufferList* list) {
  auto* self = GST_DTLS_TRANSPORT_ENDPOINT(parent);
  EndpointImpl& impl = impl_of(self);
  const bool rtcp = pad == self->rtcp_sink;
  if (!impl.media_open.load(std::memory_order_relaxed)) {
    impl.dropped_no_keys += gst_buffer_list_length(list);
    gst_buffer_list_unref(list);
    return GST_FLOW_OK;
  }
  // Ours alone, the list's buffers are ours to take (and, when writable, to protect in place).
  list = gst_buffer_list_make_writable(list);
  const guint n = gst_buffer_list_length(list);
  GstBufferList* output = gst_buffer_list_new_sized(n);
  {
    ListChunk chunk(list, rtcp);
    for (guint i = 0; i < n; i++) {
      GstBuffer* input = gst_buffer_list_get(list, i);
      GstBuffer* protected_buffer = nullptr;
      if (GstMemory* memory = in_place_memory(input, rtcp)) {
        // Protected while the input list holds it alone (a second reference would make its
        // memory read-only); the input list lets go of it below, the output list keeps it.
        if (protect_in_place(impl, memory, rtcp)) protected_buffer = gst_buffer_ref(input);
      } else {
        protected_buffer = chunk.protect(impl, input);
      }
      if (protected_buffer) gst_buffer_list_add(output, protected_buffer);
    }
  }  // the copies' memories attached
  gst_buffer_list_unref(list);
  if (gst_buffer_list_length(output) > 0)
    push_network(self, nullptr, output);
  else
    gst_buffer_list_unref(output);
  return GST_FLOW_OK;
}

// Upstream that allocates through the ALLOCATION query (appsrc does not; a pool-using element
// does) is asked for the trailer room as padding after each packet: its buffers are then protected
// in place.
gboolean media_sink_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  if (GST_QUERY_TYPE(query) != GST_QUERY_ALLOCATION)
    return gst_pad_query_default(pad, parent, query);
  auto* self = GST_DTLS_TRANSPORT_ENDPOINT(parent);
  GstAllocationParams params;
  gst_allocation_params_init(&params);
  params.padding = trailer_room(pad == self->rtcp_sink);
  gst_query_add_allocation_param(query, nullptr, &params);
  return TRUE;
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
  GstBuffer* output = protect_one(self, gst_buffer_ref(buffer), true);
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
