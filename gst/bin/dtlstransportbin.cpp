// dtlstransportbin: the element — its GObject type, children, state changes, signals and actions,
// and what it tells the application (state-changed, warnings, element messages). A run's steps
// are in run.cpp, auto-restart in restart.cpp, properties in properties.cpp, stats in stats.cpp,
// the identity's life in identity.cpp; ICE in ice/, the data path in datapath/; the core in src/
// decides.
#include "dtlstransportbin.h"

#include <cstdarg>
#include <utility>

#include "bin_private.h"
#include "enums.h"
#include "ice/ice_credentials.h"
#include "sdp/sdp_actions.h"
#include "text.hpp"

GST_DEBUG_CATEGORY(bin_debug);
#define GST_CAT_DEFAULT bin_debug

namespace dt = dtlstransport;

G_DEFINE_TYPE(GstDtlsTransportBin, gst_dtls_transport_bin, GST_TYPE_BIN)

namespace gstdtls {
namespace {

enum {
  SIGNAL_STATE_CHANGED,
  SIGNAL_ON_LOCAL_CANDIDATE,
  SIGNAL_ON_GATHERING_DONE,
  SIGNAL_REQUEST_PT_MAP,
  SIGNAL_ADD_REMOTE_CANDIDATE,
  SIGNAL_SEND_RTCP,
  SIGNAL_STOP,
  SIGNAL_RESTART_ICE,
  SIGNAL_ADD_TURN_SERVER,
  SIGNAL_CREATE_SDP_OFFER,
  SIGNAL_ANSWER_SDP_OFFER,
  SIGNAL_APPLY_SDP_ANSWER,
  SIGNAL_CREATE_DATA_CHANNEL,
  SIGNAL_ON_DATA_CHANNEL,
  N_SIGNALS
};

guint signals[N_SIGNALS];

// Posts a warning message on the bus; false when there is no bus to tell.
bool post_warning(GstDtlsTransportBin* self, GQuark domain, gint code, const gchar* text) {
  GError* error = g_error_new_literal(domain, code, text);
  GstMessage* message = gst_message_new_warning(GST_OBJECT(self), error, text);
  g_error_free(error);
  return gst_element_post_message(GST_ELEMENT(self), message);
}

}  // namespace

namespace {

GstStateChangeReturn change_state(GstElement* element, GstStateChange transition) {
  auto* self = GST_DTLS_TRANSPORT_BIN(element);
  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      impl_of(self).restart = Restart{};
      if (!create_run(self)) return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!prepare_transport(self)) return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      // A run that left PLAYING ended its DTLS transport: this one begins a new one.
      if (!prepare_transport(self)) return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      auto_restart_cancel(self);
      end_dtls_on_leaving_playing(self);
      set_playing(self, false);
      endpoint_set_network_open(self->endpoint, false);
      break;
    default:
      break;
  }
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(gst_dtls_transport_bin_parent_class)->change_state(element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_NULL_TO_READY) destroy_run(self);
    return ret;
  }
  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (auto ice = current_ice(self)) {
        ice->gather();
        notify(self, PROP_ICE_GATHERING_STATE);
      }
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      apply_remote_candidates(self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      apply_remote_candidates(self);
      play_run(self);
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      auto_restart_cancel(self);
      impl_of(self).data_channels->end();
      endpoint_reset(self->endpoint);
      destroy_run(self);
      break;
    default:
      break;
  }
  return ret;
}

// --- Events from the data path ----------------------------------------------------------------

// The peer restarted and a new verified handshake replaced the association (state stays
// connected): tell the application with an element message and what changed.
void on_dtls_reconnected(GstDtlsTransportBin* self) {
  const EndpointInfo info = endpoint_info(self->endpoint);
  GST_INFO_OBJECT(self, "DTLS reconnected (%" G_GUINT64_FORMAT " so far)", info.reconnects);
  GstStructure* structure = gst_structure_new(
      "dtlstransport-reconnected", "role", G_TYPE_STRING, dt::dtls_role_name(info.role),
      "srtp-profile", G_TYPE_STRING, info.srtp_profile.c_str(), "reconnects", G_TYPE_UINT64,
      info.reconnects, nullptr);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), structure));
  notify(self, PROP_SRTP_PROFILE);
  notify(self, PROP_REMOTE_CERTIFICATE);
}

// Starts the SCTP association of the data channels on a connected DTLS transport when they are
// wanted and it does not run yet. Wanted: when a description was applied through the SDP actions,
// exactly when it negotiated an m=application section on both sides (RFC 8841: no section, no
// association; webrtcbin, for one, fails its receive path on DTLS application data it has no
// SCTP transport for); otherwise (properties only) once the application has created a channel or
// listens to on-data-channel. A bin that never uses data channels sends no SCTP packet and runs
// no SCTP elements.
void start_sctp_if_wanted(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  SctpConfig config;
  std::optional<bool> negotiated;
  bool created = false;
  {
    std::lock_guard lock(impl.lock);
    config.local_port = impl.settings.sctp_port;
    config.remote_port = impl.settings.remote_sctp_port;
    config.max_message_size = impl.settings.max_message_size;
    negotiated = impl.sdp_data_channels;
    created = impl.data_channel_created;
  }
  const bool wanted = negotiated.value_or(
      created || g_signal_has_handler_pending(self, signals[SIGNAL_ON_DATA_CHANNEL], 0, FALSE));
  if (!wanted) {
    GST_INFO_OBJECT(self, "%s: no SCTP association",
                    negotiated ? "no m=application section negotiated"
                               : "no data channel created and no on-data-channel handler");
    return;
  }
  // Called from the DTLS state change and from create-data-channel, possibly at once on two
  // threads: one start only (a second start would end the first association).
  std::lock_guard start_lock(impl.sctp_start_mutex);
  const EndpointInfo info = endpoint_info(self->endpoint);
  if (info.state != dt::DtlsState::Connected || impl.data_channels->running()) return;
  impl.data_channels->start(config, info.role);
}

void on_dtls_state(GstDtlsTransportBin* self, dt::DtlsState state, dt::FailureReason reason,
                   const std::string& detail) {
  GST_INFO_OBJECT(self, "DTLS %s%s%s", dt::dtls_state_name(state), detail.empty() ? "" : ": ",
                  detail.c_str());
  // What was negotiated is logged before anyone can see `connected`.
  if (state == dt::DtlsState::Connected) {
    const EndpointInfo info = endpoint_info(self->endpoint);
    GST_INFO_OBJECT(self, "DTLS connected: role %s, %s, cipher %s, SRTP profile %s",
                    dt::dtls_role_name(info.role), info.dtls_version.c_str(), info.cipher.c_str(),
                    info.srtp_profile.c_str());
  }
  // The SCTP association of the data channels lives exactly as long as this DTLS connection.
  if (state == dt::DtlsState::Connected) {
    start_sctp_if_wanted(self);
  } else if (state == dt::DtlsState::Failed || state == dt::DtlsState::Closed) {
    impl_of(self).data_channels->end();
  }
  notify(self, PROP_STATE);
  if (state == dt::DtlsState::Connected) {
    notify(self, PROP_DTLS_ROLE);
    notify(self, PROP_SRTP_PROFILE);
    notify(self, PROP_REMOTE_CERTIFICATE);
  }
  g_signal_emit(self, signals[SIGNAL_STATE_CHANGED], 0, from_core_state(state));
  if (state == dt::DtlsState::Failed) {
    // A failed transport is not a pipeline error: the application decides (restart, renegotiate),
    // or auto-restart does.
    gchar* text = g_strdup_printf("DTLS transport failed (%s): %s", dt::failure_reason_name(reason),
                                  detail.c_str());
    post_warning(self, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED, text);
    g_free(text);
  }
  bool closed_by_peer = false;
  if (state == dt::DtlsState::Closed) {
    BinImpl& impl = impl_of(self);
    std::lock_guard lock(impl.lock);
    closed_by_peer = !impl.run.closed_by_us;
  }
  if (state == dt::DtlsState::Failed || closed_by_peer) auto_restart_after_failure(self);
  if (state == dt::DtlsState::Connected) auto_restart_connected(self);
}

// --- Action signals ---------------------------------------------------------------------------

// create-data-channel: webrtcbin's option names and types; anything else is refused by name.
GstDtlsTransportDataChannel* action_create_data_channel(GstDtlsTransportBin* self,
                                                        const gchar* label,
                                                        const GstStructure* options) {
  ChannelOptions o;
  o.label = label ? label : "";
  std::string error;
  if (options) {
    for (int i = 0; i < gst_structure_n_fields(options) && error.empty(); i++) {
      const char* name = gst_structure_nth_field_name(options, i);
      const GValue* v = gst_structure_get_value(options, name);
      const std::string field = name;
      auto as_int = [&](int& out, int min, int max) {
        int n = 0;
        if (G_VALUE_HOLDS_INT(v)) {
          n = g_value_get_int(v);
        } else if (G_VALUE_HOLDS_UINT(v) && g_value_get_uint(v) <= G_MAXINT) {
          n = static_cast<int>(g_value_get_uint(v));
        } else {
          error = "option " + field + " must be an integer";
          return;
        }
        if (n < min || n > max)
          error = "option " + field + "=" + std::to_string(n) + " is outside " +
                  std::to_string(min) + "–" + std::to_string(max);
        else
          out = n;
      };
      if (field == "ordered" || field == "negotiated") {
        if (!G_VALUE_HOLDS_BOOLEAN(v))
          error = "option " + field + " must be a boolean";
        else
          (field == "ordered" ? o.ordered : o.negotiated) = g_value_get_boolean(v);
      } else if (field == "max-packet-lifetime") {
        as_int(o.max_packet_lifetime, -1, 65535);
      } else if (field == "max-retransmits") {
        as_int(o.max_retransmits, -1, 65535);
      } else if (field == "id") {
        as_int(o.id, -1, 65534);
      } else if (field == "protocol") {
        if (!G_VALUE_HOLDS_STRING(v))
          error = "option protocol must be a string";
        else
          o.protocol = g_value_get_string(v) ? g_value_get_string(v) : "";
      } else if (field == "priority") {
        gint priority;
        if (gst_structure_get_enum(options, name, GST_TYPE_WEBRTC_PRIORITY_TYPE, &priority))
          o.priority = static_cast<GstWebRTCPriorityType>(priority);
        else
          error = "option priority must be a GstWebRTCPriorityType";
      } else {
        error = "unknown option " + field +
                " (ordered, max-packet-lifetime, max-retransmits, protocol, negotiated, id, "
                "priority)";
      }
    }
  }
  GstDtlsTransportDataChannel* channel = nullptr;
  if (error.empty()) channel = impl_of(self).data_channels->create_channel(o, error);
  if (channel) {
    {
      BinImpl& impl = impl_of(self);
      std::lock_guard lock(impl.lock);
      impl.data_channel_created = true;
    }
    // Already connected without an association (properties only, no channel until now): now.
    start_sctp_if_wanted(self);
  }
  if (!channel) warn(self, "create-data-channel '%s' refused: %s", o.label.c_str(), error.c_str());
  return channel;
}

gboolean action_add_remote_candidate(GstDtlsTransportBin* self, const gchar* candidate) {
  return add_remote_candidate(self, candidate);
}

gboolean action_add_turn_server(GstDtlsTransportBin* self, const gchar* url) {
  return add_turn_server(self, url);
}

gboolean action_send_rtcp(GstDtlsTransportBin* self, GstBuffer* buffer) {
  if (!buffer) return FALSE;
  return endpoint_send_rtcp(self->endpoint, buffer);
}

void action_stop(GstDtlsTransportBin* self) {
  {
    BinImpl& impl = impl_of(self);
    std::lock_guard lock(impl.lock);
    impl.run.closed_by_us = true;
  }
  endpoint_stop(self->endpoint);
}

// RFC 8445 §9: new local credentials (those set on local-ice-ufrag/local-ice-pwd since the agent
// took its current ones, else random), the remote credentials and candidates of the old
// generation forgotten, local candidates announced again. DTLS and SRTP are untouched: once the
// application gives the peer's new credentials and candidates, media goes on over the new pair
// with the same association and keys.
gboolean action_restart_ice(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  std::shared_ptr<IceTransport> ice;
  std::string ufrag, pwd;
  {
    std::lock_guard lock(impl.lock);
    if (impl.run.phase != Phase::Null) {
      ice = impl.run.ice;
      Settings& s = impl.settings;
      ufrag = s.local_ufrag != ice->local_ufrag() ? s.local_ufrag : random_ice_ufrag();
      pwd = s.local_pwd != ice->local_pwd() ? s.local_pwd : random_ice_pwd();
      s.local_ufrag = ufrag;
      s.local_pwd = pwd;
      s.remote_ufrag.clear();
      s.remote_pwd.clear();
      s.remote_candidates.clear();
      impl.run.remote_candidates_applied = 0;
    }
  }
  if (!ice) {
    warn(self, "restart-ice ignored: no ICE agent before the READY state");
    return FALSE;
  }
  GST_INFO_OBJECT(self, "ICE restart");
  for (int property : {PROP_LOCAL_ICE_UFRAG, PROP_LOCAL_ICE_PWD, PROP_REMOTE_ICE_UFRAG,
                       PROP_REMOTE_ICE_PWD, PROP_REMOTE_CANDIDATES})
    notify(self, property);
  ice->restart(ufrag, pwd);  // emits on-local-candidate and on-gathering-done
  return TRUE;
}

// SDP (sdp/sdp_actions.cpp).
gchar* action_create_sdp_offer(GstDtlsTransportBin* self, GstCaps* codecs) {
  return sdp_create_offer(self, codecs);
}

gchar* action_answer_sdp_offer(GstDtlsTransportBin* self, const gchar* offer, GstCaps* codecs) {
  return sdp_answer_offer(self, offer, codecs);
}

gboolean action_apply_sdp_answer(GstDtlsTransportBin* self, const gchar* answer) {
  return sdp_apply_answer(self, answer);
}

void ghost(GstDtlsTransportBin* self, const char* name) {
  GstPad* target = gst_element_get_static_pad(GST_ELEMENT(self->endpoint), name);
  GstPadTemplate* templ = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), name);
  GstPad* pad = gst_ghost_pad_new_from_template(name, target, templ);
  gst_object_unref(target);
  gst_element_add_pad(GST_ELEMENT(self), pad);
}

}  // namespace

IceEvents ice_events(GstDtlsTransportBin* self) {
  IceEvents events;
  events.state_changed = [self] { notify(self, PROP_ICE_STATE); };
  events.connected = [self] {
    if (auto ice = current_ice(self)) schedule_start_dtls(self, ice);
  };
  events.local_candidate = [self](const std::string& line) {
    GST_INFO_OBJECT(self, "local candidate: %s", line.c_str());
    g_signal_emit(self, signals[SIGNAL_ON_LOCAL_CANDIDATE], 0, line.c_str());
    notify(self, PROP_LOCAL_CANDIDATES);
    post_local_parameters(self);
  };
  events.gathering_done = [self] {
    GST_INFO_OBJECT(self, "ICE gathering done");
    notify(self, PROP_ICE_GATHERING_STATE);
    g_signal_emit(self, signals[SIGNAL_ON_GATHERING_DONE], 0);
    post_local_parameters(self);
  };
  events.warning = [self](const std::string& text) { warn(self, "%s", text.c_str()); };
  events.failed = [self](const std::string& detail) {
    if (auto ice = current_ice(self)) schedule_transport_lost(self, ice, detail);
  };
  return events;
}

void post_element_message(GstDtlsTransportBin* self, const char* name, const char* first_field,
                          ...) {
  va_list args;
  va_start(args, first_field);
  GstStructure* structure = gst_structure_new_valist(name, first_field, args);
  va_end(args);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), structure));
}

void warn(GstDtlsTransportBin* self, const char* format, ...) {
  va_list args;
  va_start(args, format);
  gchar* formatted = g_strdup_vprintf(format, args);
  va_end(args);
  const std::string text = dt::abbreviate(formatted, kMaxWarningBytes);
  g_free(formatted);
  GST_WARNING_OBJECT(self, "%s", text.c_str());
  if (!post_warning(self, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS, text.c_str())) {
    g_warning("%s: %s", GST_OBJECT_NAME(self), text.c_str());  // no bus to tell yet
    BinImpl& impl = impl_of(self);
    std::lock_guard lock(impl.lock);
    if (impl.unposted_warnings.size() < BinImpl::kMaxUnposted)
      impl.unposted_warnings.push_back(text);
  }
}

void post_unposted_warnings(GstDtlsTransportBin* self) {
  std::vector<std::string> texts;
  {
    BinImpl& impl = impl_of(self);
    std::lock_guard lock(impl.lock);
    texts.swap(impl.unposted_warnings);
  }
  for (const auto& text : texts)
    post_warning(self, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS, text.c_str());
}

}  // namespace gstdtls

using namespace gstdtls;

static void gst_dtls_transport_bin_init(GstDtlsTransportBin* self) {
  new (&self->impl) std::unique_ptr<BinImpl>(std::make_unique<BinImpl>());
  BinImpl& impl = impl_of(self);
  impl.settings.local_ufrag = random_ice_ufrag();
  impl.settings.local_pwd = random_ice_pwd();

  self->endpoint = GST_DTLS_TRANSPORT_ENDPOINT(
      g_object_new(GST_TYPE_DTLS_TRANSPORT_ENDPOINT, "name", "endpoint", nullptr));
  gst_bin_add(GST_BIN(self), GST_ELEMENT(self->endpoint));
  EndpointListener listener;
  listener.state_changed = [self](dt::DtlsState state, dt::FailureReason reason,
                                  const std::string& detail) {
    on_dtls_state(self, state, reason, detail);
  };
  listener.reconnected = [self] { on_dtls_reconnected(self); };
  listener.request_pt_map = [self](guint pt) -> GstCaps* {
    GstCaps* caps = nullptr;
    g_signal_emit(self, signals[SIGNAL_REQUEST_PT_MAP], 0, pt, &caps);
    return caps;
  };
  endpoint_set_listener(self->endpoint, std::move(listener));
  impl.data_channels = std::make_shared<DataChannelTransport>(GST_BIN(self), self->endpoint);
  impl.data_channels->on_data_channel = [self](GstDtlsTransportDataChannel* channel) {
    g_signal_emit(self, signals[SIGNAL_ON_DATA_CHANNEL], 0, channel);
  };

  for (const char* name : {"rtp_sink", "rtcp_sink", "rtp_src", "rtcp_src"}) ghost(self, name);
}

static void gst_dtls_transport_bin_dispose(GObject* object) {
  // Only does something if the application dropped us without going to NULL; runs before the
  // parent's dispose releases the children. The endpoint's DTLS timer holds a reference to the
  // endpoint: resetting it breaks that cycle.
  auto* self = GST_DTLS_TRANSPORT_BIN(object);
  auto_restart_cancel(self);
  if (impl_of(self).data_channels) impl_of(self).data_channels->end(true);
  if (self->endpoint) endpoint_reset(self->endpoint);
  destroy_run(self);
  G_OBJECT_CLASS(gst_dtls_transport_bin_parent_class)->dispose(object);
  self->endpoint = nullptr;  // released by the parent's dispose with the other children
}

static void gst_dtls_transport_bin_finalize(GObject* object) {
  auto* self = GST_DTLS_TRANSPORT_BIN(object);
  self->impl.~unique_ptr();
  G_OBJECT_CLASS(gst_dtls_transport_bin_parent_class)->finalize(object);
}

static void gst_dtls_transport_bin_class_init(GstDtlsTransportBinClass* klass) {
  GST_DEBUG_CATEGORY_INIT(bin_debug, "dtlstransportbin", 0, "DTLS-SRTP transport bin");
  auto* object_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  object_class->set_property = gstdtls::set_property;
  object_class->get_property = gstdtls::get_property;
  object_class->dispose = gst_dtls_transport_bin_dispose;
  object_class->finalize = gst_dtls_transport_bin_finalize;
  element_class->change_state = change_state;
  install_properties(object_class);
  install_identity_signals(G_TYPE_FROM_CLASS(klass));

  GType type = G_TYPE_FROM_CLASS(klass);
  signals[SIGNAL_STATE_CHANGED] =
      g_signal_new("state-changed", type, G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr,
                   G_TYPE_NONE, 1, GST_TYPE_DTLS_TRANSPORT_BIN_STATE);
  signals[SIGNAL_ON_LOCAL_CANDIDATE] =
      g_signal_new("on-local-candidate", type, G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr,
                   G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_ON_GATHERING_DONE] = g_signal_new("on-gathering-done", type, G_SIGNAL_RUN_LAST, 0,
                                                   nullptr, nullptr, nullptr, G_TYPE_NONE, 0);
  signals[SIGNAL_REQUEST_PT_MAP] =
      g_signal_new("request-pt-map", type, G_SIGNAL_RUN_LAST, 0, g_signal_accumulator_first_wins,
                   nullptr, nullptr, GST_TYPE_CAPS, 1, G_TYPE_UINT);
  signals[SIGNAL_ADD_REMOTE_CANDIDATE] = g_signal_new_class_handler(
      "add-remote-candidate", type, static_cast<GSignalFlags>(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(action_add_remote_candidate), nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 1,
      G_TYPE_STRING);
  signals[SIGNAL_SEND_RTCP] = g_signal_new_class_handler(
      "send-rtcp", type, static_cast<GSignalFlags>(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(action_send_rtcp), nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 1, GST_TYPE_BUFFER);
  signals[SIGNAL_STOP] = g_signal_new_class_handler(
      "stop", type, static_cast<GSignalFlags>(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(action_stop), nullptr, nullptr, nullptr, G_TYPE_NONE, 0);
  signals[SIGNAL_RESTART_ICE] = g_signal_new_class_handler(
      "restart-ice", type, static_cast<GSignalFlags>(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(action_restart_ice), nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 0);
  const auto action = static_cast<GSignalFlags>(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION);
  signals[SIGNAL_CREATE_SDP_OFFER] = g_signal_new_class_handler(
      "create-sdp-offer", type, action, G_CALLBACK(action_create_sdp_offer), nullptr, nullptr,
      nullptr, G_TYPE_STRING, 1, GST_TYPE_CAPS);
  signals[SIGNAL_ANSWER_SDP_OFFER] = g_signal_new_class_handler(
      "answer-sdp-offer", type, action, G_CALLBACK(action_answer_sdp_offer), nullptr, nullptr,
      nullptr, G_TYPE_STRING, 2, G_TYPE_STRING, GST_TYPE_CAPS);
  signals[SIGNAL_APPLY_SDP_ANSWER] = g_signal_new_class_handler(
      "apply-sdp-answer", type, action, G_CALLBACK(action_apply_sdp_answer), nullptr, nullptr,
      nullptr, G_TYPE_BOOLEAN, 1, G_TYPE_STRING);

  signals[SIGNAL_CREATE_DATA_CHANNEL] = g_signal_new_class_handler(
      "create-data-channel", type, action, G_CALLBACK(action_create_data_channel), nullptr, nullptr,
      nullptr, GST_TYPE_DTLS_TRANSPORT_DATA_CHANNEL, 2, G_TYPE_STRING, GST_TYPE_STRUCTURE);
  signals[SIGNAL_ON_DATA_CHANNEL] =
      g_signal_new("on-data-channel", type, G_SIGNAL_RUN_LAST, 0, nullptr, nullptr, nullptr,
                   G_TYPE_NONE, 1, GST_TYPE_DTLS_TRANSPORT_DATA_CHANNEL);

  signals[SIGNAL_ADD_TURN_SERVER] = g_signal_new_class_handler(
      "add-turn-server", type, static_cast<GSignalFlags>(G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION),
      G_CALLBACK(action_add_turn_server), nullptr, nullptr, nullptr, G_TYPE_BOOLEAN, 1,
      G_TYPE_STRING);

  for (GstStaticPadTemplate* templ :
       {&rtp_sink_template, &rtcp_sink_template, &rtp_src_template, &rtcp_src_template})
    gst_element_class_add_static_pad_template(element_class, templ);
  gst_element_class_set_static_metadata(
      element_class, "DTLS-SRTP transport", "Filter/Network/RTP",
      "ICE (libnice) + DTLS 1.2 + SRTP in one element: connect payloaders/rtpbin to rtp_sink/"
      "rtcp_sink and depayloaders to rtp_src/rtcp_src",
      "gst-dtlstransport");
  for (GType api :
       {GST_TYPE_DTLS_TRANSPORT_BIN_ROLE, GST_TYPE_DTLS_TRANSPORT_BIN_STATE,
        GST_TYPE_DTLS_TRANSPORT_BIN_ICE_STATE, GST_TYPE_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE,
        GST_TYPE_DTLS_TRANSPORT_BIN_KEY_TYPE, GST_TYPE_DTLS_TRANSPORT_BIN_ICE_TRANSPORT_POLICY})
    gst_type_mark_as_plugin_api(api, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(GST_TYPE_DTLS_TRANSPORT_DATA_CHANNEL,
                              static_cast<GstPluginAPIFlags>(0));
}
