// The ICE side of one dtlstransportbin run (NULL→READY … READY→NULL): one NiceAgent on the shared
// main context, one stream, one component (RTP and RTCP muxed, RFC 5761; RFC 8843 BUNDLE), its
// candidates, credentials and states. It knows nothing of DTLS or SRTP: the bin asks it and hears
// from it.
//
// Threads: created and closed on the application's thread (state changes); libnice's callbacks
// run on the shared main context's thread; queries may come from any thread. Events are
// delivered with no lock of ours held, and never after close() has returned.
#pragma once

#include <agent.h>
#include <gst/gst.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "enums.h"
#include "result.hpp"

namespace gstdtls {

// What the ICE agent is created with (the bin's settings at NULL→READY).
struct IceSettings {
  bool controlling = true;
  std::vector<std::string> local_addresses;  // IP addresses; empty: libnice's auto-detection
  std::string stun_server;                   // URL (ice_server_url.h); "" for none
  // TURN server URLs in the order libnice gets them (turn-server first, then add-turn-server's).
  std::vector<std::string> turn_servers;
  // ice-transport-policy=relay: libnice's force-relay, set before gathering, so only relayed
  // candidates are gathered, announced and paired, and the STUN server is not asked.
  bool relay_only = false;
  guint min_port = 0, max_port = 0;  // 0: any
  std::string ufrag, pwd;
};

// What the bin hears. Each may be empty.
struct IceEvents {
  std::function<void()> state_changed;                      // ice-state moved
  std::function<void()> connected;                          // a pair works: DTLS may start
  std::function<void(const std::string&)> local_candidate;  // "candidate:…"
  std::function<void()> gathering_done;
  std::function<void(const std::string&)> warning;  // a setting libnice could not use
  // The component went failed: no pair worked, or the selected one lost consent (RFC 7675).
  // `detail` says which, for the application.
  std::function<void(const std::string& detail)> failed;
};

// libnice 0.1.21 takes at most this many TURN servers per component (NICE_CANDIDATE_MAX_TURN_
// SERVERS); a ninth is refused with a g_warning.
inline constexpr size_t kMaxTurnServers = NICE_CANDIDATE_MAX_TURN_SERVERS;

// Whether `text` names a TURN server this ICE layer can use: a valid URL (ice_server_url.h) with a
// transport libnice has. The reason if not, never showing the credentials. Does not look the host
// up (that happens at NULL→READY).
dtlstransport::Status check_turn_server_url(const std::string& text);

class IceTransport : public std::enable_shared_from_this<IceTransport> {
 public:
  // RFC 5761 mux: the only component of the only stream.
  static constexpr guint kComponent = 1;

  // Creates and configures the agent (resolving STUN/TURN hosts: blocking, so call it off the
  // streaming threads). Unusable settings are reported through events.warning and left out.
  static std::shared_ptr<IceTransport> create(const IceSettings& settings, IceEvents events);
  ~IceTransport();
  IceTransport(const IceTransport&) = delete;
  IceTransport& operator=(const IceTransport&) = delete;

  // Hands the agent to this run's nicesrc and nicesink.
  void attach(GstElement* nicesrc, GstElement* nicesink);
  void gather();
  void set_remote_credentials(const std::string& ufrag, const std::string& pwd);
  // "a=candidate:…" lines, normalized (ice_candidate.h); libnice starts checks once it has both
  // credentials and candidates.
  void add_remote_candidates(const std::vector<std::string>& lines);
  // ICE restart (RFC 8445 §9): new local credentials, the remote candidates of the old
  // generation dropped (libnice keeps the selected pair, so media goes on over it until a pair of
  // the new generation is selected), and the local candidates announced again through
  // events.local_candidate then events.gathering_done. libnice 0.1.21 does not gather again on a
  // stream (its sockets stay): the candidates are the same addresses and ports. The remote
  // credentials stay libnice's until set_remote_credentials() gives the new ones.
  void restart(const std::string& ufrag, const std::string& pwd);
  // The agent's role now (after libnice's tie-breaker, RFC 8445 §7.3.1.1), and a new one.
  bool controlling() const;
  void set_controlling(bool controlling);
  // SO_RCVBUF/SO_SNDBUF of the selected pair's UDP socket; 0 keeps the system's.
  void size_socket_buffers(guint bytes);
  // No more events, state closed; the agent is closed asynchronously on the shared thread, which
  // it keeps alive until then. What was learnt (candidates, pair) stays readable. Idempotent; the
  // destructor calls it.
  void close();

  NiceAgent* agent() const { return agent_; }  // ours until the destructor, closed or not
  GMainContext* context() const { return context_; }
  GstDtlsTransportBinIceState state() const;
  GstDtlsTransportBinIceGatheringState gathering_state() const;
  bool connected() const;  // a pair has worked in this run
  std::vector<std::string> local_candidates() const;
  std::string local_ufrag() const;  // the credentials the agent uses now
  std::string local_pwd() const;
  std::string selected_local_candidate() const;
  std::string selected_remote_candidate() const;
  // TURN servers libnice was given (those that could be parsed and looked up).
  size_t turn_server_count() const { return turn_displays_.size(); }

 private:
  struct Key {
    explicit Key() = default;
  };

 public:
  IceTransport(Key, NiceAgent* agent, GMainContext* context, guint stream, IceEvents events);

 private:
  static void on_component_state_changed(NiceAgent*, guint, guint component, guint state,
                                         gpointer data);
  static void on_new_candidate(NiceAgent*, NiceCandidate* candidate, gpointer data);
  static void on_gathering_done(NiceAgent* agent, guint, gpointer data);
  static void on_selected_pair(NiceAgent*, guint, guint component, NiceCandidate* local,
                               NiceCandidate* remote, gpointer data);
  // The transport a libnice callback is for, or nullptr once it is closed.
  static std::shared_ptr<IceTransport> from(gpointer data);
  void connect_signals();
  void start_consent_grace();
  // Consent lost (libnice's 10 s): select the same pair again, which lets libnice send on it and
  // restarts its consent clock, and look whether consent holds this time.
  void rearm_consent();
  void warn(const std::string& text) const;

  NiceAgent* agent_;
  GMainContext* context_;
  const guint stream_;
  const IceEvents events_;
  // scheme://host:port[?transport=tcp] of each TURN server libnice has, in the order it got them
  // (its "preference"), never the credentials.
  std::vector<std::string> turn_displays_;

  mutable std::mutex mutex_;  // guards what follows; never held while calling libnice or events_
  bool closed_ = false;
  std::vector<gulong> handlers_;
  GstDtlsTransportBinIceState state_ = GST_DTLS_TRANSPORT_BIN_ICE_STATE_NEW;
  GstDtlsTransportBinIceGatheringState gathering_ = GST_DTLS_TRANSPORT_BIN_ICE_GATHERING_STATE_NEW;
  bool connected_ = false;
  bool restarting_ = false;  // restart() called, no pair of the new generation yet
  // Consent (RFC 7675) over libnice's 10 s limit: while disconnected, each libnice "consent lost"
  // re-arms the pair; consent_losses_ counts them, so a check can tell whether one came since.
  unsigned consent_losses_ = 0;
  gint64 last_rearm_us_ = 0;      // monotonic time of the latest re-arm
  unsigned consent_episode_ = 0;  // disconnected periods so far; each has its own grace
  bool reselecting_ = false;      // our own nice_agent_set_selected_pair() is running
  bool consent_expired_ = false;  // 30 s without consent: failed until restart()
  GstDtlsTransportBinIceState state_before_loss_ = GST_DTLS_TRANSPORT_BIN_ICE_STATE_COMPLETED;
  std::vector<std::string> local_candidates_;
  std::string selected_local_, selected_remote_;
  std::string local_ufrag_, local_pwd_;
};

}  // namespace gstdtls
