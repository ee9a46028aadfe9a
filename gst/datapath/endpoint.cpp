// The data-path element: its pads, its place in the bin's state changes, and the snapshot the bin
// reads for properties and stats. What flows through it is in send_path.cpp and receive_path.cpp;
// the DTLS core is driven by dtls_driver.cpp.
#include "endpoint_private.h"

GST_DEBUG_CATEGORY(endpoint_debug);
#define GST_CAT_DEFAULT endpoint_debug

G_DEFINE_TYPE(GstDtlsTransportEndpoint, gst_dtls_transport_endpoint, GST_TYPE_ELEMENT)

using gstdtls::EndpointImpl;
using gstdtls::impl_of;
using gstdtls::rtcp_sink_template;
using gstdtls::rtcp_src_template;
using gstdtls::rtp_sink_template;
using gstdtls::rtp_src_template;

namespace {

GstStaticPadTemplate net_sink_template =
    GST_STATIC_PAD_TEMPLATE("net_sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
GstStaticPadTemplate net_src_template =
    GST_STATIC_PAD_TEMPLATE("net_src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
GstStaticPadTemplate data_sink_template =
    GST_STATIC_PAD_TEMPLATE("data_sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
GstStaticPadTemplate data_src_template =
    GST_STATIC_PAD_TEMPLATE("data_src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

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
    {
      std::lock_guard lock(impl.net_mutex);
      impl.net_started = false;
    }
    std::lock_guard lock(impl.data_push_mutex);
    impl.data_src_started = false;
  }
  return GST_ELEMENT_CLASS(gst_dtls_transport_endpoint_parent_class)
      ->change_state(element, transition);
}

}  // namespace

static void gst_dtls_transport_endpoint_init(GstDtlsTransportEndpoint* self) {
  new (&self->impl) std::unique_ptr<EndpointImpl>(std::make_unique<EndpointImpl>());
  self->net_sink = make_pad(self, &net_sink_template);
  gst_pad_set_chain_function(self->net_sink, gstdtls::net_chain);
  gst_pad_set_event_function(self->net_sink, gstdtls::media_sink_event);
  self->net_src = make_pad(self, &net_src_template);
  self->rtp_sink = make_pad(self, &rtp_sink_template);
  self->rtcp_sink = make_pad(self, &rtcp_sink_template);
  for (GstPad* pad : {self->rtp_sink, self->rtcp_sink}) {
    gst_pad_set_chain_function(pad, gstdtls::send_chain);
    gst_pad_set_chain_list_function(pad, gstdtls::send_chain_list);
    gst_pad_set_event_function(pad, gstdtls::media_sink_event);
  }
  self->rtp_src = make_pad(self, &rtp_src_template);
  self->rtcp_src = make_pad(self, &rtcp_src_template);
  for (GstPad* pad : {self->rtp_src, self->rtcp_src}) {
    gst_pad_set_query_function(pad, gstdtls::media_src_query);
    gst_pad_use_fixed_caps(pad);
  }
  self->data_sink = make_pad(self, &data_sink_template);
  gst_pad_set_chain_function(self->data_sink, gstdtls::data_sink_chain);
  gst_pad_set_event_function(self->data_sink, gstdtls::media_sink_event);
  self->data_src = make_pad(self, &data_src_template);
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
  for (GstStaticPadTemplate* templ :
       {&net_sink_template, &net_src_template, &rtp_sink_template, &rtcp_sink_template,
        &rtp_src_template, &rtcp_src_template, &data_sink_template, &data_src_template})
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

// gst_pad_create_stream_id() refuses elements with several sink pads: make a unique id here.
void push_stream_start(GstPad* pad, const char* suffix) {
  gchar* stream_id = g_strdup_printf("%08x%08x/%s", g_random_int(), g_random_int(), suffix);
  gst_pad_push_event(pad, gst_event_new_stream_start(stream_id));
  g_free(stream_id);
}

// Takes `caps`: gst_event_new_caps() only adds its own reference.
void push_caps(GstPad* pad, GstCaps* caps) {
  gst_pad_push_event(pad, gst_event_new_caps(caps));
  gst_caps_unref(caps);
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
  info.dropped_malformed = impl.dropped_malformed + impl.discarded_dtls_records;
  info.sctp_packets_sent = impl.sctp_packets_sent;
  info.sctp_packets_received = impl.sctp_packets_received;
  info.sctp_packets_dropped = impl.sctp_packets_dropped;
  return info;
}

}  // namespace gstdtls
