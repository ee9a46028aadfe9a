#include "gstdtlstransportbin.h"

#include <agent.h>
#include <gio/gio.h>
#include <sys/socket.h>

#include <cstdarg>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "certificate.hpp"
#include "dtls_context.hpp"
#include "dtls_transport.hpp"
#include "enums.h"
#include "fingerprint.hpp"
#include "gstdtlstransportendpoint.h"
#include "ice_candidate.h"
#include "ice_credentials.h"
#include "ice_server_url.h"
#include "main_context.h"
#include "separated_list.h"
#include "srtp_profile.hpp"

GST_DEBUG_CATEGORY_STATIC(bin_debug);
#define GST_CAT_DEFAULT bin_debug

namespace dt = dtlstransport;

namespace {

constexpr guint kComponent = 1;  // RTP/RTCP mux (RFC 5761): one component
constexpr guint kDefaultLifetime = 30 * 24 * 3600;
constexpr guint kDefaultMtu = 1200;
constexpr guint kDefaultHandshakeTimeout = 30000;
// 1 MiB ≈ 850 packets of 1 200 bytes, ≈ 70 ms at 10 Mbit/s; the kernel doubles the value it
// stores and caps the request at net.core.rmem_max / wmem_max.
constexpr guint kDefaultSocketBufferSize = 1 << 20;

enum {
  PROP_0,
  PROP_ROLE,
  PROP_REMOTE_ROLE,
  PROP_DTLS_ROLE,
  PROP_ICE_CONTROLLING,
  PROP_CERTIFICATE,
  PROP_CERTIFICATE_FILE,
  PROP_KEY_TYPE,
  PROP_CERTIFICATE_LIFETIME,
  PROP_LOCAL_CERTIFICATE,
  PROP_LOCAL_FINGERPRINT,
  PROP_REMOTE_FINGERPRINTS,
  PROP_REMOTE_CERTIFICATE,
  PROP_STATE,
  PROP_ICE_STATE,
  PROP_ICE_GATHERING_STATE,
  PROP_LOCAL_ICE_UFRAG,
  PROP_LOCAL_ICE_PWD,
  PROP_REMOTE_ICE_UFRAG,
  PROP_REMOTE_ICE_PWD,
  PROP_LOCAL_CANDIDATES,
  PROP_REMOTE_CANDIDATES,
  PROP_LOCAL_ADDRESSES,
  PROP_MIN_PORT,
  PROP_MAX_PORT,
  PROP_STUN_SERVER,
  PROP_TURN_SERVER,
  PROP_SRTP_PROFILES,
  PROP_SRTP_PROFILE,
  PROP_PT_MAP,
  PROP_MTU,
  PROP_HANDSHAKE_TIMEOUT,
  PROP_ICE_AGENT,
  PROP_STATS,
  PROP_DROP_FIRST_CLIENT_HELLO,
  PROP_SOCKET_BUFFER_SIZE,
  N_PROPERTIES
};

enum {
  SIGNAL_STATE_CHANGED,
  SIGNAL_ON_LOCAL_CANDIDATE,
  SIGNAL_ON_GATHERING_DONE,
  SIGNAL_REQUEST_PT_MAP,
  SIGNAL_ADD_REMOTE_CANDIDATE,
  SIGNAL_SEND_RTCP,
  SIGNAL_STOP,
  N_SIGNALS
};

GParamSpec* properties[N_PROPERTIES];
guint signals[N_SIGNALS];

// Everything below `lock` is guarded by it. Rule: never call libnice, the endpoint, or emit
// anything while holding it (libnice emits its signals synchronously from its API calls).
struct BinImpl {
  std::mutex lock;

  // Configuration.
  GstDtlsTransportBinRole role = GST_DTLS_TRANSPORT_BIN_ROLE_AUTO;
  GstDtlsTransportBinRole remote_role = GST_DTLS_TRANSPORT_BIN_ROLE_AUTO;
  bool ice_controlling = true;
  std::optional<dt::Certificate> certificate;  // user-given or generated, reused across runs
  // The SSL_CTX for that certificate and srtp-profiles, reused across restarts while both stay.
  std::shared_ptr<const dt::DtlsContext> dtls_context;
  bool certificate_from_user = false;
  std::string certificate_file;
  GstDtlsTransportBinKeyType key_type = GST_DTLS_TRANSPORT_BIN_KEY_TYPE_ECDSA_P256;
  guint certificate_lifetime = kDefaultLifetime;
  std::string remote_fingerprints;
  std::string local_ufrag, local_pwd, remote_ufrag, remote_pwd;
  std::vector<std::string> remote_candidates;  // "a=candidate:…", normalized
  std::string local_addresses, stun_server, turn_server;
  guint min_port = 0, max_port = 0;
  std::vector<dt::SrtpProfile> srtp_profiles = dt::default_srtp_profiles();
  GstCaps* pt_map = nullptr;
  guint mtu = kDefaultMtu;
  guint handshake_timeout = kDefaultHandshakeTimeout;
  bool drop_first_client_hello = false;
  guint socket_buffer_size = kDefaultSocketBufferSize;

  // One session: NULL→READY … READY→NULL.
  NiceAgent* agent = nullptr;
  GMainContext* context = nullptr;  // the shared context the agent runs on
  guint stream_id = 0;
  std::vector<gulong> agent_handlers;
  unsigned generation = 0;
  bool transport_created = false;
  bool paused = false;  // ≥ PAUSED
  bool playing = false;
  bool ice_connected = false;
  bool dtls_started = false;
  size_t remote_candidates_applied = 0;
  GstDtlsTransportBinIceState ice_state = GST_DTLS_TRANSPORT_BIN_ICE_STATE_NEW;
  GstDtlsTransportBinIceGatheringState gathering_state =
      GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_NEW;
  std::vector<std::string> local_candidates;  // "candidate:…"
  std::string selected_local, selected_remote;

  ~BinImpl() { gst_caps_replace(&pt_map, nullptr); }
};

}  // namespace

struct _GstDtlsTransportBin {
  GstBin parent;
  GstElement* nicesrc;
  GstElement* nicesink;
  GstDtlsTransportEndpoint* endpoint;
  std::unique_ptr<BinImpl> impl;  // placement-constructed in init
};

G_DEFINE_TYPE(GstDtlsTransportBin, gst_dtls_transport_bin, GST_TYPE_BIN)

namespace {

BinImpl& impl_of(GstDtlsTransportBin* self) { return *self->impl; }

// --- Helpers ----------------------------------------------------------------------------------

// Posts a warning message on the bus; false when there is no bus to tell.
bool post_warning(GstDtlsTransportBin* self, GQuark domain, gint code, const gchar* text) {
  GError* error = g_error_new_literal(domain, code, text);
  GstMessage* message = gst_message_new_warning(GST_OBJECT(self), error, text);
  g_error_free(error);
  return gst_element_post_message(GST_ELEMENT(self), message);
}

// A bad value or a value that cannot apply now: log, tell the application, keep working.
G_GNUC_PRINTF(2, 3) void warn(GstDtlsTransportBin* self, const char* format, ...) {
  va_list args;
  va_start(args, format);
  gchar* text = g_strdup_vprintf(format, args);
  va_end(args);
  GST_WARNING_OBJECT(self, "%s", text);
  if (!post_warning(self, GST_LIBRARY_ERROR, GST_LIBRARY_ERROR_SETTINGS, text))
    g_warning("%s: %s", GST_OBJECT_NAME(self), text);  // no bus to tell
  g_free(text);
}

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

// --- Signals out (always called with no lock held) -------------------------------------------

void notify(GstDtlsTransportBin* self, int property) {
  g_object_notify_by_pspec(G_OBJECT(self), properties[property]);
}

// --- ICE --------------------------------------------------------------------------------------

GMainContext* ref_context(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  std::lock_guard lock(impl.lock);
  return impl.context ? g_main_context_ref(impl.context) : nullptr;
}

NiceAgent* ref_agent(GstDtlsTransportBin* self, guint* stream_id = nullptr) {
  BinImpl& impl = impl_of(self);
  std::lock_guard lock(impl.lock);
  if (stream_id) *stream_id = impl.stream_id;
  return impl.agent ? NICE_AGENT(g_object_ref(impl.agent)) : nullptr;
}

void apply_remote_credentials(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  std::string ufrag, pwd;
  guint stream = 0;
  NiceAgent* agent = nullptr;
  {
    std::lock_guard lock(impl.lock);
    if (!impl.agent || impl.remote_ufrag.empty() || impl.remote_pwd.empty()) return;
    agent = NICE_AGENT(g_object_ref(impl.agent));
    stream = impl.stream_id;
    ufrag = impl.remote_ufrag;
    pwd = impl.remote_pwd;
  }
  if (!nice_agent_set_remote_credentials(agent, stream, ufrag.c_str(), pwd.c_str()))
    warn(self, "libnice rejected the remote ICE credentials (ufrag '%s')", ufrag.c_str());
  g_object_unref(agent);
}

// Hands the remote candidates not yet given to libnice over, once ≥ PAUSED (checks start then).
void apply_remote_candidates(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  std::vector<std::string> lines;
  guint stream = 0;
  NiceAgent* agent = nullptr;
  {
    std::lock_guard lock(impl.lock);
    if (!impl.agent || !impl.paused) return;
    lines.assign(impl.remote_candidates.begin() + impl.remote_candidates_applied,
                 impl.remote_candidates.end());
    impl.remote_candidates_applied = impl.remote_candidates.size();
    agent = NICE_AGENT(g_object_ref(impl.agent));
    stream = impl.stream_id;
  }
  GSList* candidates = nullptr;
  for (const auto& line : lines) {
    NiceCandidate* candidate = nice_agent_parse_remote_candidate_sdp(agent, stream, line.c_str());
    if (candidate)
      candidates = g_slist_append(candidates, candidate);
    else
      warn(self, "libnice cannot parse remote candidate '%s'", line.c_str());
  }
  if (candidates) {
    if (nice_agent_set_remote_candidates(agent, stream, kComponent, candidates) < 0)
      warn(self, "libnice rejected %u remote candidate(s)", g_slist_length(candidates));
    g_slist_free_full(candidates, reinterpret_cast<GDestroyNotify>(nice_candidate_free));
  }
  g_object_unref(agent);
}

// Returns whether the line was usable; stores it and applies it when possible.
bool add_remote_candidate(GstDtlsTransportBin* self, const char* text) {
  auto line = gstdtls::normalize_remote_candidate(text ? text : "");
  if (!line) {
    warn(self, "remote candidate '%s' ignored: %s", text ? text : "(null)",
         line.error().message.c_str());
    return false;
  }
  {
    BinImpl& impl = impl_of(self);
    std::lock_guard lock(impl.lock);
    impl.remote_candidates.push_back(*line);
  }
  apply_remote_candidates(self);
  notify(self, PROP_REMOTE_CANDIDATES);
  return true;
}

GstDtlsTransportBinIceState map_component_state(guint state, GstDtlsTransportBinIceState old) {
  switch (state) {
    case NICE_COMPONENT_STATE_CONNECTING:
      return GST_DTLS_TRANSPORT_BIN_ICE_STATE_CHECKING;
    case NICE_COMPONENT_STATE_CONNECTED:
      return GST_DTLS_TRANSPORT_BIN_ICE_STATE_CONNECTED;
    case NICE_COMPONENT_STATE_READY:
      return GST_DTLS_TRANSPORT_BIN_ICE_STATE_COMPLETED;
    case NICE_COMPONENT_STATE_FAILED:
      return GST_DTLS_TRANSPORT_BIN_ICE_STATE_FAILED;
    case NICE_COMPONENT_STATE_DISCONNECTED:
      return old == GST_DTLS_TRANSPORT_BIN_ICE_STATE_NEW
                 ? old
                 : GST_DTLS_TRANSPORT_BIN_ICE_STATE_DISCONNECTED;
    default:
      return old;  // GATHERING: the gathering state says it
  }
}

struct StartRequest {
  GstDtlsTransportBin* self;
  unsigned generation;
};

// Enlarges the kernel buffers of the selected pair's UDP socket. Linux's default receive buffer
// (net.core.rmem_default, ≈ 208 KiB of accounting, ≈ 90 datagrams of 1 200 bytes) overflows when
// nicesrc's thread is descheduled for a millisecond at video rates; the loss at 80 % of our max
// rate in docs/performance.md (figure 2) came from there. No socket (TCP or TURN relay): nothing.
void apply_socket_buffers(GstDtlsTransportBin* self, NiceAgent* agent, guint stream_id,
                          guint size) {
  if (size == 0) return;  // 0: keep the system default
  GSocket* socket = nice_agent_get_selected_socket(agent, stream_id, kComponent);
  if (!socket) return;
  for (int option : {SO_RCVBUF, SO_SNDBUF}) {
    GError* error = nullptr;
    gint granted = 0;
    if (!g_socket_set_option(socket, SOL_SOCKET, option, static_cast<gint>(size), &error) ||
        !g_socket_get_option(socket, SOL_SOCKET, option, &granted, &error)) {
      GST_WARNING_OBJECT(self, "cannot set %s to %u: %s",
                         option == SO_RCVBUF ? "SO_RCVBUF" : "SO_SNDBUF", size, error->message);
      g_error_free(error);
      continue;
    }
    // Linux reports twice what it granted (bookkeeping included), capped by rmem_max/wmem_max.
    GST_INFO_OBJECT(self, "%s: asked %u bytes, kernel reports %d",
                    option == SO_RCVBUF ? "SO_RCVBUF" : "SO_SNDBUF", size, granted);
  }
  g_object_unref(socket);
}

void start_dtls(GstDtlsTransportBin* self, unsigned generation) {
  BinImpl& impl = impl_of(self);
  dt::DtlsRole local_role, remote_role;
  std::string fingerprints_text;
  NiceAgent* agent = nullptr;
  guint stream_id = 0, socket_buffer_size = 0;
  {
    std::lock_guard lock(impl.lock);
    if (generation != impl.generation || !impl.playing || !impl.ice_connected ||
        impl.dtls_started || !impl.agent || !impl.transport_created)
      return;
    impl.dtls_started = true;
    local_role = to_core_role(impl.role);
    remote_role = to_core_role(impl.remote_role);
    fingerprints_text = impl.remote_fingerprints;
    agent = NICE_AGENT(g_object_ref(impl.agent));
    stream_id = impl.stream_id;
    socket_buffer_size = impl.socket_buffer_size;
  }
  apply_socket_buffers(self, agent, stream_id, socket_buffer_size);
  // Auto role follows the final ICE role, after libnice's tie-breaker (RFC 8445 §7.3.1.1).
  gboolean controlling = TRUE;
  g_object_get(agent, "controlling-mode", &controlling, nullptr);
  g_object_unref(agent);
  dt::DtlsParameters remote;
  remote.role = remote_role;
  if (!fingerprints_text.empty()) {
    auto parsed = dt::Fingerprint::parse_list(fingerprints_text);
    if (parsed) remote.fingerprints = std::move(parsed).value();
  }
  GST_INFO_OBJECT(self, "ICE connected (%s): starting DTLS",
                  controlling ? "controlling" : "controlled");
  gstdtls::endpoint_start(self->endpoint, local_role, remote, controlling);
}

// DTLS never starts inside a libnice callback: it is queued on the shared context.
void schedule_start_dtls(GstDtlsTransportBin* self, GMainContext* context, unsigned generation) {
  auto* request = g_new0(StartRequest, 1);
  request->self = GST_DTLS_TRANSPORT_BIN(gst_object_ref(self));
  request->generation = generation;
  GSource* source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_HIGH);
  g_source_set_callback(
      source,
      [](gpointer data) -> gboolean {
        auto* r = static_cast<StartRequest*>(data);
        start_dtls(r->self, r->generation);
        return G_SOURCE_REMOVE;
      },
      request,
      [](gpointer data) {
        auto* r = static_cast<StartRequest*>(data);
        gst_object_unref(r->self);
        g_free(r);
      });
  g_source_attach(source, context);
  g_source_unref(source);
}

void on_component_state_changed(NiceAgent* agent, guint, guint component, guint state,
                                gpointer data) {
  auto* self = GST_DTLS_TRANSPORT_BIN(data);
  BinImpl& impl = impl_of(self);
  if (component != kComponent) return;
  bool changed, start = false;
  unsigned generation;
  {
    std::lock_guard lock(impl.lock);
    if (agent != impl.agent) return;
    auto mapped = map_component_state(state, impl.ice_state);
    changed = mapped != impl.ice_state;
    impl.ice_state = mapped;
    if (state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY) {
      start = !impl.ice_connected && !impl.dtls_started;
      impl.ice_connected = true;
    }
    generation = impl.generation;
  }
  GST_DEBUG_OBJECT(self, "ICE component state %s",
                   nice_component_state_to_string(static_cast<NiceComponentState>(state)));
  if (changed) notify(self, PROP_ICE_STATE);
  if (start) {
    if (GMainContext* context = ref_context(self)) {
      schedule_start_dtls(self, context, generation);
      g_main_context_unref(context);
    }
  }
}

std::string candidate_sdp(NiceAgent* agent, NiceCandidate* candidate) {
  gchar* sdp = nice_agent_generate_local_candidate_sdp(agent, candidate);
  std::string line = gstdtls::without_attribute_prefix(sdp ? sdp : "");
  g_free(sdp);
  return line;
}

void on_new_candidate(NiceAgent* agent, NiceCandidate* candidate, gpointer data) {
  auto* self = GST_DTLS_TRANSPORT_BIN(data);
  BinImpl& impl = impl_of(self);
  if (candidate->component_id != kComponent) return;
  std::string line = candidate_sdp(agent, candidate);
  {
    std::lock_guard lock(impl.lock);
    if (agent != impl.agent) return;
    impl.local_candidates.push_back(line);
  }
  g_signal_emit(self, signals[SIGNAL_ON_LOCAL_CANDIDATE], 0, line.c_str());
  notify(self, PROP_LOCAL_CANDIDATES);
}

void on_gathering_done(NiceAgent* agent, guint, gpointer data) {
  auto* self = GST_DTLS_TRANSPORT_BIN(data);
  BinImpl& impl = impl_of(self);
  std::string turn_without_relay;
  {
    std::lock_guard lock(impl.lock);
    if (agent != impl.agent) return;
    impl.gathering_state = GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_COMPLETE;
    const bool relayed =
        std::any_of(impl.local_candidates.begin(), impl.local_candidates.end(),
                    [](const std::string& line) { return line.find(" typ relay") != line.npos; });
    if (!impl.turn_server.empty() && !relayed) turn_without_relay = impl.turn_server;
  }
  // libnice says nothing when a TURN allocation fails (wrong credentials, unreachable server):
  // without this, a relay-only path would simply never connect.
  if (!turn_without_relay.empty()) {
    const std::string shown = turn_without_relay.substr(0, turn_without_relay.find("://") + 3) +
                              turn_without_relay.substr(turn_without_relay.rfind('@') + 1);
    warn(self,
         "turn-server %s gave no relay candidate: wrong credentials or server unreachable "
         "(password not shown)",
         shown.c_str());
  }
  notify(self, PROP_ICE_GATHERING_STATE);
  g_signal_emit(self, signals[SIGNAL_ON_GATHERING_DONE], 0);
}

void on_selected_pair(NiceAgent* agent, guint, guint component, NiceCandidate* local,
                      NiceCandidate* remote, gpointer data) {
  auto* self = GST_DTLS_TRANSPORT_BIN(data);
  BinImpl& impl = impl_of(self);
  if (component != kComponent) return;
  std::string l = candidate_sdp(agent, local), r = candidate_sdp(agent, remote);
  std::lock_guard lock(impl.lock);
  if (agent != impl.agent) return;
  impl.selected_local = l;
  impl.selected_remote = r;
}

struct ResolvedServer {
  gstdtls::IceServerUrl url;
  std::string ip;  // libnice wants an IP address, not a name
};

// Blocking lookup: runs at NULL→READY on the application's thread.
dt::Result<ResolvedServer> resolve_server(const std::string& text, gstdtls::IceServerKind kind) {
  auto url = gstdtls::parse_ice_server_url(text, kind);
  if (!url) return url.error();
  auto ip = gstdtls::resolve_ice_server_host(url->host);
  if (!ip) return ip.error();
  return ResolvedServer{std::move(url).value(), std::move(ip).value()};
}

void agent_closed(GObject* agent, GAsyncResult*, gpointer) {
  g_object_unref(agent);
  gstdtls::shared_main_context_release();
}

// --- Session lifecycle ------------------------------------------------------------------------

// nicesrc/nicesink refuse a new agent once they have one, so each session gets new ones.
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

bool create_session(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  if (!create_nice_elements(self)) return false;
  // Certificate: loaded or generated here, off the streaming threads; local-fingerprint is
  // readable from READY on.
  std::optional<dt::Certificate> certificate;
  dt::CertificateOptions options;
  bool ice_controlling;
  std::string local_addresses, stun, turn, ufrag, pwd;
  guint min_port, max_port;
  {
    std::lock_guard lock(impl.lock);
    certificate = impl.certificate;
    options.key_type = impl.key_type == GST_DTLS_TRANSPORT_BIN_KEY_TYPE_RSA_2048
                           ? dt::KeyType::Rsa2048
                           : dt::KeyType::EcdsaP256;
    options.lifetime = std::chrono::seconds(impl.certificate_lifetime);
    ice_controlling = impl.ice_controlling;
    local_addresses = impl.local_addresses;
    stun = impl.stun_server;
    turn = impl.turn_server;
    ufrag = impl.local_ufrag;
    pwd = impl.local_pwd;
    min_port = impl.min_port;
    max_port = impl.max_port;
  }
  if (!certificate) {
    auto generated = dt::Certificate::generate(options);
    if (!generated) {
      GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("cannot generate a DTLS certificate"),
                        ("%s", generated.error().message.c_str()));
      remove_nice_elements(self);
      return false;
    }
    certificate = std::move(generated).value();
    std::lock_guard lock(impl.lock);
    impl.certificate = certificate;
  }

  // This reference (and the shared thread's user count) lives until the agent has closed.
  GMainContext* context = gstdtls::shared_main_context_acquire();
  NiceAgent* agent = nice_agent_new_full(context, NICE_COMPATIBILITY_RFC5245,
                                         NICE_AGENT_OPTION_NONE);  // not reliable: UDP datagrams
  // Ta = 5 ms, the floor RFC 8445 §14.2 allows for one stream and component (libnice's default is
  // 20 ms): connectivity checks, and so time to connected, run ~2.7× faster (bench figure 3).
  g_object_set(agent, "controlling-mode", ice_controlling, "ice-tcp", FALSE, "upnp", FALSE,
               "stun-pacing-timer", 5u, nullptr);
  for (const auto& address : gstdtls::split_list(local_addresses, ',')) {
    NiceAddress nice_address;
    nice_address_init(&nice_address);
    if (nice_address_set_from_string(&nice_address, address.c_str()))
      nice_agent_add_local_address(agent, &nice_address);  // replaces auto-detection
    else
      warn(self, "local-addresses: '%s' is not an IP address, ignored", address.c_str());
  }
  if (!stun.empty()) {
    auto server = resolve_server(stun, gstdtls::IceServerKind::Stun);
    if (server)
      g_object_set(agent, "stun-server", server->ip.c_str(), "stun-server-port", server->url.port,
                   nullptr);
    else
      warn(self, "stun-server '%s' ignored: %s", stun.c_str(), server.error().message.c_str());
  }
  guint stream = nice_agent_add_stream(agent, 1);
  if (min_port || max_port)
    nice_agent_set_port_range(agent, stream, kComponent, min_port, max_port ? max_port : 65535);
  if (!turn.empty()) {
    auto server = resolve_server(turn, gstdtls::IceServerKind::Turn);
    if (server) {
      const gstdtls::IceServerUrl& url = server->url;
      nice_agent_set_relay_info(agent, stream, kComponent, server->ip.c_str(), url.port,
                                url.username.c_str(), url.password.c_str(),
                                url.tls ? NICE_RELAY_TYPE_TURN_TLS : NICE_RELAY_TYPE_TURN_UDP);
    } else {
      // Never log the URL: it holds the credentials.
      warn(self, "turn-server ignored: %s", server.error().message.c_str());
    }
  }
  nice_agent_set_local_credentials(agent, stream, ufrag.c_str(), pwd.c_str());

  std::vector<gulong> handlers = {
      g_signal_connect(agent, "component-state-changed", G_CALLBACK(on_component_state_changed),
                       self),
      g_signal_connect(agent, "new-candidate-full", G_CALLBACK(on_new_candidate), self),
      g_signal_connect(agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done), self),
      g_signal_connect(agent, "new-selected-pair-full", G_CALLBACK(on_selected_pair), self),
  };
  g_object_set(self->nicesrc, "agent", agent, "stream", stream, "component", kComponent, nullptr);
  g_object_set(self->nicesink, "agent", agent, "stream", stream, "component", kComponent, nullptr);
  {
    std::lock_guard lock(impl.lock);
    impl.agent = agent;
    impl.context = context;
    impl.stream_id = stream;
    impl.agent_handlers = std::move(handlers);
    impl.generation++;
    impl.transport_created = false;
    impl.paused = impl.playing = impl.ice_connected = impl.dtls_started = false;
    impl.remote_candidates_applied = 0;
    impl.ice_state = GST_DTLS_TRANSPORT_BIN_ICE_STATE_NEW;
    impl.gathering_state = GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_NEW;
    impl.local_candidates.clear();
    impl.selected_local.clear();
    impl.selected_remote.clear();
  }
  apply_remote_credentials(self);
  notify(self, PROP_ICE_STATE);
  notify(self, PROP_LOCAL_FINGERPRINT);
  return true;
}

// The DTLS transport of this session; created at READY→PAUSED so DTLS settings made in READY
// still apply.
bool create_transport(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  dt::DtlsConfig config;
  bool drop;
  GMainContext* context = nullptr;
  std::string error;
  {
    std::lock_guard lock(impl.lock);
    if (impl.transport_created) return true;
    const bool reusable = impl.dtls_context &&
                          impl.dtls_context->certificate().x509() == impl.certificate->x509() &&
                          impl.dtls_context->srtp_profiles() == impl.srtp_profiles;
    if (!reusable) {
      auto created = dt::DtlsContext::create(*impl.certificate, impl.srtp_profiles);
      if (!created) {
        error = created.error().message;
      } else {
        impl.dtls_context = std::move(created).value();
      }
    }
    config.context = impl.dtls_context;
    config.mtu = impl.mtu;
    config.handshake_timeout = std::chrono::milliseconds(impl.handshake_timeout);
    drop = impl.drop_first_client_hello;
    context = g_main_context_ref(impl.context);
  }
  dt::Status status = error.empty() ? dt::Status() : dt::Status(dt::Error{error});
  if (status) status = gstdtls::endpoint_prepare(self->endpoint, std::move(config), context, drop);
  g_main_context_unref(context);
  if (!status) {
    GST_ELEMENT_ERROR(self, LIBRARY, INIT, ("cannot create the DTLS transport"),
                      ("%s", status.error().message.c_str()));
    return false;
  }
  std::lock_guard lock(impl.lock);
  impl.transport_created = true;
  return true;
}

void start_gathering(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  guint stream;
  NiceAgent* agent = ref_agent(self, &stream);
  if (!agent) return;
  {
    std::lock_guard lock(impl.lock);
    impl.gathering_state = GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_GATHERING;
  }
  notify(self, PROP_ICE_GATHERING_STATE);
  if (!nice_agent_gather_candidates(agent, stream))
    warn(self, "ICE candidate gathering failed to start (check local-addresses and ports)");
  g_object_unref(agent);
}

void destroy_session(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  NiceAgent* agent;
  GMainContext* context;
  std::vector<gulong> handlers;
  {
    std::lock_guard lock(impl.lock);
    agent = std::exchange(impl.agent, nullptr);
    context = std::exchange(impl.context, nullptr);
    handlers = std::move(impl.agent_handlers);
    impl.agent_handlers.clear();
    impl.generation++;
    impl.transport_created = false;
    impl.paused = impl.playing = impl.ice_connected = impl.dtls_started = false;
    impl.ice_state = GST_DTLS_TRANSPORT_BIN_ICE_STATE_CLOSED;
  }
  remove_nice_elements(self);
  if (!agent) return;
  for (gulong id : handlers) g_signal_handler_disconnect(agent, id);
  // The shared thread's user count taken in create_session is dropped when the close completes.
  // libnice's GTask calls back on the thread-default context of the thread starting the close, so
  // start it on the shared thread: from here the callback would wait for an application loop that
  // may never run, and the agent, its sockets and the shared thread would leak on every NULL.
  // The source takes over our agent reference; agent_closed() drops it.
  GSource* source = g_idle_source_new();
  g_source_set_callback(
      source,
      [](gpointer data) -> gboolean {
        nice_agent_close_async(NICE_AGENT(data), agent_closed, nullptr);
        return G_SOURCE_REMOVE;
      },
      agent, nullptr);
  g_source_attach(source, context);
  g_source_unref(source);
  g_main_context_unref(context);
  notify(self, PROP_ICE_STATE);
}

GstStateChangeReturn change_state(GstElement* element, GstStateChange transition) {
  auto* self = GST_DTLS_TRANSPORT_BIN(element);
  BinImpl& impl = impl_of(self);
  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      if (!create_session(self)) return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!create_transport(self)) return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED: {
      {
        std::lock_guard lock(impl.lock);
        impl.playing = false;
      }
      gstdtls::endpoint_set_network_open(self->endpoint, false);
      break;
    }
    default:
      break;
  }
  GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(gst_dtls_transport_bin_parent_class)->change_state(element, transition);
  if (ret == GST_STATE_CHANGE_FAILURE) {
    if (transition == GST_STATE_CHANGE_NULL_TO_READY) destroy_session(self);
    return ret;
  }
  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY:
      start_gathering(self);
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED: {
      std::lock_guard lock(impl.lock);
      impl.paused = true;
    }
      apply_remote_candidates(self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING: {
      gstdtls::endpoint_set_network_open(self->endpoint, true);
      unsigned generation;
      GMainContext* context = nullptr;
      bool start;
      {
        std::lock_guard lock(impl.lock);
        impl.playing = true;
        start = impl.ice_connected && !impl.dtls_started;
        generation = impl.generation;
        if (start) context = g_main_context_ref(impl.context);
      }
      if (start) {
        schedule_start_dtls(self, context, generation);
        g_main_context_unref(context);
      }
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY: {
      std::lock_guard lock(impl.lock);
      impl.paused = false;
      break;
    }
    case GST_STATE_CHANGE_READY_TO_NULL:
      gstdtls::endpoint_reset(self->endpoint);
      destroy_session(self);
      break;
    default:
      break;
  }
  return ret;
}

// --- Endpoint events --------------------------------------------------------------------------

void on_dtls_state(GstDtlsTransportBin* self, dt::DtlsState state, dt::FailureReason reason,
                   const std::string& detail) {
  GST_INFO_OBJECT(self, "DTLS %s%s%s", dt::dtls_state_name(state), detail.empty() ? "" : ": ",
                  detail.c_str());
  notify(self, PROP_STATE);
  if (state == dt::DtlsState::Connected) {
    notify(self, PROP_DTLS_ROLE);
    notify(self, PROP_SRTP_PROFILE);
    notify(self, PROP_REMOTE_CERTIFICATE);
  }
  g_signal_emit(self, signals[SIGNAL_STATE_CHANGED], 0, from_core_state(state));
  if (state == dt::DtlsState::Failed) {
    // A failed transport is not a pipeline error: the application decides (restart, renegotiate).
    gchar* text = g_strdup_printf("DTLS transport failed (%s): %s", dt::failure_reason_name(reason),
                                  detail.c_str());
    post_warning(self, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED, text);
    g_free(text);
  }
}

// --- Properties -------------------------------------------------------------------------------

GstStructure* make_stats(GstDtlsTransportBin* self) {
  BinImpl& impl = impl_of(self);
  gstdtls::EndpointInfo info = gstdtls::endpoint_info(self->endpoint);
  std::string local, remote;
  {
    std::lock_guard lock(impl.lock);
    local = impl.selected_local;
    remote = impl.selected_remote;
  }
  return gst_structure_new("application/x-dtlstransport-stats",                                 //
                           "packets-sent", G_TYPE_UINT64, info.packets_sent,                    //
                           "bytes-sent", G_TYPE_UINT64, info.bytes_sent,                        //
                           "packets-received", G_TYPE_UINT64, info.packets_received,            //
                           "bytes-received", G_TYPE_UINT64, info.bytes_received,                //
                           "rtcp-packets-sent", G_TYPE_UINT64, info.rtcp_packets_sent,          //
                           "rtcp-packets-received", G_TYPE_UINT64, info.rtcp_packets_received,  //
                           "dropped-auth-failure", G_TYPE_UINT64, info.dropped_auth_failure,    //
                           "dropped-replay", G_TYPE_UINT64, info.dropped_replay,                //
                           "dropped-no-keys", G_TYPE_UINT64, info.dropped_no_keys,              //
                           "dropped-malformed", G_TYPE_UINT64, info.dropped_malformed,          //
                           "state", G_TYPE_STRING, dt::dtls_state_name(info.state),             //
                           "dtls-role", G_TYPE_STRING, dt::dtls_role_name(info.role),           //
                           "dtls-version", G_TYPE_STRING, info.dtls_version.c_str(),            //
                           "dtls-cipher", G_TYPE_STRING, info.cipher.c_str(),                   //
                           "srtp-profile", G_TYPE_STRING, info.srtp_profile.c_str(),            //
                           "handshake-ms", G_TYPE_DOUBLE, info.handshake_ms,                    //
                           "local-candidate", G_TYPE_STRING, local.c_str(),                     //
                           "remote-candidate", G_TYPE_STRING, remote.c_str(), nullptr);
}

// A string property's new value, trimmed; "" for NULL.
std::string trimmed_string(const GValue* value) {
  const gchar* text = g_value_get_string(value);
  return gstdtls::trim(text ? text : "");
}

void set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_DTLS_TRANSPORT_BIN(object);
  BinImpl& impl = impl_of(self);
  // Messages are posted after the lock is released.
  std::string late;  // non-empty: the value was stored but cannot apply in this session
  switch (id) {
    case PROP_ROLE:
    case PROP_REMOTE_ROLE: {
      std::lock_guard lock(impl.lock);
      auto role = static_cast<GstDtlsTransportBinRole>(g_value_get_enum(value));
      (id == PROP_ROLE ? impl.role : impl.remote_role) = role;
      if (impl.dtls_started) late = "the DTLS handshake has started";
      break;
    }
    case PROP_ICE_CONTROLLING: {
      NiceAgent* agent;
      {
        std::lock_guard lock(impl.lock);
        impl.ice_controlling = g_value_get_boolean(value);
        agent = impl.agent ? NICE_AGENT(g_object_ref(impl.agent)) : nullptr;
      }
      if (agent) {
        g_object_set(agent, "controlling-mode", g_value_get_boolean(value), nullptr);
        g_object_unref(agent);
      }
      break;
    }
    case PROP_CERTIFICATE:
    case PROP_CERTIFICATE_FILE: {
      const gchar* text = g_value_get_string(value);
      if (!text || !*text) {
        std::lock_guard lock(impl.lock);
        if (id == PROP_CERTIFICATE_FILE) impl.certificate_file.clear();
        break;
      }
      auto loaded = id == PROP_CERTIFICATE ? dt::Certificate::from_pem(text)
                                           : dt::Certificate::from_file(text);
      if (!loaded) {
        warn(self, "%s rejected: %s", pspec->name, loaded.error().message.c_str());
        return;
      }
      std::lock_guard lock(impl.lock);
      if (impl.transport_created) {
        late = "the DTLS transport of this run already uses the previous certificate";
      }
      impl.certificate = std::move(loaded).value();
      impl.certificate_from_user = true;
      if (id == PROP_CERTIFICATE_FILE) impl.certificate_file = text;
      break;
    }
    case PROP_KEY_TYPE:
    case PROP_CERTIFICATE_LIFETIME: {
      std::lock_guard lock(impl.lock);
      if (id == PROP_KEY_TYPE)
        impl.key_type = static_cast<GstDtlsTransportBinKeyType>(g_value_get_enum(value));
      else
        impl.certificate_lifetime = g_value_get_uint(value);
      if (impl.agent)
        late = "the certificate is generated at NULL→READY";
      else if (!impl.certificate_from_user)
        impl.certificate.reset();  // regenerate with the new parameters
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
        impl.remote_fingerprints = text;
        started = impl.dtls_started;
      }
      // Late fingerprint (RFC 8842 signalling may lag the handshake): the core verifies now.
      if (started) gstdtls::endpoint_set_remote_fingerprints(self->endpoint, std::move(parsed));
      break;
    }
    case PROP_LOCAL_ICE_UFRAG:
    case PROP_LOCAL_ICE_PWD: {
      std::string text = trimmed_string(value);
      dt::Status valid = id == PROP_LOCAL_ICE_UFRAG ? gstdtls::check_ice_ufrag(text)
                                                    : gstdtls::check_ice_pwd(text);
      if (!valid) {
        warn(self, "%s rejected: %s", pspec->name, valid.error().message.c_str());
        return;
      }
      std::lock_guard lock(impl.lock);
      (id == PROP_LOCAL_ICE_UFRAG ? impl.local_ufrag : impl.local_pwd) = text;
      if (impl.agent) late = "the ICE agent of this run already uses the previous credentials";
      break;
    }
    case PROP_REMOTE_ICE_UFRAG:
    case PROP_REMOTE_ICE_PWD: {
      {
        std::lock_guard lock(impl.lock);
        (id == PROP_REMOTE_ICE_UFRAG ? impl.remote_ufrag : impl.remote_pwd) = trimmed_string(value);
      }
      apply_remote_credentials(self);
      break;
    }
    case PROP_REMOTE_CANDIDATES: {
      {
        std::lock_guard lock(impl.lock);
        impl.remote_candidates.clear();
        impl.remote_candidates_applied = 0;
      }
      // libnice cannot forget candidates: in a running session the new ones are added.
      const gchar* text = g_value_get_string(value);
      for (const auto& line : gstdtls::split_candidate_list(text ? text : ""))
        add_remote_candidate(self, line.c_str());
      return;
    }
    case PROP_LOCAL_ADDRESSES:
    case PROP_STUN_SERVER:
    case PROP_TURN_SERVER: {
      std::string text = trimmed_string(value);
      std::lock_guard lock(impl.lock);
      (id == PROP_LOCAL_ADDRESSES ? impl.local_addresses
       : id == PROP_STUN_SERVER   ? impl.stun_server
                                  : impl.turn_server) = text;
      if (impl.agent) late = "the ICE agent is configured at NULL→READY";
      break;
    }
    case PROP_MIN_PORT:
    case PROP_MAX_PORT: {
      std::lock_guard lock(impl.lock);
      (id == PROP_MIN_PORT ? impl.min_port : impl.max_port) = g_value_get_uint(value);
      if (impl.agent) late = "the ICE agent is configured at NULL→READY";
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
      impl.srtp_profiles = std::move(parsed).value();
      if (impl.transport_created) late = "the DTLS transport is created at READY→PAUSED";
      break;
    }
    case PROP_PT_MAP: {
      const GstCaps* caps = gst_value_get_caps(value);
      {
        std::lock_guard lock(impl.lock);
        gst_caps_replace(&impl.pt_map, const_cast<GstCaps*>(caps));
      }
      gstdtls::endpoint_set_pt_map(self->endpoint, caps);
      break;
    }
    case PROP_MTU:
    case PROP_HANDSHAKE_TIMEOUT: {
      std::lock_guard lock(impl.lock);
      (id == PROP_MTU ? impl.mtu : impl.handshake_timeout) = g_value_get_uint(value);
      if (impl.transport_created) late = "the DTLS transport is created at READY→PAUSED";
      break;
    }
    case PROP_DROP_FIRST_CLIENT_HELLO: {
      {
        std::lock_guard lock(impl.lock);
        impl.drop_first_client_hello = g_value_get_boolean(value);
      }
      gstdtls::endpoint_set_drop_first_client_hello(self->endpoint, g_value_get_boolean(value));
      break;
    }
    case PROP_SOCKET_BUFFER_SIZE: {
      std::lock_guard lock(impl.lock);
      impl.socket_buffer_size = g_value_get_uint(value);
      if (impl.dtls_started) late = "socket buffers are sized when ICE connects";
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      return;
  }
  if (!late.empty())
    warn(self, "%s: new value stored but applies only after the next NULL state: %s", pspec->name,
         late.c_str());
}

void get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_DTLS_TRANSPORT_BIN(object);
  BinImpl& impl = impl_of(self);
  switch (id) {
    case PROP_STATE:
    case PROP_DTLS_ROLE:
    case PROP_SRTP_PROFILE:
    case PROP_REMOTE_CERTIFICATE: {
      auto info = gstdtls::endpoint_info(self->endpoint);
      if (id == PROP_STATE)
        g_value_set_enum(value, from_core_state(info.state));
      else if (id == PROP_DTLS_ROLE)
        g_value_set_enum(value, from_core_role(info.role));
      else if (id == PROP_SRTP_PROFILE)
        g_value_set_string(value, info.srtp_profile.empty() ? nullptr : info.srtp_profile.c_str());
      else
        g_value_set_string(value, info.remote_certificate_pem.empty()
                                      ? nullptr
                                      : info.remote_certificate_pem.c_str());
      return;
    }
    case PROP_STATS:
      g_value_take_boxed(value, make_stats(self));
      return;
    case PROP_ICE_CONTROLLING: {
      NiceAgent* agent;
      {
        std::lock_guard lock(impl.lock);
        agent = impl.agent ? NICE_AGENT(g_object_ref(impl.agent)) : nullptr;
        g_value_set_boolean(value, impl.ice_controlling);
      }
      if (agent) {  // the agent's view includes the tie-breaker's verdict
        gboolean controlling;
        g_object_get(agent, "controlling-mode", &controlling, nullptr);
        g_value_set_boolean(value, controlling);
        g_object_unref(agent);
      }
      return;
    }
    default:
      break;
  }
  std::lock_guard lock(impl.lock);
  switch (id) {
    case PROP_ROLE:
      g_value_set_enum(value, impl.role);
      break;
    case PROP_REMOTE_ROLE:
      g_value_set_enum(value, impl.remote_role);
      break;
    case PROP_CERTIFICATE_FILE:
      g_value_set_string(value,
                         impl.certificate_file.empty() ? nullptr : impl.certificate_file.c_str());
      break;
    case PROP_KEY_TYPE:
      g_value_set_enum(value, impl.key_type);
      break;
    case PROP_CERTIFICATE_LIFETIME:
      g_value_set_uint(value, impl.certificate_lifetime);
      break;
    case PROP_LOCAL_CERTIFICATE:
      g_value_set_string(value,
                         impl.certificate ? impl.certificate->certificate_pem().c_str() : nullptr);
      break;
    case PROP_LOCAL_FINGERPRINT:
      g_value_set_string(
          value, impl.certificate ? impl.certificate->fingerprint().to_string().c_str() : nullptr);
      break;
    case PROP_REMOTE_FINGERPRINTS:
      g_value_set_string(
          value, impl.remote_fingerprints.empty() ? nullptr : impl.remote_fingerprints.c_str());
      break;
    case PROP_ICE_STATE:
      g_value_set_enum(value, impl.ice_state);
      break;
    case PROP_ICE_GATHERING_STATE:
      g_value_set_enum(value, impl.gathering_state);
      break;
    case PROP_LOCAL_ICE_UFRAG:
      g_value_set_string(value, impl.local_ufrag.c_str());
      break;
    case PROP_LOCAL_ICE_PWD:
      g_value_set_string(value, impl.local_pwd.c_str());
      break;
    case PROP_REMOTE_ICE_UFRAG:
      g_value_set_string(value, impl.remote_ufrag.empty() ? nullptr : impl.remote_ufrag.c_str());
      break;
    case PROP_REMOTE_ICE_PWD:
      g_value_set_string(value, impl.remote_pwd.empty() ? nullptr : impl.remote_pwd.c_str());
      break;
    case PROP_LOCAL_CANDIDATES: {
      GStrvBuilder* builder = g_strv_builder_new();
      for (const auto& line : impl.local_candidates) g_strv_builder_add(builder, line.c_str());
      g_value_take_boxed(value, g_strv_builder_end(builder));
      g_strv_builder_unref(builder);
      break;
    }
    case PROP_REMOTE_CANDIDATES:
      g_value_set_string(value, impl.remote_candidates.empty()
                                    ? nullptr
                                    : gstdtls::join_candidate_list(impl.remote_candidates).c_str());
      break;
    case PROP_LOCAL_ADDRESSES:
      g_value_set_string(value,
                         impl.local_addresses.empty() ? nullptr : impl.local_addresses.c_str());
      break;
    case PROP_MIN_PORT:
      g_value_set_uint(value, impl.min_port);
      break;
    case PROP_MAX_PORT:
      g_value_set_uint(value, impl.max_port);
      break;
    case PROP_STUN_SERVER:
      g_value_set_string(value, impl.stun_server.empty() ? nullptr : impl.stun_server.c_str());
      break;
    case PROP_TURN_SERVER:
      g_value_set_string(value, impl.turn_server.empty() ? nullptr : impl.turn_server.c_str());
      break;
    case PROP_SRTP_PROFILES:
      g_value_set_string(value, dt::format_srtp_profiles(impl.srtp_profiles).c_str());
      break;
    case PROP_PT_MAP:
      gst_value_set_caps(value, impl.pt_map);
      break;
    case PROP_MTU:
      g_value_set_uint(value, impl.mtu);
      break;
    case PROP_HANDSHAKE_TIMEOUT:
      g_value_set_uint(value, impl.handshake_timeout);
      break;
    case PROP_ICE_AGENT:
      g_value_set_object(value, impl.agent);
      break;
    case PROP_DROP_FIRST_CLIENT_HELLO:
      g_value_set_boolean(value, impl.drop_first_client_hello);
      break;
    case PROP_SOCKET_BUFFER_SIZE:
      g_value_set_uint(value, impl.socket_buffer_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      break;
  }
}

// --- Action signals ---------------------------------------------------------------------------

gboolean action_add_remote_candidate(GstDtlsTransportBin* self, const gchar* candidate) {
  return add_remote_candidate(self, candidate);
}

gboolean action_send_rtcp(GstDtlsTransportBin* self, GstBuffer* buffer) {
  if (!buffer) return FALSE;
  return gstdtls::endpoint_send_rtcp(self->endpoint, buffer);
}

void action_stop(GstDtlsTransportBin* self) { gstdtls::endpoint_stop(self->endpoint); }

// --- Construction -----------------------------------------------------------------------------

void ghost(GstDtlsTransportBin* self, const char* name) {
  GstPad* target = gst_element_get_static_pad(GST_ELEMENT(self->endpoint), name);
  GstPadTemplate* templ = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), name);
  GstPad* pad = gst_ghost_pad_new_from_template(name, target, templ);
  gst_object_unref(target);
  gst_element_add_pad(GST_ELEMENT(self), pad);
}

}  // namespace

static void gst_dtls_transport_bin_init(GstDtlsTransportBin* self) {
  new (&self->impl) std::unique_ptr<BinImpl>(std::make_unique<BinImpl>());
  BinImpl& impl = impl_of(self);
  impl.local_ufrag = gstdtls::random_ice_ufrag();
  impl.local_pwd = gstdtls::random_ice_pwd();

  self->endpoint = GST_DTLS_TRANSPORT_ENDPOINT(
      g_object_new(GST_TYPE_DTLS_TRANSPORT_ENDPOINT, "name", "endpoint", nullptr));
  gst_bin_add(GST_BIN(self), GST_ELEMENT(self->endpoint));
  gstdtls::EndpointListener listener;
  listener.state_changed = [self](dt::DtlsState state, dt::FailureReason reason,
                                  const std::string& detail) {
    on_dtls_state(self, state, reason, detail);
  };
  listener.request_pt_map = [self](guint pt) -> GstCaps* {
    GstCaps* caps = nullptr;
    g_signal_emit(self, signals[SIGNAL_REQUEST_PT_MAP], 0, pt, &caps);
    return caps;
  };
  gstdtls::endpoint_set_listener(self->endpoint, std::move(listener));

  for (const char* name : {"rtp_sink", "rtcp_sink", "rtp_src", "rtcp_src"}) ghost(self, name);
}

static void gst_dtls_transport_bin_dispose(GObject* object) {
  // Only does something if the application dropped us without going to NULL; runs before the
  // parent's dispose releases the children.
  destroy_session(GST_DTLS_TRANSPORT_BIN(object));
  G_OBJECT_CLASS(gst_dtls_transport_bin_parent_class)->dispose(object);
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
  object_class->set_property = set_property;
  object_class->get_property = get_property;
  object_class->dispose = gst_dtls_transport_bin_dispose;
  object_class->finalize = gst_dtls_transport_bin_finalize;
  element_class->change_state = change_state;

  constexpr auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  constexpr auto ro = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  constexpr auto wo = static_cast<GParamFlags>(G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS);

  properties[PROP_ROLE] = g_param_spec_enum(
      "role", "DTLS role",
      "DTLS role to take: auto follows the remote role, else the ICE role (controlling = server), "
      "RFC 5763 §5",
      GST_TYPE_DTLS_TRANSPORT_BIN_ROLE, GST_DTLS_TRANSPORT_BIN_ROLE_AUTO, rw);
  properties[PROP_REMOTE_ROLE] = g_param_spec_enum(
      "remote-role", "Remote DTLS role",
      "The peer's DTLS role from its a=setup (auto = actpass, client = active, server = passive)",
      GST_TYPE_DTLS_TRANSPORT_BIN_ROLE, GST_DTLS_TRANSPORT_BIN_ROLE_AUTO, rw);
  properties[PROP_DTLS_ROLE] = g_param_spec_enum(
      "dtls-role", "Negotiated DTLS role", "The DTLS role actually taken (auto until DTLS starts)",
      GST_TYPE_DTLS_TRANSPORT_BIN_ROLE, GST_DTLS_TRANSPORT_BIN_ROLE_AUTO, ro);
  properties[PROP_ICE_CONTROLLING] = g_param_spec_boolean(
      "ice-controlling", "ICE controlling",
      "Start as the ICE controlling agent (the offerer); reading gives the agent's current role "
      "after conflict resolution",
      TRUE, rw);
  properties[PROP_CERTIFICATE] = g_param_spec_string(
      "certificate", "Certificate (PEM)",
      "Our DTLS identity: PEM certificate and private key in one string (write-only); default: "
      "one is generated at NULL->READY",
      nullptr, wo);
  properties[PROP_CERTIFICATE_FILE] = g_param_spec_string(
      "certificate-file", "Certificate file",
      "Path of a PEM file holding our certificate and private key", nullptr, rw);
  properties[PROP_KEY_TYPE] = g_param_spec_enum(
      "key-type", "Key type", "Key type of the generated certificate",
      GST_TYPE_DTLS_TRANSPORT_BIN_KEY_TYPE, GST_DTLS_TRANSPORT_BIN_KEY_TYPE_ECDSA_P256, rw);
  properties[PROP_CERTIFICATE_LIFETIME] = g_param_spec_uint(
      "certificate-lifetime", "Certificate lifetime",
      "Validity of the generated certificate in seconds", 60, G_MAXUINT, kDefaultLifetime, rw);
  properties[PROP_LOCAL_CERTIFICATE] = g_param_spec_string(
      "local-certificate", "Local certificate",
      "Our certificate in PEM (never the private key); available from READY", nullptr, ro);
  properties[PROP_LOCAL_FINGERPRINT] = g_param_spec_string(
      "local-fingerprint", "Local fingerprint",
      "Our certificate's fingerprint for a=fingerprint, e.g. \"sha-256 AB:CD:...\"; available "
      "from READY",
      nullptr, ro);
  properties[PROP_REMOTE_FINGERPRINTS] = g_param_spec_string(
      "remote-fingerprints", "Remote fingerprints",
      "The peer's certificate fingerprints, \"<alg> <hex>\" separated by ',' (sha-1 ... sha-512, "
      "case-insensitive; any match suffices, RFC 8122). May be set after the handshake: the peer "
      "is verified then",
      nullptr, rw);
  properties[PROP_REMOTE_CERTIFICATE] = g_param_spec_string(
      "remote-certificate", "Remote certificate",
      "The peer's certificate in PEM, NULL until it has been verified", nullptr, ro);
  properties[PROP_STATE] =
      g_param_spec_enum("state", "DTLS state", "State of the DTLS transport (notifies on change)",
                        GST_TYPE_DTLS_TRANSPORT_BIN_STATE, GST_DTLS_TRANSPORT_BIN_STATE_NEW, ro);
  properties[PROP_ICE_STATE] = g_param_spec_enum(
      "ice-state", "ICE state", "State of the ICE connection (notifies on change)",
      GST_TYPE_DTLS_TRANSPORT_BIN_ICE_STATE, GST_DTLS_TRANSPORT_BIN_ICE_STATE_NEW, ro);
  properties[PROP_ICE_GATHERING_STATE] =
      g_param_spec_enum("ice-gathering-state", "ICE gathering state",
                        "State of local candidate gathering (notifies on change)",
                        GST_TYPE_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE,
                        GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_NEW, ro);
  properties[PROP_LOCAL_ICE_UFRAG] = g_param_spec_string(
      "local-ice-ufrag", "Local ICE ufrag",
      "Our ICE username fragment (a=ice-ufrag); random unless set", nullptr, rw);
  properties[PROP_LOCAL_ICE_PWD] =
      g_param_spec_string("local-ice-pwd", "Local ICE password",
                          "Our ICE password (a=ice-pwd); random unless set", nullptr, rw);
  properties[PROP_REMOTE_ICE_UFRAG] = g_param_spec_string(
      "remote-ice-ufrag", "Remote ICE ufrag", "The peer's ICE username fragment", nullptr, rw);
  properties[PROP_REMOTE_ICE_PWD] = g_param_spec_string("remote-ice-pwd", "Remote ICE password",
                                                        "The peer's ICE password", nullptr, rw);
  properties[PROP_LOCAL_CANDIDATES] = g_param_spec_boxed(
      "local-candidates", "Local candidates",
      "Our gathered ICE candidates, one \"candidate:...\" line each (also signalled by "
      "on-local-candidate)",
      G_TYPE_STRV, ro);
  properties[PROP_REMOTE_CANDIDATES] = g_param_spec_string(
      "remote-candidates", "Remote candidates",
      "The peer's ICE candidates: \"candidate:...\" lines separated by ';' (more can be trickled "
      "with add-remote-candidate)",
      nullptr, rw);
  properties[PROP_LOCAL_ADDRESSES] = g_param_spec_string(
      "local-addresses", "Local addresses",
      "Comma-separated IP addresses to gather candidates on; default: all non-loopback "
      "interfaces (set 127.0.0.1 for loopback)",
      nullptr, rw);
  properties[PROP_MIN_PORT] =
      g_param_spec_uint("min-port", "Minimum port",
                        "Lowest local UDP port for candidates (0 = any)", 0, 65535, 0, rw);
  properties[PROP_MAX_PORT] =
      g_param_spec_uint("max-port", "Maximum port",
                        "Highest local UDP port for candidates (0 = any)", 0, 65535, 0, rw);
  properties[PROP_STUN_SERVER] = g_param_spec_string(
      "stun-server", "STUN server", "STUN server for server-reflexive candidates: stun://host:port",
      nullptr, rw);
  properties[PROP_TURN_SERVER] = g_param_spec_string(
      "turn-server", "TURN server",
      "TURN server for relay candidates: turn://user:pass@host:port or turns://...", nullptr, rw);
  properties[PROP_SRTP_PROFILES] = g_param_spec_string(
      "srtp-profiles", "SRTP profiles",
      "DTLS-SRTP protection profiles to offer, OpenSSL names separated by ':' in preference order "
      "(RFC 5764, RFC 7714)",
      "SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM:SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32",
      rw);
  properties[PROP_SRTP_PROFILE] = g_param_spec_string(
      "srtp-profile", "Negotiated SRTP profile",
      "The SRTP protection profile negotiated, NULL until connected", nullptr, ro);
  properties[PROP_PT_MAP] = g_param_spec_boxed(
      "pt-map", "Payload type map",
      "Caps for received RTP, one structure per payload type (with a 'payload' field); used "
      "before the request-pt-map signal",
      GST_TYPE_CAPS, rw);
  properties[PROP_MTU] = g_param_spec_uint(
      "mtu", "MTU", "Largest DTLS datagram we send, in bytes (UDP/IP headers excluded)", 256, 65507,
      kDefaultMtu, rw);
  properties[PROP_HANDSHAKE_TIMEOUT] = g_param_spec_uint(
      "handshake-timeout", "Handshake timeout",
      "Milliseconds from the start of DTLS until the state becomes failed if not connected", 100,
      G_MAXUINT, kDefaultHandshakeTimeout, rw);
  properties[PROP_ICE_AGENT] = g_param_spec_object(
      "ice-agent", "ICE agent", "The NiceAgent of this run (NULL in the NULL state)",
      NICE_TYPE_AGENT, ro);
  properties[PROP_STATS] = g_param_spec_boxed(
      "stats", "Statistics",
      "Counters and negotiated parameters: packets-/bytes-sent/-received, rtcp-packets-sent/-"
      "received, dropped-auth-failure/-replay/-no-keys/-malformed, state, dtls-role, "
      "dtls-version, dtls-cipher, srtp-profile, handshake-ms, local-candidate, remote-candidate",
      GST_TYPE_STRUCTURE, ro);
  properties[PROP_DROP_FIRST_CLIENT_HELLO] = g_param_spec_boolean(
      "drop-first-client-hello", "Drop first ClientHello (testing only)",
      "Testing only: drop the first ClientHello we send (settable until it is sent), to exercise "
      "DTLS retransmission",
      FALSE, rw);
  properties[PROP_SOCKET_BUFFER_SIZE] = g_param_spec_uint(
      "socket-buffer-size", "Socket buffer size",
      "SO_RCVBUF and SO_SNDBUF of the selected pair's UDP socket, in bytes, set when ICE connects "
      "(capped by net.core.rmem_max/wmem_max); 0 keeps the system default",
      0, G_MAXINT, kDefaultSocketBufferSize, rw);
  g_object_class_install_properties(object_class, N_PROPERTIES, properties);

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

  for (GstStaticPadTemplate* templ : {&gstdtls::rtp_sink_template, &gstdtls::rtcp_sink_template,
                                      &gstdtls::rtp_src_template, &gstdtls::rtcp_src_template})
    gst_element_class_add_static_pad_template(element_class, templ);
  gst_element_class_set_static_metadata(
      element_class, "DTLS-SRTP transport", "Filter/Network/RTP",
      "ICE (libnice) + DTLS 1.2 + SRTP in one element: connect payloaders/rtpbin to rtp_sink/"
      "rtcp_sink and depayloaders to rtp_src/rtcp_src",
      "gst-dtlstransport");
  gst_type_mark_as_plugin_api(GST_TYPE_DTLS_TRANSPORT_BIN_ROLE, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(GST_TYPE_DTLS_TRANSPORT_BIN_STATE, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(GST_TYPE_DTLS_TRANSPORT_BIN_ICE_STATE,
                              static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(GST_TYPE_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE,
                              static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(GST_TYPE_DTLS_TRANSPORT_BIN_KEY_TYPE,
                              static_cast<GstPluginAPIFlags>(0));
}
