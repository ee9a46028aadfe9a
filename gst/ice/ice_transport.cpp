#include "ice_transport.h"

#include <gio/gio.h>
#include <sys/socket.h>

#include <utility>

#include "ice_candidate.h"
#include "ice_server_url.h"
#include "main_context.h"

GST_DEBUG_CATEGORY(ice_debug);  // consent.cpp logs in it too
#define GST_CAT_DEFAULT ice_debug

namespace gstdtls {
namespace {

// Ta = 5 ms, the floor RFC 8445 §14.2 allows for one stream and component (libnice's default is
// 20 ms): connectivity checks, and so time to connected, run ~2.7× faster (bench figure 3).
constexpr guint kStunPacingMs = 5;
// Transmissions of one connectivity check (libnice's "Rc", RFC 8489 §6.2.1): 1 + this. libnice
// 0.1.21 starts a check's retransmission timer at max(500 ms, Ta × pairs in progress), doubles it
// each time and halves the last one; its default of 3 gives up on a pair after 4.5 s and 4
// transmissions, which at 30 % loss each way (a check and its answer both get through with
// p = 0.49) fails 7 % of checks, and in measurement 2 in 10 calls. 5 gives 6 transmissions over
// 19.5 s (docs/performance.md, "ICE under loss"); a dead path is declared failed that much later.
constexpr guint kStunMaxRetransmissions = 5;
constexpr guint kHighestPort = 65535;
// How long a controlled agent whose checks all succeeded waits for the controlling agent to
// nominate a pair before it declares ICE failed (libnice's "idle-timeout", default 5 s). A peer
// that restarted on its own finds the survivor already done with its checks: the survivor
// nominates the pair with its next consent check (USE-CANDIDATE; every 4–6 s), so wait for two.
constexpr guint kNominationWaitMs = 12000;

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

// How libnice reaches a TURN server. It has no TLS of its own for TURN (0.1.21 in RFC 5245 mode:
// NICE_RELAY_TYPE_TURN_TLS opens a plain TCP connection), so turns:// is refused rather than sent
// in clear to a TLS port. TURN over TCP works with ice-tcp off: libnice connects to the server
// over TCP from the UDP host candidate's address and the relayed candidate is UDP.
dtlstransport::Result<NiceRelayType> relay_type(const IceServerUrl& url) {
  if (url.tls)
    return dtlstransport::Error{
        "turns:// (TURN over TLS) is not supported: libnice has no TLS for TURN and would "
        "speak plain TCP to the TLS port; use turn://...?transport=tcp"};
  return url.transport == TurnTransport::Tcp ? NICE_RELAY_TYPE_TURN_TCP : NICE_RELAY_TYPE_TURN_UDP;
}

// The position of the TURN server a relayed candidate came from, in the order libnice got them:
// libnice 0.1.21 puts it in bits 6-8 of the local preference (RFC 8445 §5.1.2.1), which is bits
// 8-23 of the priority. (nice_candidate_relay_address() cannot be used: the copies libnice hands
// out have lost their server.)
guint turn_preference(const NiceCandidate* candidate) { return (candidate->priority >> 14) & 0x7; }

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

dtlstransport::Status check_turn_server_url(const std::string& text) {
  auto url = parse_ice_server_url(text, IceServerKind::Turn);
  if (!url) return url.error();
  if (auto type = relay_type(*url); !type) return type.error();
  return {};
}

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
  // Not reliable: UDP datagrams. Consent freshness (RFC 7675): libnice sends a consent check on
  // the selected pair every 4–6 s and declares the component failed when none has been answered
  // for 10 s (0.1.21's constant; RFC 7675 §5.1 says 30 s, later libnice too); it then sends
  // nothing more on it. Without it a dead peer is never noticed.
  NiceAgent* agent =
      nice_agent_new_full(context, NICE_COMPATIBILITY_RFC5245, NICE_AGENT_OPTION_CONSENT_FRESHNESS);
  g_object_set(agent, "controlling-mode", settings.controlling, "ice-tcp", FALSE, "upnp", FALSE,
               "stun-pacing-timer", kStunPacingMs, "stun-max-retransmissions",
               kStunMaxRetransmissions, "idle-timeout", kNominationWaitMs, "force-relay",
               settings.relay_only, nullptr);
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
  std::vector<std::string> turn_displays;
  for (const auto& text : settings.turn_servers) {
    // Never log the URL: it holds the credentials.
    auto server = resolve_server(text, IceServerKind::Turn);
    if (!server) {
      warn("TURN server ignored: " + server.error().message);
      continue;
    }
    const IceServerUrl& url = server->url;
    std::string display =
        std::string(url.tls ? "turns://" : "turn://") + url.host + ":" + std::to_string(url.port);
    if (!url.tls && url.transport == TurnTransport::Tcp) display += "?transport=tcp";
    auto type = relay_type(url);
    if (!type) {
      warn("TURN server " + display + " ignored: " + type.error().message);
      continue;
    }
    if (turn_displays.size() == kMaxTurnServers) {
      warn("TURN server " + display + " ignored: libnice takes at most " +
           std::to_string(kMaxTurnServers) + " TURN servers");
      continue;
    }
    if (!nice_agent_set_relay_info(agent, stream, kComponent, server->ip.c_str(), url.port,
                                   url.username.c_str(), url.password.c_str(), *type)) {
      warn("TURN server " + display + " ignored: libnice refused it");
      continue;
    }
    GST_INFO("TURN server %zu: %s", turn_displays.size(), display.c_str());
    turn_displays.push_back(std::move(display));
  }
  nice_agent_set_local_credentials(agent, stream, settings.ufrag.c_str(), settings.pwd.c_str());

  auto transport = std::make_shared<IceTransport>(Key{}, agent, context, stream, std::move(events));
  transport->turn_displays_ = std::move(turn_displays);
  transport->local_ufrag_ = settings.ufrag;
  transport->local_pwd_ = settings.pwd;
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

void IceTransport::restart(const std::string& ufrag, const std::string& pwd) {
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    gathering_ = GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_GATHERING;
    restarting_ = true;
    consent_expired_ = false;
    local_candidates_.clear();
    local_ufrag_ = ufrag;
    local_pwd_ = pwd;
  }
  // libnice draws random credentials in restart_stream; ours replace them before any check of the
  // new generation can be sent (they start once remote candidates arrive).
  if (!nice_agent_restart_stream(agent_, stream_) ||
      !nice_agent_set_local_credentials(agent_, stream_, ufrag.c_str(), pwd.c_str())) {
    warn("libnice could not restart ICE");
    return;
  }
  GST_INFO("ICE restart: new local credentials (ufrag '%s')", ufrag.c_str());
  GSList* candidates = nice_agent_get_local_candidates(agent_, stream_, kComponent);
  std::vector<std::string> lines;
  for (GSList* item = candidates; item; item = item->next)
    lines.push_back(candidate_sdp(agent_, static_cast<NiceCandidate*>(item->data)));
  g_slist_free_full(candidates, reinterpret_cast<GDestroyNotify>(nice_candidate_free));
  for (const auto& line : lines) {
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      local_candidates_.push_back(line);
    }
    if (events_.local_candidate) events_.local_candidate(line);
  }
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    gathering_ = GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_COMPLETE;
  }
  if (events_.gathering_done) events_.gathering_done();
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

std::string IceTransport::local_ufrag() const {
  std::lock_guard lock(mutex_);
  return local_ufrag_;
}

std::string IceTransport::local_pwd() const {
  std::lock_guard lock(mutex_);
  return local_pwd_;
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
  bool changed, first_connection = false, consent_lost = false, rearm = false;
  const char* failure = nullptr;
  {
    std::lock_guard lock(self->mutex_);
    // Our own re-selection walks libnice through connecting/connected/ready: not news. Once
    // consent has expired, ICE has failed for good (until restart-ice): nothing more to say.
    if (self->reselecting_ || self->consent_expired_) return;
    auto mapped = map_component_state(state, self->state_);
    if (state == NICE_COMPONENT_STATE_FAILED) {
      // libnice says no more than "failed": whether a pair had worked tells the cases apart.
      if (self->restarting_) {
        failure = "ICE restart failed: no candidate pair of the new generation worked";
      } else if (!self->connected_) {
        failure = "ICE failed: no candidate pair worked (connectivity checks timed out)";
      } else {
        // Consent lost on the selected pair (libnice: 10 s without an answer). Shown as
        // disconnected and re-armed; failed only when the grace ends without consent.
        mapped = GST_DTLS_TRANSPORT_BIN_ICE_STATE_DISCONNECTED;
        consent_lost = self->state_ != GST_DTLS_TRANSPORT_BIN_ICE_STATE_DISCONNECTED;
        if (consent_lost) {
          self->state_before_loss_ = self->state_;
          self->consent_episode_++;
        }
        self->consent_losses_++;
        rearm = true;
      }
    } else if (self->state_ == GST_DTLS_TRANSPORT_BIN_ICE_STATE_DISCONNECTED &&
               mapped == GST_DTLS_TRANSPORT_BIN_ICE_STATE_CHECKING) {
      mapped = self->state_;  // checking again on its way back: still disconnected until then
    }
    changed = mapped != self->state_;
    self->state_ = mapped;
    if (state == NICE_COMPONENT_STATE_CONNECTED || state == NICE_COMPONENT_STATE_READY) {
      first_connection = !self->connected_;
      self->connected_ = true;
      self->restarting_ = false;
    }
  }
  GST_DEBUG("ICE component state %s",
            nice_component_state_to_string(static_cast<NiceComponentState>(state)));
  if (consent_lost) self->start_consent_grace();
  if (rearm) {
    // Not from inside libnice's emission: from the context, once it has returned.
    GSource* source = g_idle_source_new();
    g_source_set_callback(
        source,
        [](gpointer weak) -> gboolean {
          if (auto transport = static_cast<std::weak_ptr<IceTransport>*>(weak)->lock())
            transport->rearm_consent();
          return G_SOURCE_REMOVE;
        },
        new std::weak_ptr<IceTransport>(self),
        [](gpointer weak) { delete static_cast<std::weak_ptr<IceTransport>*>(weak); });
    g_source_attach(source, self->context_);
    g_source_unref(source);
  }
  if (changed && self->events_.state_changed) self->events_.state_changed();
  if (first_connection && self->events_.connected) self->events_.connected();
  if (changed && failure && self->events_.failed) self->events_.failed(failure);
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
  // not the candidates signalled so far: libnice may signal the relay candidate after this. Each
  // server is named on its own: with several, one that works hides none that does not.
  if (!self->turn_displays_.empty()) {
    std::vector<bool> relayed(self->turn_displays_.size(), false);
    GSList* candidates = nice_agent_get_local_candidates(agent, self->stream_, kComponent);
    for (GSList* item = candidates; item; item = item->next) {
      const auto* candidate = static_cast<const NiceCandidate*>(item->data);
      const guint server = turn_preference(candidate);
      if (candidate->type == NICE_CANDIDATE_TYPE_RELAYED && server < relayed.size())
        relayed[server] = true;
    }
    g_slist_free_full(candidates, reinterpret_cast<GDestroyNotify>(nice_candidate_free));
    for (size_t i = 0; i < relayed.size(); ++i) {
      if (!relayed[i])
        self->warn("TURN server " + self->turn_displays_[i] +
                   " gave no relay candidate: wrong credentials or server unreachable (password "
                   "not shown)");
    }
  }
  if (self->events_.gathering_done) self->events_.gathering_done();
}

void IceTransport::on_selected_pair(NiceAgent* agent, guint, guint component, NiceCandidate* local,
                                    NiceCandidate* remote, gpointer data) {
  auto self = from(data);
  if (!self || component != kComponent) return;
  std::string l = candidate_sdp(agent, local), r = candidate_sdp(agent, remote);
  GST_INFO("selected pair: local %s, remote %s", l.c_str(), r.c_str());
  std::lock_guard lock(self->mutex_);
  self->selected_local_ = std::move(l);
  self->selected_remote_ = std::move(r);
}

}  // namespace gstdtls
