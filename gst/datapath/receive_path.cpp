// The data path's receive side: each datagram nicesrc delivers is classified (RFC 7983 §7); DTLS
// goes to the core, SRTP/SRTCP is unprotected in place and pushed on rtp_src/rtcp_src with caps
// from pt-map or request-pt-map. Everything else, and everything that fails, is dropped and
// counted.
#include "endpoint_private.h"
#include "packet_classifier.hpp"

#define GST_CAT_DEFAULT endpoint_debug

using dtlstransport::PacketKind;
using dtlstransport::SrtpResult;

namespace gstdtls {
namespace {

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
  SrcPadState& state = rtcp ? impl.rtcp_src_state : impl.rtp_src_state;
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
  const guint pt = dtlstransport::rtp_payload_type(as_span(map)).value_or(0);
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

}  // namespace

// One map per packet: the buffer is made writable (a no-op for nicesrc's buffers, which nobody
// else holds), its memory mapped read-write once, classified (RFC 7983 §7), and SRTP/SRTCP is
// unprotected in that same mapping.
GstFlowReturn net_chain(GstPad* pad, GstObject* parent, GstBuffer* buffer) {
  auto* self = GST_DTLS_TRANSPORT_ENDPOINT(parent);
  forget_openssl_thread_state_on_leave(pad);
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
  PacketKind kind = dtlstransport::classify_packet(as_span(map));
  switch (kind) {
    case PacketKind::Rtp:
      return receive_media(self, buffer, memory, map, false);
    case PacketKind::Rtcp:
      return receive_media(self, buffer, memory, map, true);
    case PacketKind::Dtls:
      dtls_handle_datagram(self, as_span(map));
      break;
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

gboolean media_src_query(GstPad* pad, GstObject* parent, GstQuery* query) {
  if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    // Network input: live, no latency of our own.
    gst_query_set_latency(query, TRUE, 0, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return gst_pad_query_default(pad, parent, query);
}

void endpoint_set_pt_map(GstDtlsTransportEndpoint* self, const GstCaps* pt_map) {
  EndpointImpl& impl = impl_of(self);
  std::lock_guard lock(impl.pt_mutex);
  gst_caps_replace(&impl.pt_map, const_cast<GstCaps*>(pt_map));
  for (auto& caps : impl.pt_cache) gst_caps_replace(&caps, nullptr);
  impl.pt_generation++;  // the receive thread pushes fresh caps with its next packet
}

GstCaps* endpoint_get_pt_map(GstDtlsTransportEndpoint* self) {
  EndpointImpl& impl = impl_of(self);
  std::lock_guard lock(impl.pt_mutex);
  return impl.pt_map ? gst_caps_ref(impl.pt_map) : nullptr;
}

}  // namespace gstdtls
