// SCTP over DTLS (RFC 8261) in the data path: what sctpenc produces (one SCTP packet per buffer)
// leaves as one DTLS application-data record, and what the core decrypts as application data is
// pushed to sctpdec. The data path knows nothing of SCTP itself: gst/datachannel/ links these two
// pads to GStreamer's sctpenc/sctpdec once DTLS is connected.
#include "endpoint_private.h"

#define GST_CAT_DEFAULT endpoint_debug

namespace gstdtls {

GstFlowReturn data_sink_chain(GstPad* pad, GstObject* parent, GstBuffer* buffer) {
  (void)pad;
  auto* self = GST_DTLS_TRANSPORT_ENDPOINT(parent);
  EndpointImpl& impl = impl_of(self);
  GstMapInfo map;
  if (gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    // RFC 8261 §5: one SCTP packet per DTLS record. Refused (and counted) unless connected.
    if (dtls_send_application_data(self, as_span(map)))
      impl.sctp_packets_sent.fetch_add(1, std::memory_order_relaxed);
    else
      impl.sctp_packets_dropped.fetch_add(1, std::memory_order_relaxed);
    gst_buffer_unmap(buffer, &map);
  }
  gst_buffer_unref(buffer);
  return GST_FLOW_OK;  // a dropped packet is SCTP's to retransmit, never a flow error
}

void push_application_data(GstDtlsTransportEndpoint* self) {
  EndpointImpl& impl = impl_of(self);
  std::deque<std::vector<uint8_t>> packets;
  {
    std::lock_guard lock(impl.dtls_mutex);
    packets.swap(impl.data_inbox);
  }
  if (packets.empty()) return;
  std::lock_guard lock(impl.data_push_mutex);
  if (!impl.data_src_started) {
    push_stream_start(self->data_src, "sctp");
    push_caps(self->data_src, gst_caps_new_empty_simple("application/x-sctp"));
    GstSegment segment;
    gst_segment_init(&segment, GST_FORMAT_BYTES);
    gst_pad_push_event(self->data_src, gst_event_new_segment(&segment));
    impl.data_src_started = true;
  }
  for (auto& packet : packets) {
    impl.sctp_packets_received.fetch_add(1, std::memory_order_relaxed);
    const size_t size = packet.size();
    auto* bytes = new std::vector<uint8_t>(std::move(packet));
    GstBuffer* buffer = gst_buffer_new_wrapped_full(
        GST_MEMORY_FLAG_READONLY, bytes->data(), size, 0, size, bytes,
        [](gpointer data) { delete static_cast<std::vector<uint8_t>*>(data); });
    // Not linked (no data channels in this run) or flushing: the packet is simply not wanted.
    gst_pad_push(self->data_src, buffer);
  }
}

GstPad* endpoint_data_src(GstDtlsTransportEndpoint* self) { return self->data_src; }
GstPad* endpoint_data_sink(GstDtlsTransportEndpoint* self) { return self->data_sink; }

}  // namespace gstdtls
