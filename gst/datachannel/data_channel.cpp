// The data-channel GObject: properties, signals and actions with GstWebRTCDataChannel's names.
// Sending and closing are the transport's (sctp_transport.cpp).
#include "data_channel.h"

#include <cstring>

#include "sctp_transport.h"

GST_DEBUG_CATEGORY_EXTERN(datachannel_debug);
#define GST_CAT_DEFAULT datachannel_debug

struct ChannelImpl {
  std::mutex lock;
  gstdtls::ChannelOptions options;
  GstWebRTCDataChannelState state = GST_WEBRTC_DATA_CHANNEL_STATE_CONNECTING;
  uint64_t buffered_amount = 0;
  uint64_t low_threshold = 0;
  std::weak_ptr<gstdtls::DataChannelTransport> transport;
};

struct _GstDtlsTransportDataChannel {
  GObject parent;
  ChannelImpl* impl;
};

G_DEFINE_TYPE(GstDtlsTransportDataChannel, gst_dtls_transport_data_channel, G_TYPE_OBJECT)

namespace {

enum {
  PROP_0,
  PROP_LABEL,
  PROP_ORDERED,
  PROP_MAX_PACKET_LIFETIME,
  PROP_MAX_RETRANSMITS,
  PROP_PROTOCOL,
  PROP_NEGOTIATED,
  PROP_ID,
  PROP_PRIORITY,
  PROP_READY_STATE,
  PROP_BUFFERED_AMOUNT,
  PROP_BUFFERED_AMOUNT_LOW_THRESHOLD,
  N_PROPS
};
GParamSpec* props[N_PROPS];

enum {
  SIGNAL_ON_OPEN,
  SIGNAL_ON_CLOSE,
  SIGNAL_ON_ERROR,
  SIGNAL_ON_MESSAGE_DATA,
  SIGNAL_ON_MESSAGE_STRING,
  SIGNAL_ON_BUFFERED_AMOUNT_LOW,
  SIGNAL_SEND_DATA,
  SIGNAL_SEND_STRING,
  SIGNAL_CLOSE,
  N_SIGNALS
};
guint signals[N_SIGNALS];

ChannelImpl& impl_of(GstDtlsTransportDataChannel* self) { return *self->impl; }

std::shared_ptr<gstdtls::DataChannelTransport> transport_of(GstDtlsTransportDataChannel* self) {
  std::lock_guard lock(impl_of(self).lock);
  return impl_of(self).transport.lock();
}

void send(GstDtlsTransportDataChannel* self, bool binary, const uint8_t* data, size_t size) {
  auto transport = transport_of(self);
  std::string error = transport ? transport->send(self, binary, data, size)
                                : std::string("the data channel's transport is gone");
  if (!error.empty()) {
    GST_WARNING_OBJECT(self, "send refused: %s", error.c_str());
    gstdtls::data_channel_emit_error(self, error.c_str());
  }
}

void action_send_data(GstDtlsTransportDataChannel* self, GBytes* data) {
  gsize size = 0;
  const auto* bytes = data ? static_cast<const uint8_t*>(g_bytes_get_data(data, &size)) : nullptr;
  send(self, true, bytes, size);
}

void action_send_string(GstDtlsTransportDataChannel* self, const gchar* text) {
  send(self, false, reinterpret_cast<const uint8_t*>(text), text ? strlen(text) : 0);
}

void action_close(GstDtlsTransportDataChannel* self) {
  if (auto transport = transport_of(self)) {
    transport->close(self);
  } else {
    gstdtls::data_channel_set_state(self, GST_WEBRTC_DATA_CHANNEL_STATE_CLOSED);
  }
}

void get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_DTLS_TRANSPORT_DATA_CHANNEL(object);
  ChannelImpl& impl = impl_of(self);
  std::lock_guard lock(impl.lock);
  const auto& o = impl.options;
  switch (id) {
    case PROP_LABEL:
      g_value_set_string(value, o.label.c_str());
      break;
    case PROP_ORDERED:
      g_value_set_boolean(value, o.ordered);
      break;
    case PROP_MAX_PACKET_LIFETIME:
      g_value_set_int(value, o.max_packet_lifetime);
      break;
    case PROP_MAX_RETRANSMITS:
      g_value_set_int(value, o.max_retransmits);
      break;
    case PROP_PROTOCOL:
      g_value_set_string(value, o.protocol.c_str());
      break;
    case PROP_NEGOTIATED:
      g_value_set_boolean(value, o.negotiated);
      break;
    case PROP_ID:
      g_value_set_int(value, o.id);
      break;
    case PROP_PRIORITY:
      g_value_set_enum(value, o.priority);
      break;
    case PROP_READY_STATE:
      g_value_set_enum(value, impl.state);
      break;
    case PROP_BUFFERED_AMOUNT:
      g_value_set_uint64(value, impl.buffered_amount);
      break;
    case PROP_BUFFERED_AMOUNT_LOW_THRESHOLD:
      g_value_set_uint64(value, impl.low_threshold);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      break;
  }
}

void set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_DTLS_TRANSPORT_DATA_CHANNEL(object);
  if (id != PROP_BUFFERED_AMOUNT_LOW_THRESHOLD) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    return;
  }
  std::lock_guard lock(impl_of(self).lock);
  impl_of(self).low_threshold = g_value_get_uint64(value);
}

void finalize(GObject* object) {
  auto* self = GST_DTLS_TRANSPORT_DATA_CHANNEL(object);
  delete self->impl;
  G_OBJECT_CLASS(gst_dtls_transport_data_channel_parent_class)->finalize(object);
}

}  // namespace

static void gst_dtls_transport_data_channel_init(GstDtlsTransportDataChannel* self) {
  self->impl = new ChannelImpl();
}

static void gst_dtls_transport_data_channel_class_init(GstDtlsTransportDataChannelClass* klass) {
  auto* object_class = G_OBJECT_CLASS(klass);
  object_class->get_property = get_property;
  object_class->set_property = set_property;
  object_class->finalize = finalize;
  const auto ro = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_LABEL] = g_param_spec_string("label", "Label", "The channel's label", "", ro);
  props[PROP_ORDERED] = g_param_spec_boolean(
      "ordered", "Ordered", "Whether messages arrive in the order they were sent", TRUE, ro);
  props[PROP_MAX_PACKET_LIFETIME] = g_param_spec_int(
      "max-packet-lifetime", "Maximum packet lifetime",
      "Milliseconds during which a message is (re)transmitted in partially reliable mode "
      "(-1 = unset)",
      -1, G_MAXUINT16, -1, ro);
  props[PROP_MAX_RETRANSMITS] =
      g_param_spec_int("max-retransmits", "Maximum retransmits",
                       "Retransmissions of a message in partially reliable mode (-1 = unset)", -1,
                       G_MAXUINT16, -1, ro);
  props[PROP_PROTOCOL] =
      g_param_spec_string("protocol", "Protocol", "The channel's subprotocol", "", ro);
  props[PROP_NEGOTIATED] = g_param_spec_boolean(
      "negotiated", "Negotiated",
      "Whether the application negotiated the channel (no DATA_CHANNEL_OPEN sent)", FALSE, ro);
  props[PROP_ID] = g_param_spec_int(
      "id", "ID",
      "The SCTP stream id (-1 until chosen: even on the DTLS client, odd on the server)", -1, 65534,
      -1, ro);
  props[PROP_PRIORITY] =
      g_param_spec_enum("priority", "Priority", "The priority of the channel's data",
                        GST_TYPE_WEBRTC_PRIORITY_TYPE, GST_WEBRTC_PRIORITY_TYPE_LOW, ro);
  props[PROP_READY_STATE] = g_param_spec_enum(
      "ready-state", "Ready state",
      "connecting until the peer acknowledges (or, negotiated, until the SCTP association is up), "
      "then open; closing, closed",
      GST_TYPE_WEBRTC_DATA_CHANNEL_STATE, GST_WEBRTC_DATA_CHANNEL_STATE_CONNECTING, ro);
  props[PROP_BUFFERED_AMOUNT] = g_param_spec_uint64(
      "buffered-amount", "Buffered amount", "Bytes of messages sent but not yet taken by SCTP", 0,
      G_MAXUINT64, 0, ro);
  props[PROP_BUFFERED_AMOUNT_LOW_THRESHOLD] = g_param_spec_uint64(
      "buffered-amount-low-threshold", "Buffered amount low threshold",
      "on-buffered-amount-low is emitted when buffered-amount falls to or below this", 0,
      G_MAXUINT64, 0,
      static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                               GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_properties(object_class, N_PROPS, props);

  GType type = G_TYPE_FROM_CLASS(klass);
  signals[SIGNAL_ON_OPEN] = g_signal_new("on-open", type, G_SIGNAL_RUN_LAST, 0, nullptr, nullptr,
                                         nullptr, G_TYPE_NONE, 0);
  signals[SIGNAL_ON_CLOSE] = g_signal_new("on-close", type, G_SIGNAL_RUN_LAST, 0, nullptr, nullptr,
                                          nullptr, G_TYPE_NONE, 0);
  signals[SIGNAL_ON_ERROR] = g_signal_new("on-error", type, G_SIGNAL_RUN_LAST, 0, nullptr, nullptr,
                                          nullptr, G_TYPE_NONE, 1, G_TYPE_ERROR);
  signals[SIGNAL_ON_MESSAGE_DATA] =
      g_signal_new("on-message-data", type, G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr,
                   G_TYPE_NONE, 1, G_TYPE_BYTES);
  signals[SIGNAL_ON_MESSAGE_STRING] =
      g_signal_new("on-message-string", type, G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr,
                   G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_ON_BUFFERED_AMOUNT_LOW] =
      g_signal_new("on-buffered-amount-low", type, G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr,
                   G_TYPE_NONE, 0);
  const auto action = static_cast<GSignalFlags>(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION);
  signals[SIGNAL_SEND_DATA] =
      g_signal_new_class_handler("send-data", type, action, G_CALLBACK(action_send_data), nullptr,
                                 nullptr, nullptr, G_TYPE_NONE, 1, G_TYPE_BYTES);
  signals[SIGNAL_SEND_STRING] =
      g_signal_new_class_handler("send-string", type, action, G_CALLBACK(action_send_string),
                                 nullptr, nullptr, nullptr, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_CLOSE] = g_signal_new_class_handler(
      "close", type, action, G_CALLBACK(action_close), nullptr, nullptr, nullptr, G_TYPE_NONE, 0);
}

namespace gstdtls {

GstDtlsTransportDataChannel* data_channel_new(const ChannelOptions& options,
                                              std::weak_ptr<DataChannelTransport> transport) {
  auto* self =
      GST_DTLS_TRANSPORT_DATA_CHANNEL(g_object_new(GST_TYPE_DTLS_TRANSPORT_DATA_CHANNEL, nullptr));
  impl_of(self).options = options;
  impl_of(self).transport = std::move(transport);
  return self;
}

ChannelOptions data_channel_options(GstDtlsTransportDataChannel* channel) {
  std::lock_guard lock(impl_of(channel).lock);
  return impl_of(channel).options;
}

int data_channel_id(GstDtlsTransportDataChannel* channel) {
  std::lock_guard lock(impl_of(channel).lock);
  return impl_of(channel).options.id;
}

void data_channel_set_id(GstDtlsTransportDataChannel* channel, int id) {
  {
    std::lock_guard lock(impl_of(channel).lock);
    impl_of(channel).options.id = id;
  }
  g_object_notify_by_pspec(G_OBJECT(channel), props[PROP_ID]);
}

GstWebRTCDataChannelState data_channel_state(GstDtlsTransportDataChannel* channel) {
  std::lock_guard lock(impl_of(channel).lock);
  return impl_of(channel).state;
}

void data_channel_set_state(GstDtlsTransportDataChannel* channel, GstWebRTCDataChannelState state) {
  {
    std::lock_guard lock(impl_of(channel).lock);
    if (impl_of(channel).state == state) return;
    // closed is final
    if (impl_of(channel).state == GST_WEBRTC_DATA_CHANNEL_STATE_CLOSED) return;
    impl_of(channel).state = state;
  }
  GST_DEBUG_OBJECT(channel, "ready-state %d", state);
  g_object_notify_by_pspec(G_OBJECT(channel), props[PROP_READY_STATE]);
  if (state == GST_WEBRTC_DATA_CHANNEL_STATE_OPEN)
    g_signal_emit(channel, signals[SIGNAL_ON_OPEN], 0);
  if (state == GST_WEBRTC_DATA_CHANNEL_STATE_CLOSED)
    g_signal_emit(channel, signals[SIGNAL_ON_CLOSE], 0);
}

void data_channel_emit_string(GstDtlsTransportDataChannel* channel, const char* text) {
  g_signal_emit(channel, signals[SIGNAL_ON_MESSAGE_STRING], 0, text);
}

void data_channel_emit_data(GstDtlsTransportDataChannel* channel, GBytes* data) {
  g_signal_emit(channel, signals[SIGNAL_ON_MESSAGE_DATA], 0, data);
}

void data_channel_emit_error(GstDtlsTransportDataChannel* channel, const char* message) {
  GError* error = g_error_new_literal(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE, message);
  g_signal_emit(channel, signals[SIGNAL_ON_ERROR], 0, error);
  g_error_free(error);
}

void data_channel_buffered_add(GstDtlsTransportDataChannel* channel, uint64_t bytes) {
  {
    std::lock_guard lock(impl_of(channel).lock);
    impl_of(channel).buffered_amount += bytes;
  }
  g_object_notify_by_pspec(G_OBJECT(channel), props[PROP_BUFFERED_AMOUNT]);
}

void data_channel_buffered_remove(GstDtlsTransportDataChannel* channel, uint64_t bytes) {
  bool low = false;
  {
    std::lock_guard lock(impl_of(channel).lock);
    auto& impl = impl_of(channel);
    const uint64_t before = impl.buffered_amount;
    impl.buffered_amount -= std::min(bytes, impl.buffered_amount);
    // Once per crossing, as the W3C bufferedamountlow event.
    low = before > impl.low_threshold && impl.buffered_amount <= impl.low_threshold;
  }
  g_object_notify_by_pspec(G_OBJECT(channel), props[PROP_BUFFERED_AMOUNT]);
  if (low) g_signal_emit(channel, signals[SIGNAL_ON_BUFFERED_AMOUNT_LOW], 0);
}

}  // namespace gstdtls
