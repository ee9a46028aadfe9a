// dtlstransportbin's properties, set and get: each value is checked and parsed once, when it is
// set, into Settings (settings.h); a value that cannot apply to the running session says so on
// the bus. The table itself (names, blurbs, flags) is in property_specs.cpp.
#include <chrono>
#include <utility>

#include "bin_private.h"
#include "ice/ice_candidate.h"
#include "ice/ice_credentials.h"
#include "text.hpp"

#define GST_CAT_DEFAULT bin_debug

namespace dt = dtlstransport;

namespace gstdtls {
namespace {

// A string property's new value, trimmed; "" for NULL.
std::string trimmed_string(const GValue* value) {
  const gchar* text = g_value_get_string(value);
  return std::string(dt::trim(text ? text : ""));
}

// NULL for "", so an unset string property reads as NULL.
const char* or_null(const std::string& text) { return text.empty() ? nullptr : text.c_str(); }

// pt-map: NULL or empty caps clear it; otherwise every structure is application/x-rtp with an
// integer `payload` that is an RTP payload type (7 bits, RFC 3550 §5.1).
dt::Status check_pt_map(const GstCaps* caps) {
  if (!caps) return {};
  if (gst_caps_is_any(caps))
    return dt::Error{"ANY caps (give one application/x-rtp structure per payload type)"};
  for (guint i = 0; i < gst_caps_get_size(caps); ++i) {
    const GstStructure* structure = gst_caps_get_structure(caps, i);
    const std::string name = gst_structure_get_name(structure);
    const std::string which =
        "structure " + std::to_string(i + 1) + " (" + dt::abbreviate(name) + ")";
    if (name != "application/x-rtp") return dt::Error{which + " is not application/x-rtp"};
    gint payload = -1;
    if (!gst_structure_get_int(structure, "payload", &payload))
      return dt::Error{which + " has no integer 'payload' field"};
    if (payload < 0 || payload > 127)
      return dt::Error{which + ": payload " + std::to_string(payload) +
                       " is not an RTP payload type (0-127)"};
  }
  return {};
}

}  // namespace

GstDtlsTransportBinRole from_core_role(dt::DtlsRole role) {
  switch (role) {
    case dt::DtlsRole::Client:
      return GST_DTLS_TRANSPORT_BIN_ROLE_CLIENT;
    case dt::DtlsRole::Server:
      return GST_DTLS_TRANSPORT_BIN_ROLE_SERVER;
    default:
      return GST_DTLS_TRANSPORT_BIN_ROLE_AUTO;
  }
}

GstDtlsTransportBinState from_core_state(dt::DtlsState state) {
  switch (state) {
    case dt::DtlsState::Connecting:
      return GST_DTLS_TRANSPORT_BIN_STATE_CONNECTING;
    case dt::DtlsState::Connected:
      return GST_DTLS_TRANSPORT_BIN_STATE_CONNECTED;
    case dt::DtlsState::Closed:
      return GST_DTLS_TRANSPORT_BIN_STATE_CLOSED;
    case dt::DtlsState::Failed:
      return GST_DTLS_TRANSPORT_BIN_STATE_FAILED;
    default:
      return GST_DTLS_TRANSPORT_BIN_STATE_NEW;
  }
}

void set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_DTLS_TRANSPORT_BIN(object);
  BinImpl& impl = impl_of(self);
  Settings& s = impl.settings;
  // Messages are posted after the lock is released.
  std::string late;  // non-empty: the value was stored but cannot apply in this run
  switch (id) {
    case PROP_ROLE:
    case PROP_REMOTE_ROLE: {
      std::lock_guard lock(impl.lock);
      auto role = static_cast<GstDtlsTransportBinRole>(g_value_get_enum(value));
      (id == PROP_ROLE ? s.role : s.remote_role) = role;
      if (impl.run.phase == Phase::Started) late = "the DTLS handshake has started";
      break;
    }
    case PROP_ICE_CONTROLLING: {
      {
        std::lock_guard lock(impl.lock);
        s.ice_controlling = g_value_get_boolean(value);
      }
      if (auto ice = current_ice(self)) ice->set_controlling(g_value_get_boolean(value));
      break;
    }
    case PROP_CERTIFICATE:
    case PROP_CERTIFICATE_FILE: {
      const gchar* text = g_value_get_string(value);
      if (!text || !*text) {
        std::lock_guard lock(impl.lock);
        if (id == PROP_CERTIFICATE_FILE) s.certificate_file.clear();
        s.certificate_error.clear();  // a rejected value is withdrawn
        break;
      }
      auto loaded = id == PROP_CERTIFICATE ? dt::Certificate::from_pem(text)
                                           : dt::Certificate::from_file(text);
      bool running;
      {
        std::lock_guard lock(impl.lock);
        running = impl.run.phase != Phase::Null;
      }
      // While running (rotation) the new identity is checked at once, dates included: refused,
      // the identity in use stays. In NULL the dates are checked at NULL→READY.
      if (loaded && running) {
        if (dt::Status valid = loaded->check_validity(std::chrono::system_clock::now()); !valid)
          loaded = dt::Error{"the certificate is " + valid.error().message};
      }
      if (!loaded) {
        std::string why =
            std::string(pspec->name) + " rejected: " + dt::abbreviate(loaded.error().message, 512);
        if (running) {
          warn(self, "%s; the certificate in use is kept", why.c_str());
          return;
        }
        // Never a silent fall-back to a generated identity: NULL→READY fails until a valid one
        // is set (or this one is withdrawn with "").
        {
          std::lock_guard lock(impl.lock);
          s.certificate_error = why;
        }
        warn(self, "%s (the element will not start with another certificate)", why.c_str());
        return;
      }
      {
        std::lock_guard lock(impl.lock);
        s.certificate = std::move(loaded).value();
        s.certificate_from_user = true;
        s.certificate_error.clear();
        if (id == PROP_CERTIFICATE_FILE) s.certificate_file = text;
      }
      // The next handshake presents it; the application learns the new fingerprint now.
      identity_changed(self);
      break;
    }
    case PROP_KEY_TYPE:
    case PROP_CERTIFICATE_LIFETIME: {
      std::lock_guard lock(impl.lock);
      if (id == PROP_KEY_TYPE)
        s.key_type = static_cast<GstDtlsTransportBinKeyType>(g_value_get_enum(value));
      else
        s.certificate_lifetime = g_value_get_uint(value);
      if (impl.run.phase != Phase::Null)
        late = "the certificate is generated at NULL→READY";
      else if (!s.certificate_from_user)
        s.certificate.reset();  // regenerate with the new parameters
      break;
    }
    case PROP_CERTIFICATE_EXPIRY_WARNING: {
      {
        std::lock_guard lock(impl.lock);
        s.certificate_expiry_warning = g_value_get_uint(value);
      }
      identity_watch_update(self);
      break;
    }
    case PROP_REMOTE_FINGERPRINTS: {
      std::string text = trimmed_string(value);
      std::vector<dt::Fingerprint> parsed;
      if (!text.empty()) {
        auto result = dt::Fingerprint::parse_list(text);
        if (!result) {
          warn(self, "remote-fingerprints rejected: %s", result.error().message.c_str());
          return;
        }
        parsed = std::move(result).value();
      }
      bool started;
      {
        std::lock_guard lock(impl.lock);
        s.remote_fingerprints = parsed;
        started = impl.run.phase == Phase::Started;
      }
      // Late fingerprint (RFC 8842 signalling may lag the handshake): the core verifies now.
      if (started) endpoint_set_remote_fingerprints(self->endpoint, std::move(parsed));
      break;
    }
    case PROP_LOCAL_ICE_UFRAG:
    case PROP_LOCAL_ICE_PWD: {
      std::string text = trimmed_string(value);
      dt::Status valid = id == PROP_LOCAL_ICE_UFRAG ? check_ice_ufrag(text) : check_ice_pwd(text);
      if (!valid) {
        warn(self, "%s rejected: %s", pspec->name, valid.error().message.c_str());
        return;
      }
      std::lock_guard lock(impl.lock);
      (id == PROP_LOCAL_ICE_UFRAG ? s.local_ufrag : s.local_pwd) = text;
      // While a run is on, the value waits for restart-ice (or the next run): no warning.
      if (impl.run.phase != Phase::Null)
        GST_INFO_OBJECT(self, "%s stored for the next restart-ice", pspec->name);
      break;
    }
    case PROP_REMOTE_ICE_UFRAG:
    case PROP_REMOTE_ICE_PWD: {
      std::string text = trimmed_string(value);
      // RFC 8839 §5.4, as for our own credentials; "" clears.
      dt::Status valid = text.empty()                  ? dt::Status{}
                         : id == PROP_REMOTE_ICE_UFRAG ? check_ice_ufrag(text)
                                                       : check_ice_pwd(text);
      if (!valid) {
        warn(self, "%s rejected: %s; the previous value is kept", pspec->name,
             valid.error().message.c_str());
        return;
      }
      {
        std::lock_guard lock(impl.lock);
        (id == PROP_REMOTE_ICE_UFRAG ? s.remote_ufrag : s.remote_pwd) = std::move(text);
      }
      apply_remote_credentials(self);
      break;
    }
    case PROP_REMOTE_CANDIDATES: {
      {
        std::lock_guard lock(impl.lock);
        s.remote_candidates.clear();
        impl.run.remote_candidates_applied = 0;
      }
      // libnice cannot forget candidates: in a running session the new ones are added.
      const gchar* text = g_value_get_string(value);
      for (const auto& line : split_candidate_list(text ? text : ""))
        add_remote_candidate(self, line.c_str());
      return;
    }
    case PROP_LOCAL_ADDRESSES:
    case PROP_STUN_SERVER:
    case PROP_TURN_SERVER: {
      std::string text = trimmed_string(value);
      std::lock_guard lock(impl.lock);
      if (id == PROP_LOCAL_ADDRESSES)
        s.local_addresses = dt::split_list(text, ',');
      else
        (id == PROP_STUN_SERVER ? s.stun_server : s.turn_server) = text;
      if (impl.run.phase != Phase::Null) late = "the ICE agent is configured at NULL→READY";
      break;
    }
    case PROP_ICE_TRANSPORT_POLICY: {
      std::lock_guard lock(impl.lock);
      s.ice_transport_policy =
          static_cast<GstDtlsTransportBinIceTransportPolicy>(g_value_get_enum(value));
      if (impl.run.phase != Phase::Null) late = "the ICE agent is configured at NULL→READY";
      break;
    }
    case PROP_MIN_PORT:
    case PROP_MAX_PORT: {
      std::lock_guard lock(impl.lock);
      (id == PROP_MIN_PORT ? s.min_port : s.max_port) = g_value_get_uint(value);
      if (impl.run.phase != Phase::Null) late = "the ICE agent is configured at NULL→READY";
      break;
    }
    case PROP_SRTP_PROFILES: {
      const gchar* text = g_value_get_string(value);
      auto parsed = dt::parse_srtp_profiles(text ? text : "");
      if (!parsed) {
        warn(self, "srtp-profiles rejected: %s", parsed.error().message.c_str());
        return;
      }
      std::lock_guard lock(impl.lock);
      s.srtp_profiles = std::move(parsed).value();
      if (impl.run.phase >= Phase::Prepared) late = "the DTLS transport is created at READY→PAUSED";
      break;
    }
    case PROP_PT_MAP: {
      const GstCaps* caps = gst_value_get_caps(value);
      if (dt::Status valid = check_pt_map(caps); !valid) {
        warn(self, "pt-map rejected: %s; the previous map is kept", valid.error().message.c_str());
        return;
      }
      endpoint_set_pt_map(self->endpoint, caps);
      break;
    }
    case PROP_MTU:
    case PROP_HANDSHAKE_TIMEOUT: {
      std::lock_guard lock(impl.lock);
      (id == PROP_MTU ? s.mtu : s.handshake_timeout_ms) = g_value_get_uint(value);
      if (impl.run.phase >= Phase::Prepared) late = "the DTLS transport is created at READY→PAUSED";
      break;
    }
    case PROP_SCTP_PORT:
    case PROP_REMOTE_SCTP_PORT: {
      std::lock_guard lock(impl.lock);
      (id == PROP_SCTP_PORT ? s.sctp_port : s.remote_sctp_port) = g_value_get_uint(value);
      if (impl.run.phase == Phase::Started)
        late = "the SCTP association is configured when DTLS connects";
      break;
    }
    case PROP_MAX_MESSAGE_SIZE: {
      {
        std::lock_guard lock(impl.lock);
        s.max_message_size = g_value_get_uint(value);
      }
      impl.data_channels->set_max_message_size(g_value_get_uint(value));
      break;
    }
    case PROP_AUTO_RESTART: {
      std::lock_guard lock(impl.lock);
      s.auto_restart = g_value_get_boolean(value);
      break;
    }
    case PROP_SOCKET_BUFFER_SIZE: {
      std::lock_guard lock(impl.lock);
      s.socket_buffer_size = g_value_get_uint(value);
      if (impl.run.phase == Phase::Started) late = "socket buffers are sized when ICE connects";
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      return;
  }
  if (!late.empty())
    warn(self,
         "%s: new value stored but applies only from the next run (after the next NULL state, or "
         "at an auto-restart): %s",
         pspec->name, late.c_str());
}

void get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_DTLS_TRANSPORT_BIN(object);
  BinImpl& impl = impl_of(self);
  switch (id) {
    case PROP_STATE:
    case PROP_DTLS_ROLE:
    case PROP_SRTP_PROFILE:
    case PROP_REMOTE_CERTIFICATE: {
      auto info = endpoint_info(self->endpoint);
      if (id == PROP_STATE)
        g_value_set_enum(value, from_core_state(info.state));
      else if (id == PROP_DTLS_ROLE)
        g_value_set_enum(value, from_core_role(info.role));
      else if (id == PROP_SRTP_PROFILE)
        g_value_set_string(value, or_null(info.srtp_profile));
      else
        g_value_set_string(value, or_null(info.remote_certificate_pem));
      return;
    }
    case PROP_STATS:
      g_value_take_boxed(value, make_stats(self));
      return;
    case PROP_PT_MAP:
      g_value_take_boxed(value, endpoint_get_pt_map(self->endpoint));
      return;
    case PROP_ICE_CONTROLLING: {
      // The agent's view includes the tie-breaker's verdict.
      if (auto ice = current_ice(self)) {
        g_value_set_boolean(value, ice->controlling());
      } else {
        std::lock_guard lock(impl.lock);
        g_value_set_boolean(value, impl.settings.ice_controlling);
      }
      return;
    }
    default:
      break;
  }
  std::lock_guard lock(impl.lock);
  const Settings& s = impl.settings;
  const IceTransport* ice = impl.run.ice.get();  // the last run's, closed after NULL
  switch (id) {
    case PROP_ROLE:
      g_value_set_enum(value, s.role);
      break;
    case PROP_REMOTE_ROLE:
      g_value_set_enum(value, s.remote_role);
      break;
    case PROP_CERTIFICATE_FILE:
      g_value_set_string(value, or_null(s.certificate_file));
      break;
    case PROP_KEY_TYPE:
      g_value_set_enum(value, s.key_type);
      break;
    case PROP_CERTIFICATE_LIFETIME:
      g_value_set_uint(value, s.certificate_lifetime);
      break;
    case PROP_CERTIFICATE_EXPIRES:
      g_value_set_int64(value, certificate_expires(s));
      break;
    case PROP_CERTIFICATE_EXPIRY_WARNING:
      g_value_set_uint(value, s.certificate_expiry_warning);
      break;
    case PROP_LOCAL_CERTIFICATE:
      g_value_set_string(value, s.certificate ? s.certificate->certificate_pem().c_str() : nullptr);
      break;
    case PROP_LOCAL_FINGERPRINT:
      g_value_set_string(
          value, s.certificate ? s.certificate->fingerprint().to_string().c_str() : nullptr);
      break;
    case PROP_REMOTE_FINGERPRINTS: {
      std::vector<std::string> texts;
      for (const auto& fingerprint : s.remote_fingerprints)
        texts.push_back(fingerprint.to_string());
      g_value_set_string(value, or_null(dt::join_list(texts, ", ")));
      break;
    }
    case PROP_ICE_STATE:
      g_value_set_enum(value, ice ? ice->state() : GST_DTLS_TRANSPORT_BIN_ICE_STATE_NEW);
      break;
    case PROP_ICE_GATHERING_STATE:
      g_value_set_enum(
          value, ice ? ice->gathering_state() : GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_NEW);
      break;
    case PROP_LOCAL_ICE_UFRAG:
      g_value_set_string(value, s.local_ufrag.c_str());
      break;
    case PROP_LOCAL_ICE_PWD:
      g_value_set_string(value, s.local_pwd.c_str());
      break;
    case PROP_REMOTE_ICE_UFRAG:
      g_value_set_string(value, or_null(s.remote_ufrag));
      break;
    case PROP_REMOTE_ICE_PWD:
      g_value_set_string(value, or_null(s.remote_pwd));
      break;
    case PROP_LOCAL_CANDIDATES: {
      GStrvBuilder* builder = g_strv_builder_new();
      if (ice)
        for (const auto& line : ice->local_candidates()) g_strv_builder_add(builder, line.c_str());
      g_value_take_boxed(value, g_strv_builder_end(builder));
      g_strv_builder_unref(builder);
      break;
    }
    case PROP_REMOTE_CANDIDATES:
      g_value_set_string(value, or_null(join_candidate_list(s.remote_candidates)));
      break;
    case PROP_LOCAL_ADDRESSES:
      g_value_set_string(value, or_null(dt::join_list(s.local_addresses, ",")));
      break;
    case PROP_MIN_PORT:
      g_value_set_uint(value, s.min_port);
      break;
    case PROP_MAX_PORT:
      g_value_set_uint(value, s.max_port);
      break;
    case PROP_STUN_SERVER:
      g_value_set_string(value, or_null(s.stun_server));
      break;
    case PROP_TURN_SERVER:
      g_value_set_string(value, or_null(s.turn_server));
      break;
    case PROP_ICE_TRANSPORT_POLICY:
      g_value_set_enum(value, s.ice_transport_policy);
      break;
    case PROP_SRTP_PROFILES:
      g_value_set_string(value, dt::format_srtp_profiles(s.srtp_profiles).c_str());
      break;
    case PROP_MTU:
      g_value_set_uint(value, s.mtu);
      break;
    case PROP_HANDSHAKE_TIMEOUT:
      g_value_set_uint(value, s.handshake_timeout_ms);
      break;
    case PROP_ICE_AGENT:
      g_value_set_object(value, impl.run.phase != Phase::Null && ice ? ice->agent() : nullptr);
      break;
    case PROP_SOCKET_BUFFER_SIZE:
      g_value_set_uint(value, s.socket_buffer_size);
      break;
    case PROP_SCTP_PORT:
      g_value_set_uint(value, s.sctp_port);
      break;
    case PROP_REMOTE_SCTP_PORT:
      g_value_set_uint(value, s.remote_sctp_port);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      g_value_set_uint(value, s.max_message_size);
      break;
    case PROP_AUTO_RESTART:
      g_value_set_boolean(value, s.auto_restart);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      break;
  }
}

bool check_settings_at_ready(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  std::string certificate_error;
  guint min_port, max_port;
  bool relay_without_turn;
  {
    std::lock_guard lock(impl.lock);
    certificate_error = impl.settings.certificate_error;
    min_port = impl.settings.min_port;
    max_port = impl.settings.max_port;
    relay_without_turn =
        impl.settings.ice_transport_policy == GST_DTLS_TRANSPORT_BIN_ICE_TRANSPORT_POLICY_RELAY &&
        impl.settings.turn_servers().empty();
  }
  if (!certificate_error.empty()) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", certificate_error.c_str()),
                      ("a configured identity is never replaced by a generated one: set a valid "
                       "certificate or certificate-file, or set the rejected one to \"\" to "
                       "use a generated certificate"));
    return false;
  }
  // Checked here and not when set: the two are set one at a time, in any order.
  if (max_port != 0 && min_port > max_port) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                      ("min-port %u is above max-port %u", min_port, max_port),
                      ("the local UDP port range needs min-port <= max-port (0 = no limit)"));
    return false;
  }
  if (relay_without_turn) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("ice-transport-policy=relay needs a TURN server"),
                      ("relay uses only TURN-relayed candidates: set turn-server or call "
                       "add-turn-server, or set ice-transport-policy=all"));
    return false;
  }
  return true;
}

}  // namespace gstdtls
