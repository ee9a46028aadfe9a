// GstDtlsTransportDataChannel: one data channel (RFC 8831) of a dtlstransportbin, with the names of
// GStreamer's GstWebRTCDataChannel (gst-plugins-bad 1.22 keeps that type's structures private,
// so it cannot be subclassed): actions send-string, send-data, close; signals on-open, on-close,
// on-message-string, on-message-data, on-error, on-buffered-amount-low; properties ready-state
// (GstWebRTCDataChannelState), label, id, ordered, protocol, max-packet-lifetime,
// max-retransmits, negotiated, priority (GstWebRTCPriorityType), buffered-amount,
// buffered-amount-low-threshold. Code written for webrtcbin's channels works through the dynamic
// GObject API.
//
// The channel holds what the application sees; the association it lives on (sctp_transport.*)
// does the sending and tells it what happened. Signals are emitted with no lock held.
#pragma once

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

G_BEGIN_DECLS
#define GST_TYPE_DTLS_TRANSPORT_DATA_CHANNEL (gst_dtls_transport_data_channel_get_type())
G_DECLARE_FINAL_TYPE(GstDtlsTransportDataChannel, gst_dtls_transport_data_channel, GST,
                     DTLS_TRANSPORT_DATA_CHANNEL, GObject)
G_END_DECLS

namespace gstdtls {

class DataChannelTransport;

// What create-data-channel's options (or a peer's DATA_CHANNEL_OPEN) say about a channel.
struct ChannelOptions {
  std::string label;
  std::string protocol;
  bool ordered = true;
  int max_packet_lifetime = -1;  // ms; -1 unset
  int max_retransmits = -1;      // -1 unset
  bool negotiated = false;
  int id = -1;  // stream id; -1 until chosen
  GstWebRTCPriorityType priority = GST_WEBRTC_PRIORITY_TYPE_LOW;
};

// A new channel (a new reference), owned by `transport` for sending.
GstDtlsTransportDataChannel* data_channel_new(const ChannelOptions& options,
                                              std::weak_ptr<DataChannelTransport> transport);

ChannelOptions data_channel_options(GstDtlsTransportDataChannel* channel);
int data_channel_id(GstDtlsTransportDataChannel* channel);
void data_channel_set_id(GstDtlsTransportDataChannel* channel, int id);
GstWebRTCDataChannelState data_channel_state(GstDtlsTransportDataChannel* channel);

// State changes and events from the transport. Call with no lock held: they notify and emit.
void data_channel_set_state(GstDtlsTransportDataChannel* channel, GstWebRTCDataChannelState state);
void data_channel_emit_string(GstDtlsTransportDataChannel* channel, const char* text);
void data_channel_emit_data(GstDtlsTransportDataChannel* channel, GBytes* data);
void data_channel_emit_error(GstDtlsTransportDataChannel* channel, const char* message);
// Bytes handed to SCTP (queued) and bytes SCTP took (sent): buffered-amount and its low signal.
void data_channel_buffered_add(GstDtlsTransportDataChannel* channel, uint64_t bytes);
void data_channel_buffered_remove(GstDtlsTransportDataChannel* channel, uint64_t bytes);

}  // namespace gstdtls
