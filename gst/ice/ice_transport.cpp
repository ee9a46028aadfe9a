#include "ice_transport.h"

#include <gio/gio.h>
#include <sys/socket.h>

#include <utility>

#include "ice_candidate.h"
#include "ice_server_url.h"
#include "main_context.h"

GST_DEBUG_CATEGORY_STATIC(ice_debug);
#define GST_CAT_DEFAULT ice_debug

namespace gstdtls {
namespace {

// Ta = 5 ms, the floor RFC 8445 §14.2 allows for one stream and component (libnice's default is
// 20 ms): connectivity checks, and so time to connected, run ~2.7× faster (bench figure 3).
constexpr guint kStunPacingMs = 5;
constexpr guint kHighestPort = 65535;

struct ResolvedServer {
  IceServerUrl url;
  std::string ip;  // libnice wants an IP address, not a name
};

// Blocking lookup: runs at NULL→READY on the application's thread.
dtlstransport::Result<ResolvedServer> resolve_server(const std::string& text, IceServerKind kind) {
  auto url = parse_ice_server_url(text, kind);
  if (!url) return url.error();
  auto ip = resolve_ice_server_host(url->host);
  if (!ip) return ip.error();
  return ResolvedServer{std::move(url).value(), std::move(ip).value()};
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

std::string candidate_sdp(NiceAgent* agent, NiceCandidate* candidate) {
  gchar* sdp = nice_agent_generate_local_candidate_sdp(agent, candidate);
  std::string line = without_attribute_prefix(sdp ? sdp : "");
  g_free(sdp);
  return line;
}

// The agent's stream goes with the close: its sockets are freed now, not when the last reference
// to the agent goes (the bin keeps the closed transport for what it learnt), so a fixed port is
// free again for the next run.
void agent_closed(GObject* agent, GAsyncResult*, gpointer stream) {
  nice_agent_remove_stream(NICE_AGENT(agent), GPOINTER_TO_UINT(stream));
  g_object_unref(agent);
  shared_main_context_release();
}

}  // namespace

std::shared_ptr<IceTransport> IceTransport::create(const IceSettings& settings, IceEvents events) {
  static std::once_flag debug_once;
  std::call_once(debug_once, [] {
    GST_DEBUG_CATEGORY_INIT(ice_debug, "dtlstransportice", 0, "dtlstransportbin ICE (libnice)");
  });
  auto warn = [&events](const std::string& text) {
    if (events.warning)
      events.warning(text);
    else
      GST_WARNING("%s", text.c_str());
  };

  // This reference (and the shared thread's user count) lives until the agent has closed.
  GMainContext* context = shared_main_context_acquire();
  NiceAgent* agent = nice_agent_new_full(context, NICE_COMPATIBILITY_RFC5245,
                                         NICE_AGENT_OPTION_NONE);  // not reliable: UDP datagrams
  g_object_set(agent, "controlling-mode", settings.controlling, "ice-tcp", FALSE, "upnp", FALSE,
               "stun-pacing-timer", kStunPacingMs, nullptr);
  for (const auto& address : settings.local_addresses) {
    NiceAddress nice_address;
    nice_address_init(&nice_address);
    if (nice_address_set_from_string(&nice_address, address.c_str()))
      nice_agent_add_local_address(agent, &nice_address);  // replaces auto-detection
    else
      warn("local-addresses: '" + address + "' is not an IP address, ignored");
  }
  if (!settings.stun_server.empty()) {
    auto server = resolve_server(settings.stun_server, IceServerKind::Stun);
    if (server)
      g_object_set(agent, "stun-server", server->ip.c_str(), "stun-server-port", server->url.port,
                   nullptr);
    else
      warn("stun-server '" + printable_ice_server_url(settings.stun_server) +
           "' ignored: " + server.error().message);
  }
  const guint stream = nice_agent_add_stream(agent, 1);
  if (settings.min_port || settings.max_port)
    nice_agent_set_port_range(agent, stream, kComponent, settings.min_port,
                              settings.max_port ? settings.max_port : kHighestPort);
  std::string turn_display;
  if (!settings.turn_server.empty()) {
    auto server = resolve_server(settings.turn_server, IceServerKind::Turn);
    if (server) {
      const IceServerUrl& url = server->url;
      nice_agent_set_relay_info(agent, stream, kComponent, server->ip.c_str(), url.port,
                                url.username.c_str(), url.password.c_str(),
                                url.tls ? NICE_RELAY_TYPE_TURN_TLS : NICE_RELAY_TYPE_TURN_UDP);
      turn_display =
          std::string(url.tls ? "turns://" : "turn://") + url.host + ":" + std::to_string(url.port);
    } else {
      // Never log the URL: it holds the credentials.
      warn("turn-server ignored: " + server.error().message);
    }
  }
  nice_agent_set_local_credentials(agent, stream, settings.ufrag.c_str(), settings.pwd.c_str());

  auto transport = std::make_shared<IceTransport>(Key{}, agent, context, stream, std::move(events));
  transport->turn_display_ = std::move(turn_display);
  transport->connect_signals();
  return transport;
}

IceTransport::IceTransport(Key, NiceAgent* agent, GMainContext* context, guint stream,
                           IceEvents events)
    : agent_(agent), context_(context), stream_(stream), events_(std::move(events)) {}

IceTransport::~IceTransport() {
  close();
  g_object_unref(agent_);
  g_main_context_unref(context_);
}

void IceTransport::connect_signals() {
  // Each handler holds a weak reference: a callback already running when close() is called keeps
  // the transport alive until it returns, and finds it closed.
  auto connect = [this](const char* signal, GCallback callback) {
    return g_signal_connect_data(
        agent_, signal, callback, new std::weak_ptr<IceTransport>(weak_from_this()),
        [](gpointer data, GClosure*) { delete static_cast<std::weak_ptr<IceTransport>*>(data); },
        static_cast<GConnectFlags>(0));
  };
  std::vector<gulong> handlers = {
      connect("component-state-changed", G_CALLBACK(on_component_state_changed)),
      connect("new-candidate-full", G_CALLBACK(on_new_candidate)),
      connect("candidate-gathering-done", G_CALLBACK(on_gathering_done)),
      connect("new-selected-pair-full", G_CALLBACK(on_selected_pair)),
  };
  std::lock_guard lock(mutex_);
  handlers_ = std::move(handlers);
}

std::shared_ptr<IceTransport> IceTransport::from(gpointer data) {
  auto transport = static_cast<std::weak_ptr<IceTransport>*>(data)->lock();
  if (!transport) return nullptr;
  std::lock_guard lock(transport->mutex_);
  return transport->closed_ ? nullptr : transport;
}

void IceTransport::warn(const std::string& text) const {
  if (events_.warning)
    events_.warning(text);
  else
    GST_WARNING("%s", text.c_str());
}

void IceTransport::close() {
  std::vector<gulong> handlers;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    handlers = std::move(handlers_);
    state_ = GST_DTLS_TRANSPORT_BIN_ICE_STATE_CLOSED;
  }
  for (gulong id : handlers) g_signal_handler_disconnect(agent_, id);
  // The shared thread's user count taken in create() is dropped when the close completes.
  // libnice's GTask calls back on the thread-default context of the thread starting the close, so
  // start it on the shared thread: from here the callback would wait for an application loop that
  // may never run, and the agent, its sockets and the shared thread would leak on every NULL.
  // The source holds an agent reference of its own; agent_closed() drops it.
  struct Closing {
    NiceAgent* agent;
    guint stream;
  };
  GSource* source = g_idle_source_new();
  g_source_set_callback(
      source,
      [](gpointer data) -> gboolean {
        auto* closing = static_cast<Closing*>(data);
        nice_agent_close_async(closing->agent, agent_closed, GUINT_TO_POINTER(closing->stream));
        delete closing;
        return G_SOURCE_REMOVE;
      },
      new Closing{NICE_AGENT(g_object_ref(agent_)), stream_}, nullptr);
  g_source_attach(source, context_);
  g_source_unref(source);
}

void IceTransport::attach(GstElement* nicesrc, GstElement* nicesink) {
  for (GstElement* element : {nicesrc, nicesink})
    g_object_set(element, "agent", agent_, "stream", stream_, "component", kComponent, nullptr);
}

void IceTransport::gather() {
  {
    std::lock_guard lock(mutex_);
    gathering_ = GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_GATHERING;
  }
  if (nice_agent_gather_candidates(agent_, stream_)) return;
  // libnice could bind no local address (e.g. a fixed port already in use) and will signal
  // nothing more: gathering is over, with no candidate.
  {
    std::lock_guard lock(mutex_);
    gathering_ = GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_COMPLETE;
  }
  warn(
      "ICE gathering ended without a candidate: no local address could be bound (a port of "
      "min-port..max-port already in use? check local-addresses too)");
  if (events_.gathering_done) events_.gathering_done();
}

void IceTransport::set_remote_credentials(const std::string& ufrag, const std::string& pwd) {
  if (!nice_agent_set_remote_credentials(agent_, stream_, ufrag.c_str(), pwd.c_str()))
    warn("libnice rejected the remote ICE credentials (ufrag '" + ufrag + "')");
}

void IceTransport::add_remote_candidates(const std::vector<std::string>& lines) {
  GSList* candidates = nullptr;
  for (const auto& line : lines) {
    NiceCandidate* candidate = nice_agent_parse_remote_candidate_sdp(agent_, stream_, line.c_str());
    if (candidate)
      candidates = g_slist_append(candidates, candidate);
    else
      warn("libnice cannot parse remote candidate '" + line + "'");
  }
  if (!candidates) return;
  if (nice_agent_set_remote_candidates(agent_, stream_, kComponent, candidates) < 0)
    warn("libnice rejected " + std::to_string(g_slist_length(candidates)) + " remote candidate(s)");
  g_slist_free_full(candidates, reinterpret_cast<GDestroyNotify>(nice_candidate_free));
}

bool IceTransport::controlling() const {
  gboolean controlling = TRUE;
  g_object_get(agent_, "controlling-mode", &controlling, nullptr);
  return controlling;
}

void IceTransport::set_controlling(bool controlling) {
  g_object_set(agent_, "controlling-mode", controlling, nullptr);
}

// Linux's default receive buffer (net.core.rmem_default, ≈ 208 KiB of accounting, ≈ 90 datagrams
// of 1 200 bytes) overflows when nicesrc's thread is descheduled for a millisecond at video rates;
// the loss at 80 % of our max rate in docs/performance.md (figure 2) came from there. No socket
// (TCP or TURN relay): nothing.
void IceTransport::size_socket_buffers(guint bytes) {
  if (bytes == 0) return;
  GSocket* socket = nice_agent_get_selected_socket(agent_, stream_, kComponent);
  if (!socket) return;
  for (int option : {SO_RCVBUF, SO_SNDBUF}) {
    const char* name = option == SO_RCVBUF ? "SO_RCVBUF" : "SO_SNDBUF";
    GError* error = nullptr;
    gint granted = 0;
    if (!g_socket_set_option(socket, SOL_SOCKET, option, static_cast<gint>(bytes), &error) ||
        !g_socket_get_option(socket, SOL_SOCKET, option, &granted, &error)) {
      GST_WARNING("cannot set %s to %u: %s", name, bytes, error->message);
      g_error_free(error);
      continue;
    }
    // Linux reports twice what it granted (bookkeeping included), capped by rmem_max/wmem_max.
    GST_INFO("%s: asked %u bytes, kernel reports %d", name, bytes, granted);
  }
  g_object_unref(socket);
}

GstDtlsTransportBinIceState IceTransport::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

GstDtlsTransportBinIceGatheringState IceTransport::gathering_state() const {
  std::lock_guard lock(mutex_);
  return gathering_;
}

bool IceTransport::connected() const {
  std::lock_guard lock(mutex_);
  return connected_;
}

std::vector<std::string> IceTransport::local_candidates() const {
  std::lock_guard lock(mutex_);
  return local_candidates_;
}

std::string IceTransport::selected_local_candidate() const {
  std::lock_guard lock(mutex_);
  return selected_local_;
}

std::string IceTransport::selected_remote_candidate() const {
  std::lock_guard lock(mutex_);
  return selected_remote_;
}

// --- libnice's callbacks (on the shared thread) ---

void IceTransport::on_component_state_changed(NiceAgent*, guint, guint component, guint state,
                                              gpointer data) {
  auto self = from(data);
  if (!self || component != kComponent) return;
  bool changed, first_connection = false;
  {
    std::lock_guard lock(self->mutex_);
    auto mapped = map_component_state(state, self->state_);
    changed = mapped != self->state_;
    self->state_ = mapped;
    if (state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY) {
      first_connection = !self->connected_;
      self->connected_ = true;
    }
  }
  GST_DEBUG("ICE component state %s",
            nice_component_state_to_string(static_cast<NiceComponentState>(state)));
  if (changed && self->events_.state_changed) self->events_.state_changed();
  if (first_connection && self->events_.connected) self->events_.connected();
}

void IceTransport::on_new_candidate(NiceAgent* agent, NiceCandidate* candidate, gpointer data) {
  auto self = from(data);
  if (!self || candidate->component_id != kComponent) return;
  std::string line = candidate_sdp(agent, candidate);
  {
    std::lock_guard lock(self->mutex_);
    self->local_candidates_.push_back(line);
  }
  if (self->events_.local_candidate) self->events_.local_candidate(line);
}

void IceTransport::on_gathering_done(NiceAgent* agent, guint, gpointer data) {
  auto self = from(data);
  if (!self) return;
  {
    std::lock_guard lock(self->mutex_);
    self->gathering_ = GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_COMPLETE;
  }
  // libnice says nothing when a TURN allocation fails (wrong credentials, unreachable server):
  // without this, a relay-only path would simply never connect. The agent's own list is asked,
  // not the candidates signalled so far: libnice may signal the relay candidate after this.
  if (!self->turn_display_.empty()) {
    bool relayed = false;
    GSList* candidates = nice_agent_get_local_candidates(agent, self->stream_, kComponent);
    for (GSList* item = candidates; item; item = item->next)
      relayed |= static_cast<NiceCandidate*>(item->data)->type == NICE_CANDIDATE_TYPE_RELAYED;
    g_slist_free_full(candidates, reinterpret_cast<GDestroyNotify>(nice_candidate_free));
    if (!relayed)
      self->warn("turn-server " + self->turn_display_ +
                 " gave no relay candidate: wrong credentials or server unreachable (password "
                 "not shown)");
  }
  if (self->events_.gathering_done) self->events_.gathering_done();
}

void IceTransport::on_selected_pair(NiceAgent* agent, guint, guint component, NiceCandidate* local,
                                    NiceCandidate* remote, gpointer data) {
  auto self = from(data);
  if (!self || component != kComponent) return;
  std::string l = candidate_sdp(agent, local), r = candidate_sdp(agent, remote);
  std::lock_guard lock(self->mutex_);
  self->selected_local_ = std::move(l);
  self->selected_remote_ = std::move(r);
}

}  // namespace gstdtls
