// The receive side of the data channels: what sctpdec delivers on its per-stream pads —
// messages (held for a negotiated channel not yet open), DCEP OPEN/ACK (RFC 8832), and the
// peer's stream resets (RFC 8831 §6.7, a channel closed by the peer).
#include <gst/sctp/sctpreceivemeta.h>

#include <cstdio>

#include "dcep.hpp"
#include "sctp_transport_private.h"

#define GST_CAT_DEFAULT datachannel_debug

namespace dt = dtlstransport;

namespace gstdtls {

void DataChannelTransport::on_dec_pad_added(GstElement*, GstPad* pad, gpointer user_data) {
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_message, user_data, nullptr);
}

void DataChannelTransport::on_dec_pad_removed(GstElement*, GstPad* pad, gpointer user_data) {
  auto* self = static_cast<DataChannelTransport*>(user_data);
  guint id;
  gchar* name = gst_pad_get_name(pad);
  const bool ok = sscanf(name, "src_%u", &id) == 1;
  g_free(name);
  if (!ok) return;
  // The peer reset its outgoing stream (RFC 8831 §6.7). Emitted from inside usrsctp: handled on
  // the shared context, where our own reset (a pad release) is safe.
  std::weak_ptr<DataChannelTransport> weak = self->weak_from_this();
  run_on_shared([weak, id] {
    if (auto transport = weak.lock()) transport->peer_reset(id);
  });
}

void DataChannelTransport::peer_reset(guint stream_id) {
  auto entry = find_id(stream_id);
  if (!entry) return;
  GST_DEBUG_OBJECT(bin_, "stream %u reset by the peer: data channel closed", stream_id);
  // Closing our side resets our outgoing stream in turn (releasing the sctpenc pad).
  finish_close(entry);
}

GstPadProbeReturn DataChannelTransport::on_message(GstPad* pad, GstPadProbeInfo* info,
                                                   gpointer user_data) {
  auto* self = static_cast<DataChannelTransport*>(user_data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  guint id;
  gchar* name = gst_pad_get_name(pad);
  const bool ok = sscanf(name, "src_%u", &id) == 1;
  g_free(name);
  GstSctpReceiveMeta* meta = gst_sctp_buffer_get_receive_meta(buffer);
  if (ok && meta) self->handle_message(id, meta->ppid, buffer);
  return GST_PAD_PROBE_DROP;  // consumed here
}

void DataChannelTransport::handle_message(guint stream_id, guint32 ppid, GstBuffer* buffer) {
  if (ppid == static_cast<uint32_t>(dt::Ppid::Dcep)) {
    handle_dcep(stream_id, buffer);
    return;
  }
  if (hold_early(stream_id, ppid, buffer)) return;
  auto entry = find_id(stream_id);
  if (!entry) {
    GST_DEBUG_OBJECT(bin_, "message on stream %u with no data channel: dropped", stream_id);
    return;
  }
  deliver(entry, ppid, buffer);
}

bool DataChannelTransport::hold_early(guint stream_id, guint32 ppid, GstBuffer* buffer) {
  // At most this many per channel (the peer's first burst); more are dropped as before.
  constexpr size_t kMaxEarly = 256;
  std::lock_guard lock(lock_);
  for (auto& entry : entries_) {
    if (!entry->holds_early || data_channel_id(entry->channel) != static_cast<int>(stream_id))
      continue;
    if (entry->early.size() >= kMaxEarly) return false;
    GST_DEBUG_OBJECT(bin_, "stream %u: message before the negotiated channel is open: held",
                     stream_id);
    entry->early.emplace_back(ppid, gst_buffer_ref(buffer));
    return true;
  }
  return false;
}

void DataChannelTransport::deliver(const std::shared_ptr<Entry>& entry, guint32 ppid,
                                   GstBuffer* buffer) {
  const int stream_id = data_channel_id(entry->channel);
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) return;
  GST_LOG_OBJECT(bin_, "stream %d: message of %zu bytes, ppid %u", stream_id, map.size, ppid);
  const bool empty = ppid == static_cast<uint32_t>(dt::Ppid::StringEmpty) ||
                     ppid == static_cast<uint32_t>(dt::Ppid::BinaryEmpty);
  const size_t size = empty ? 0 : map.size;
  messages_received_.fetch_add(1);
  bytes_received_.fetch_add(size);
  if (ppid == static_cast<uint32_t>(dt::Ppid::String) ||
      ppid == static_cast<uint32_t>(dt::Ppid::StringEmpty)) {
    gchar* text = g_strndup(reinterpret_cast<const gchar*>(map.data), size);
    gst_buffer_unmap(buffer, &map);
    data_channel_emit_string(entry->channel, text);
    g_free(text);
  } else {
    GBytes* bytes = g_bytes_new(map.data, size);
    gst_buffer_unmap(buffer, &map);
    data_channel_emit_data(entry->channel, bytes);
    g_bytes_unref(bytes);
  }
}

void DataChannelTransport::handle_dcep(guint stream_id, GstBuffer* buffer) {
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) return;
  auto message = dt::decode_dcep({map.data, map.size});
  gst_buffer_unmap(buffer, &map);
  if (!message) {
    dcep_malformed_.fetch_add(1);
    GST_WARNING_OBJECT(bin_, "stream %u: DCEP message rejected: %s", stream_id,
                       message.error().message.c_str());
    return;
  }
  auto existing = find_id(stream_id);
  if (std::holds_alternative<dt::DcepAck>(*message)) {
    if (!existing ||
        data_channel_state(existing->channel) != GST_WEBRTC_DATA_CHANNEL_STATE_CONNECTING) {
      dcep_malformed_.fetch_add(1);
      GST_WARNING_OBJECT(bin_, "stream %u: DATA_CHANNEL_ACK for no channel waiting: ignored",
                         stream_id);
      return;
    }
    data_channel_set_state(existing->channel, GST_WEBRTC_DATA_CHANNEL_STATE_OPEN);
    return;
  }
  const auto& open = std::get<dt::DcepOpen>(*message);
  dt::DtlsRole role;
  {
    std::lock_guard lock(lock_);
    role = role_;
  }
  // RFC 8832 §6: the peer opens streams of its own parity only, and never one in use.
  if (existing || dt::stream_id_is_ours(role, static_cast<uint16_t>(stream_id))) {
    dcep_malformed_.fetch_add(1);
    GST_WARNING_OBJECT(bin_, "stream %u: DATA_CHANNEL_OPEN for a stream %s: ignored", stream_id,
                       existing ? "already in use" : "of our parity (RFC 8832 §6)");
    return;
  }
  ChannelOptions options;
  options.label = open.label;
  options.protocol = open.protocol;
  options.ordered = open.ordered;
  options.id = static_cast<int>(stream_id);
  if (open.reliability == dt::Reliability::Retransmits)
    options.max_retransmits =
        static_cast<int>(std::min<uint32_t>(open.reliability_parameter, 65535));
  else if (open.reliability == dt::Reliability::Timed)
    options.max_packet_lifetime =
        static_cast<int>(std::min<uint32_t>(open.reliability_parameter, 65535));
  options.priority = open.priority >= 1024  ? GST_WEBRTC_PRIORITY_TYPE_HIGH
                     : open.priority >= 512 ? GST_WEBRTC_PRIORITY_TYPE_MEDIUM
                     : open.priority >= 256 ? GST_WEBRTC_PRIORITY_TYPE_LOW
                                            : GST_WEBRTC_PRIORITY_TYPE_VERY_LOW;
  auto entry = std::make_shared<Entry>();
  entry->channel = data_channel_new(options, weak_from_this());
  entry->opening = true;
  {
    std::lock_guard lock(lock_);
    if (!session_) return;
    entries_.push_back(entry);
  }
  if (!add_send_path(entry, stream_id)) {
    finish_close(entry);
    return;
  }
  channels_opened_.fetch_add(1);
  const auto ack = dt::encode_dcep_ack();
  push_message(entry, static_cast<uint32_t>(dt::Ppid::Dcep), ack.data(), ack.size(), false);
  // RFC 8832 §6: open once the ACK is sent; the application hears of the channel first.
  if (on_data_channel) on_data_channel(entry->channel);
  data_channel_set_state(entry->channel, GST_WEBRTC_DATA_CHANNEL_STATE_OPEN);
}

}  // namespace gstdtls
