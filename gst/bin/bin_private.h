// Inside dtlstransportbin: its settings, its run, and what dtlstransportbin.cpp (the element and
// its lifecycle), properties.cpp and property_specs.cpp (the properties) and stats.cpp share.
//
// Lock rule: everything in BinImpl is guarded by `lock`. Never call libnice, the endpoint or emit
// anything while holding it (libnice emits its signals synchronously from its API calls).
#pragma once

#include <gst/gst.h>

#include <memory>
#include <mutex>
#include <optional>

#include "datachannel/sctp_transport.h"
#include "datapath/endpoint.h"
#include "dtls_context.hpp"
#include "dtlstransportbin.h"
#include "ice/ice_transport.h"
#include "settings.h"

GST_DEBUG_CATEGORY_EXTERN(bin_debug);

namespace gstdtls {

// How far this run has come. A run starts at NULL→READY and ends at READY→NULL.
enum class Phase {
  Null,      // no run
  Ready,     // ICE agent created and gathering (READY)
  Prepared,  // DTLS transport created; remote candidates reach libnice (PAUSED, or READY again)
  Playing,   // PLAYING: DTLS starts as soon as ICE connects
  Started,   // DTLS started; kept until NULL (PLAYING↔PAUSED neither stops nor restarts it)
};

struct Run {
  Phase phase = Phase::Null;
  std::shared_ptr<IceTransport> ice;  // from Ready on
  size_t remote_candidates_applied = 0;
  // We ended this run's DTLS ourselves (`stop`, leaving PLAYING): its close is not the peer's.
  bool closed_by_us = false;
};

// auto-restart (restart.cpp): at most one restart pending, on the shared main context.
struct Restart {
  GSource* source = nullptr;  // the pending step, or nullptr
  guint attempts = 0;         // since the last connected; sets the backoff
  guint64 count = 0;          // restarts begun since NULL→READY (stats `auto-restarts`)
};

// identity.cpp: what the expiry timer has told about the certificate in use.
struct IdentityWatch {
  GSource* source = nullptr;  // the pending check, or nullptr
  std::string fingerprint;    // of the certificate the flags are about
  bool expiring_told = false;
  bool expired_told = false;
};

struct BinImpl {
  std::mutex lock;
  // Held while a DTLS transport is given its identity (prepare_transport, a certificate rotation):
  // a rotation reaches either the new transport's configuration or the transport itself. Taken
  // before `lock`; nothing is emitted while it is held.
  std::mutex identity_lock;
  Settings settings;
  // The SSL_CTX for the certificate and srtp-profiles, reused across runs while both stay.
  std::shared_ptr<const dtlstransport::DtlsContext> dtls_context;
  Run run;
  Restart restart;
  IdentityWatch identity;
  // sdp/: the offer create-sdp-offer made, until apply-sdp-answer reads the answer to it.
  std::string local_offer;
  // sdp/: a data channel has been created (create-data-channel): our offers carry m=application
  // from then on (webrtcbin's rule).
  bool data_channel_created = false;
  // sdp/: whether the remote description applied last (answer-sdp-offer, apply-sdp-answer)
  // negotiated data channels (an m=application section taken on both sides); unset while no
  // description was applied. FALSE: the SCTP association is not started (RFC 8841: no section,
  // no association).
  std::optional<bool> sdp_data_channels;
  // Warnings given while the element had no bus (properties set before it joined a pipeline,
  // e.g. in a gst-launch line): posted on the bus at NULL→READY. At most kMaxUnposted are kept.
  std::vector<std::string> unposted_warnings;
  static constexpr size_t kMaxUnposted = 16;
  // The data channels (datachannel/): for the bin's whole life; SCTP runs while DTLS is connected.
  // Not guarded by `lock` (it has its own).
  std::shared_ptr<DataChannelTransport> data_channels;
  // Serializes starting the SCTP association (start_sctp_if_wanted).
  std::mutex sctp_start_mutex;
};

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
  PROP_SOCKET_BUFFER_SIZE,
  PROP_AUTO_RESTART,
  PROP_CERTIFICATE_EXPIRES,
  PROP_CERTIFICATE_EXPIRY_WARNING,
  PROP_ICE_TRANSPORT_POLICY,
  PROP_SCTP_PORT,
  PROP_REMOTE_SCTP_PORT,
  PROP_MAX_MESSAGE_SIZE,
  N_PROPERTIES
};

// property_specs.cpp (the table, notify) and properties.cpp (set, get)
void install_properties(GObjectClass* klass);
void set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec);
void get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec);
void notify(GstDtlsTransportBin* self, int property);  // call with no lock held
GstDtlsTransportBinState from_core_state(dtlstransport::DtlsState state);
GstDtlsTransportBinRole from_core_role(dtlstransport::DtlsRole role);
// NULL→READY: settings that are each valid but cannot be used (a rejected certificate, min-port
// above max-port, ice-transport-policy=relay without a TURN server). Posts an ERROR saying which
// and returns false.
bool check_settings_at_ready(GstDtlsTransportBin* self);
// descriptors.cpp: NULL→READY: whether this transport's file descriptors fit under
// RLIMIT_NOFILE (GLib aborts the process when a wakeup cannot be made); posts an ERROR if not.
bool check_descriptors_at_ready(GstDtlsTransportBin* self);

// stats.cpp: the `stats` property's structure.
GstStructure* make_stats(GstDtlsTransportBin* self);

// dtlstransportbin.cpp
// A bad value or a value that cannot apply now: logs it and posts a warning on the bus (or,
// with no bus yet, g_warning). Call with no lock held.
// The text is cut at kMaxWarningBytes; warnings given with no bus are kept for NULL→READY.
void warn(GstDtlsTransportBin* self, const char* format, ...) G_GNUC_PRINTF(2, 3);
inline constexpr size_t kMaxWarningBytes = 1024;
// NULL→READY: posts on the bus the warnings given while there was none.
void post_unposted_warnings(GstDtlsTransportBin* self);
// add-turn-server: checks the URL and stores it for the runs that begin after; false (and a
// warning that never shows the credentials) when it cannot be used.
bool add_turn_server(GstDtlsTransportBin* self, const char* url);
// Stores one remote candidate line (add-remote-candidate, remote-candidates) and hands it to
// libnice when it can; false (and a warning) when the line is unusable.
bool add_remote_candidate(GstDtlsTransportBin* self, const char* text);
// Hands libnice the remote candidates it has not had yet, once the run is Prepared.
void apply_remote_candidates(GstDtlsTransportBin* self);
void apply_remote_credentials(GstDtlsTransportBin* self);
// The ICE transport of this run, if any (a new reference).
std::shared_ptr<IceTransport> current_ice(GstDtlsTransportBin* self);
// A run's steps, in the order the state changes take them (see the Phase above): NULL→READY,
// READY→PAUSED, entering PLAYING, and back to NULL. The first two post an error and return false
// when they cannot.
// run.cpp. The steps of a run:
bool create_run(GstDtlsTransportBin* self);
bool prepare_transport(GstDtlsTransportBin* self);
void play_run(GstDtlsTransportBin* self);
void destroy_run(GstDtlsTransportBin* self);
// Moves the run between Prepared and Playing; returns the ICE transport when DTLS can start now.
std::shared_ptr<IceTransport> set_playing(GstDtlsTransportBin* self, bool playing);
// Leaving PLAYING ends a started DTLS transport with close_notify (the next PLAYING makes anew).
void end_dtls_on_leaving_playing(GstDtlsTransportBin* self);
// Queued on the shared context, never run inside a libnice callback or a state change, and
// ignored if the run has changed since: DTLS starts once ICE has a pair; ICE failed (no pair
// worked, or consent expired) fails the DTLS transport with TransportLost.
void schedule_start_dtls(GstDtlsTransportBin* self, const std::shared_ptr<IceTransport>& ice);
void schedule_transport_lost(GstDtlsTransportBin* self, const std::shared_ptr<IceTransport>& ice,
                             const std::string& detail);
// dtlstransportbin.cpp: what the run's ICE agent tells the element (signals, notifies, DTLS start).
IceEvents ice_events(GstDtlsTransportBin* self);
// Posts an element message named `name` with the given fields (gst_structure_new_valist).
void post_element_message(GstDtlsTransportBin* self, const char* name, const char* first_field,
                          ...) G_GNUC_NULL_TERMINATED;

// local_parameters.cpp: posts the `dtlstransport-local-parameters` element message (ufrag, pwd,
// fingerprint, candidates so far, gathering-complete) for the current run. No lock held.
void post_local_parameters(GstDtlsTransportBin* self);

// restart.cpp: auto-restart. The DTLS transport of this run failed or the peer closed it: with
// auto-restart on and the element PLAYING, tear the run down now and begin a new one after a
// backoff (1 s doubling up to 30 s). Any thread, no lock held.
void auto_restart_after_failure(GstDtlsTransportBin* self);
// Connected again: the next failure starts from the shortest backoff.
void auto_restart_connected(GstDtlsTransportBin* self);
// Leaving PLAYING or disposing: no restart may run after this returns.
void auto_restart_cancel(GstDtlsTransportBin* self);

// identity.cpp: the certificate's life. install_identity_signals: `certificate-expiring`
// (class_init). prepare_identity (NULL→READY, before the certificate is generated): posts an
// ERROR and returns false for a configured certificate outside its validity period; drops a
// generated one inside the expiry-warning margin so a new one is generated.
// identity_watch_start (end of NULL→READY) notifies certificate-expires and starts the expiry
// timer on the shared context; identity_watch_update re-checks (the margin changed);
// identity_watch_stop (back to NULL) cancels it. No lock held for any of them.
void install_identity_signals(GType type);
bool prepare_identity(GstDtlsTransportBin* self);
void identity_watch_start(GstDtlsTransportBin* self);
void identity_watch_update(GstDtlsTransportBin* self);
void identity_watch_stop(GstDtlsTransportBin* self);
// certificate / certificate-file were set to a valid identity (stored in Settings already): the
// running DTLS transport, if any, takes it for its next handshake (the association in use keeps
// the old one); local-fingerprint and certificate-expires notify; while a run exists the expiry
// timer follows the new certificate and the local parameters are posted again. No lock held.
void identity_changed(GstDtlsTransportBin* self);
// certificate-expires: notAfter in Unix seconds, 0 without a certificate. Call with the lock held.
gint64 certificate_expires(const Settings& s);

}  // namespace gstdtls

struct _GstDtlsTransportBin {
  GstBin parent;
  GstElement* nicesrc;
  GstElement* nicesink;
  GstDtlsTransportEndpoint* endpoint;
  std::unique_ptr<gstdtls::BinImpl> impl;  // placement-constructed in init
};

namespace gstdtls {
inline BinImpl& impl_of(GstDtlsTransportBin* self) { return *self->impl; }
}  // namespace gstdtls
