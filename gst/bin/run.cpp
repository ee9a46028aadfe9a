// A run of dtlstransportbin: NULL→READY creates it (identity, ICE agent, nicesrc/nicesink),
// READY→PAUSED prepares its DTLS transport, PLAYING opens the network and starts DTLS once ICE has
// a pair, READY→NULL destroys it; remote credentials and candidates reach libnice from here; ICE
// failure fails the DTLS transport. dtlstransportbin.cpp calls these from its state changes,
// restart.cpp from auto-restart.
#include <algorithm>
#include <utility>

#include "bin_private.h"
#include "ice/ice_candidate.h"
#include "text.hpp"

#define GST_CAT_DEFAULT bin_debug

namespace dt = dtlstransport;

namespace gstdtls {
namespace {

dt::DtlsRole to_core_role(GstDtlsTransportBinRole role) {
  switch (role) {
    case GST_DTLS_TRANSPORT_BIN_ROLE_CLIENT:
      return dt::DtlsRole::Client;
    case GST_DTLS_TRANSPORT_BIN_ROLE_SERVER:
      return dt::DtlsRole::Server;
    default:
      return dt::DtlsRole::Auto;
  }
}

// --- A run ------------------------------------------------------------------------------------

// nicesrc/nicesink refuse a new agent once they have one, so each run gets new ones.
bool create_nice_elements(GstDtlsTransportBin* self) {
  self->nicesrc = gst_element_factory_make("nicesrc", "nicesrc");
  self->nicesink = gst_element_factory_make("nicesink", "nicesink");
  if (!self->nicesrc || !self->nicesink) {
    if (self->nicesrc) gst_object_unref(gst_object_ref_sink(self->nicesrc));
    if (self->nicesink) gst_object_unref(gst_object_ref_sink(self->nicesink));
    self->nicesrc = self->nicesink = nullptr;
    GST_ELEMENT_ERROR(self, CORE, MISSING_PLUGIN, ("nicesrc/nicesink not found"),
                      ("install libnice's GStreamer plugin (gstreamer1.0-nice)"));
    return false;
  }
  // nicesink must never wait for the clock or preroll: DTLS and SRTP go out as they come.
  g_object_set(self->nicesink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, nullptr);
  gst_bin_add_many(GST_BIN(self), self->nicesrc, self->nicesink, nullptr);
  gst_element_link_pads(self->nicesrc, "src", GST_ELEMENT(self->endpoint), "net_sink");
  gst_element_link_pads(GST_ELEMENT(self->endpoint), "net_src", self->nicesink, "sink");
  return true;
}

void remove_nice_elements(GstDtlsTransportBin* self) {
  for (GstElement** element : {&self->nicesrc, &self->nicesink}) {
    if (!*element) continue;
    gst_element_set_state(*element, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(self), *element);
    *element = nullptr;
  }
}

// --- Starting DTLS ----------------------------------------------------------------------------

// Starts the handshake if `ice` is still this run's and the run is PLAYING with a working pair.
void start_dtls(GstDtlsTransportBin* self, const std::shared_ptr<IceTransport>& ice) {
  BinImpl& impl = impl_of(self);
  dt::DtlsRole local_role;
  dt::DtlsParameters remote;
  guint socket_buffer_size;
  {
    std::lock_guard lock(impl.lock);
    if (impl.run.ice != ice || impl.run.phase != Phase::Playing || !ice->connected()) return;
    impl.run.phase = Phase::Started;
    local_role = to_core_role(impl.settings.role);
    remote.role = to_core_role(impl.settings.remote_role);
    remote.fingerprints = impl.settings.remote_fingerprints;
    socket_buffer_size = impl.settings.socket_buffer_size;
  }
  ice->size_socket_buffers(socket_buffer_size);
  // Auto role follows the final ICE role, after libnice's tie-breaker (RFC 8445 §7.3.1.1).
  const bool controlling = ice->controlling();
  GST_INFO_OBJECT(self, "ICE connected (%s): starting DTLS",
                  controlling ? "controlling" : "controlled");
  endpoint_start(self->endpoint, local_role, remote, controlling);
}

struct StartRequest {
  GstDtlsTransportBin* self;
  std::shared_ptr<IceTransport> ice;
};

struct LostRequest {
  GstDtlsTransportBin* self;
  std::shared_ptr<IceTransport> ice;
  std::string detail;
};

}  // namespace

// DTLS never starts inside a libnice callback or a state change: it is queued on the shared
// context.
void schedule_start_dtls(GstDtlsTransportBin* self, const std::shared_ptr<IceTransport>& ice) {
  auto* request = new StartRequest{GST_DTLS_TRANSPORT_BIN(gst_object_ref(self)), ice};
  GSource* source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_HIGH);
  g_source_set_callback(
      source,
      [](gpointer data) -> gboolean {
        auto* r = static_cast<StartRequest*>(data);
        start_dtls(r->self, r->ice);
        return G_SOURCE_REMOVE;
      },
      request,
      [](gpointer data) {
        auto* r = static_cast<StartRequest*>(data);
        gst_object_unref(r->self);
        delete r;
      });
  g_source_attach(source, ice->context());
  g_source_unref(source);
}

// --- ICE failure ------------------------------------------------------------------------------

// ICE failed (no pair worked, or consent expired): DTLS fails with TransportLost whatever state it
// is in, New included, so `state` says failed with the reason and the bin posts its WARNING
// (on_dtls_state). Queued on the shared context like start_dtls, never run inside libnice's
// callback; ignored if the run has changed since.
void schedule_transport_lost(GstDtlsTransportBin* self, const std::shared_ptr<IceTransport>& ice,
                             const std::string& detail) {
  auto* request = new LostRequest{GST_DTLS_TRANSPORT_BIN(gst_object_ref(self)), ice, detail};
  GSource* source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_HIGH);
  g_source_set_callback(
      source,
      [](gpointer data) -> gboolean {
        auto* r = static_cast<LostRequest*>(data);
        BinImpl& impl = impl_of(r->self);
        bool current;
        {
          std::lock_guard lock(impl.lock);
          // From Prepared on the DTLS transport exists; libnice cannot fail earlier (it checks
          // nothing before it has remote candidates, which it gets at Prepared).
          current = impl.run.ice == r->ice && impl.run.phase >= Phase::Prepared;
        }
        if (current) {
          GST_WARNING_OBJECT(r->self, "%s", r->detail.c_str());
          endpoint_transport_lost(r->self->endpoint, r->detail);
        }
        return G_SOURCE_REMOVE;
      },
      request,
      [](gpointer data) {
        auto* r = static_cast<LostRequest*>(data);
        gst_object_unref(r->self);
        delete r;
      });
  g_source_attach(source, ice->context());
  g_source_unref(source);
}

// NULL→READY: the identity (loaded or generated here, off the streaming threads; local-fingerprint
// is readable from READY on) and the ICE agent.
bool create_run(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  post_unposted_warnings(self);
  if (!check_settings_at_ready(self) || !check_descriptors_at_ready(self) ||
      !prepare_identity(self))
    return false;
  if (!create_nice_elements(self)) return false;
  std::optional<dt::Certificate> certificate;
  dt::CertificateOptions options;
  IceSettings ice_settings;
  {
    std::lock_guard lock(impl.lock);
    const Settings& s = impl.settings;
    certificate = s.certificate;
    options.key_type = s.key_type == GST_DTLS_TRANSPORT_BIN_KEY_TYPE_RSA_2048
                           ? dt::KeyType::Rsa2048
                           : dt::KeyType::EcdsaP256;
    options.lifetime = std::chrono::seconds(s.certificate_lifetime);
    ice_settings.controlling = s.ice_controlling;
    ice_settings.local_addresses = s.local_addresses;
    ice_settings.stun_server = s.stun_server;
    ice_settings.turn_servers = s.turn_servers();
    ice_settings.relay_only =
        s.ice_transport_policy == GST_DTLS_TRANSPORT_BIN_ICE_TRANSPORT_POLICY_RELAY;
    ice_settings.min_port = s.min_port;
    ice_settings.max_port = s.max_port;
    ice_settings.ufrag = s.local_ufrag;
    ice_settings.pwd = s.local_pwd;
  }
  if (!certificate) {
    auto generated = dt::Certificate::generate(options);
    if (!generated) {
      GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("cannot generate a DTLS certificate"),
                        ("%s", generated.error().message.c_str()));
      remove_nice_elements(self);
      return false;
    }
    std::lock_guard lock(impl.lock);
    // Unless a certificate was set meanwhile (from another thread): a configured one wins.
    if (!impl.settings.certificate) impl.settings.certificate = std::move(generated).value();
  }

  auto ice = IceTransport::create(ice_settings, ice_events(self));
  if (ice_settings.relay_only && ice->turn_server_count() == 0) {
    // Each refusal has been posted as a warning; relay-only with no server would gather nothing.
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS,
                      ("ice-transport-policy=relay: none of the %zu TURN server(s) can be used",
                       ice_settings.turn_servers.size()),
                      ("see the warnings before this error for why each was refused"));
    ice->close();
    remove_nice_elements(self);
    return false;
  }
  ice->attach(self->nicesrc, self->nicesink);
  {
    std::lock_guard lock(impl.lock);
    impl.run = Run{Phase::Ready, ice, 0, false};
  }
  apply_remote_credentials(self);
  notify(self, PROP_ICE_STATE);
  notify(self, PROP_LOCAL_FINGERPRINT);
  post_local_parameters(self);
  identity_watch_start(self);
  return true;
}

// READY→PAUSED: the DTLS transport of this run, so DTLS settings made in READY still apply.
bool prepare_transport(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  dt::Status status;
  {
    // A certificate rotation (identity_changed) waits until the transport exists, then gives it
    // the new identity; one done before is in Settings and so in the context chosen below.
    std::lock_guard identity(impl.identity_lock);
    dt::DtlsConfig config;
    GMainContext* context = nullptr;
    {
      std::lock_guard lock(impl.lock);
      if (impl.run.phase != Phase::Ready) return true;  // prepared earlier in this run
      const Settings& s = impl.settings;
      const bool reusable = impl.dtls_context &&
                            impl.dtls_context->certificate().x509() == s.certificate->x509() &&
                            impl.dtls_context->srtp_profiles() == s.srtp_profiles;
      if (!reusable) {
        auto created = dt::DtlsContext::create(*s.certificate, s.srtp_profiles);
        if (created)
          impl.dtls_context = std::move(created).value();
        else
          status = created.error();
      }
      config.context = impl.dtls_context;
      config.mtu = s.mtu;
      config.handshake_timeout = std::chrono::milliseconds(s.handshake_timeout_ms);
      context = g_main_context_ref(impl.run.ice->context());
    }
    if (status) status = endpoint_prepare(self->endpoint, std::move(config), context);
    g_main_context_unref(context);
    if (status) {
      std::lock_guard lock(impl.lock);
      impl.run.phase = Phase::Prepared;
    }
  }
  if (!status) {
    GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("cannot create the DTLS transport"),
                      ("%s", status.error().message.c_str()));
    return false;
  }
  return true;
}

// Back to NULL (or disposed): the ICE agent closes; what it learnt stays readable.
void destroy_run(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  std::shared_ptr<IceTransport> ice;
  {
    std::lock_guard lock(impl.lock);
    if (impl.run.phase == Phase::Null) return;
    impl.run.phase = Phase::Null;
    ice = impl.run.ice;  // kept (closed) for ice-state, candidates and stats
  }
  identity_watch_stop(self);
  remove_nice_elements(self);
  ice->close();
  notify(self, PROP_ICE_STATE);
}

// Moves the run between Prepared and Playing; returns the ICE transport when DTLS can start now.
std::shared_ptr<IceTransport> set_playing(GstDtlsTransportBin* self, bool playing) {
  BinImpl& impl = impl_of(self);
  std::lock_guard lock(impl.lock);
  Run& run = impl.run;
  if (playing && run.phase == Phase::Prepared) {
    run.phase = Phase::Playing;
    if (run.ice->connected()) return run.ice;
  } else if (!playing && run.phase == Phase::Playing) {
    run.phase = Phase::Prepared;
  }
  return nullptr;
}

// Leaving PLAYING ends the association (RFC 5246 §7.2.1 close_notify, while the network path is
// still open): the peer learns at once instead of when consent expires. The agent stays; the next
// PLAYING begins a new DTLS transport on it.
void end_dtls_on_leaving_playing(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  {
    std::lock_guard lock(impl.lock);
    if (impl.run.phase != Phase::Started) return;
    impl.run.phase = Phase::Ready;  // prepare_transport makes a new transport at PLAYING
    impl.run.closed_by_us = true;
  }
  endpoint_stop(self->endpoint);
}

void play_run(GstDtlsTransportBin* self) {
  endpoint_set_network_open(self->endpoint, true);
  if (auto ice = set_playing(self, true)) schedule_start_dtls(self, ice);
}

bool add_remote_candidate(GstDtlsTransportBin* self, const char* text) {
  auto line = normalize_remote_candidate(text ? text : "");
  if (!line) {
    warn(self, "remote candidate '%s' ignored: %s", text ? text : "(null)",
         line.error().message.c_str());
    return false;
  }
  {
    BinImpl& impl = impl_of(self);
    std::lock_guard lock(impl.lock);
    impl.settings.remote_candidates.push_back(*line);
  }
  apply_remote_candidates(self);
  notify(self, PROP_REMOTE_CANDIDATES);
  return true;
}

bool add_turn_server(GstDtlsTransportBin* self, const char* url) {
  const std::string text(dt::trim(url ? url : ""));
  if (dt::Status usable = check_turn_server_url(text); !usable) {
    // The reason never echoes the URL: it may hold the password.
    warn(self, "add-turn-server refused: %s", usable.error().message.c_str());
    return false;
  }
  BinImpl& impl = impl_of(self);
  std::string refusal;
  bool late = false;
  {
    std::lock_guard lock(impl.lock);
    Settings& s = impl.settings;
    const auto all = s.turn_servers();
    if (std::find(all.begin(), all.end(), text) != all.end()) {
      refusal = "this TURN server is already configured";
    } else if (all.size() >= kMaxTurnServers) {
      refusal = "libnice takes at most " + std::to_string(kMaxTurnServers) + " TURN servers";
    } else {
      s.added_turn_servers.push_back(text);
      late = impl.run.phase != Phase::Null;
    }
  }
  if (!refusal.empty()) {
    warn(self, "add-turn-server refused: %s", refusal.c_str());
    return false;
  }
  // Like turn-server: libnice gets its TURN servers when the agent is created, before it gathers.
  if (late)
    warn(self,
         "add-turn-server: server stored but used only from the next run (after the next NULL "
         "state, or at an auto-restart): the ICE agent "
         "is configured at NULL→READY");
  return true;
}

std::shared_ptr<IceTransport> current_ice(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  std::lock_guard lock(impl.lock);
  return impl.run.phase == Phase::Null ? nullptr : impl.run.ice;
}

void apply_remote_credentials(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  std::shared_ptr<IceTransport> ice;
  std::string ufrag, pwd;
  {
    std::lock_guard lock(impl.lock);
    if (impl.run.phase == Phase::Null || impl.settings.remote_ufrag.empty() ||
        impl.settings.remote_pwd.empty())
      return;
    ice = impl.run.ice;
    ufrag = impl.settings.remote_ufrag;
    pwd = impl.settings.remote_pwd;
  }
  ice->set_remote_credentials(ufrag, pwd);
}

void apply_remote_candidates(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  std::shared_ptr<IceTransport> ice;
  std::vector<std::string> lines;
  {
    std::lock_guard lock(impl.lock);
    Run& run = impl.run;
    if (run.phase < Phase::Prepared) return;  // libnice starts checking once it has them
    const auto& all = impl.settings.remote_candidates;
    lines.assign(all.begin() + static_cast<std::ptrdiff_t>(run.remote_candidates_applied),
                 all.end());
    run.remote_candidates_applied = all.size();
    ice = run.ice;
  }
  if (!lines.empty()) ice->add_remote_candidates(lines);
}

}  // namespace gstdtls
