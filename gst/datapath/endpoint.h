// The data path of one dtlstransportbin (internal element "endpoint", not in the plugin
// registry): it sits between nicesrc/nicesink and the four media pads, demultiplexes what the
// network delivers (RFC 7983 §7), drives the sans-IO DTLS core and protects/unprotects SRTP. The
// bin ghosts rtp_sink, rtcp_sink, rtp_src and rtcp_src.
//
// Files: endpoint.cpp (the element, its pads and snapshot), dtls_driver.cpp (the core: timer,
// start, events), send_path.cpp (rtp_sink/rtcp_sink → protect → net_src), receive_path.cpp
// (net_sink → classify → DTLS or unprotect → rtp_src/rtcp_src), application_data.cpp (data_sink →
// DTLS application data; application data → data_src: the SCTP packets of the data channels).
//
// Threads: net_sink runs on nicesrc's streaming thread (DTLS in, SRTP unprotect, pushes on
// rtp_src/rtcp_src); rtp_sink/rtcp_sink on the upstream threads (SRTP protect); the DTLS timer on
// the shared main context. Locks, outermost first: dtls → protect → unprotect → net; info, pt and
// deliver are leaves. Events for the bin are delivered with no lock held.
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dtls_transport.hpp"

G_BEGIN_DECLS
#define GST_TYPE_DTLS_TRANSPORT_ENDPOINT (gst_dtls_transport_endpoint_get_type())
G_DECLARE_FINAL_TYPE(GstDtlsTransportEndpoint, gst_dtls_transport_endpoint, GST,
                     DTLS_TRANSPORT_ENDPOINT, GstElement)
G_END_DECLS

namespace gstdtls {

// What the bin hears from the data path. Called with no endpoint lock held, on whatever thread
// caused it.
struct EndpointListener {
  std::function<void(dtlstransport::DtlsState state, dtlstransport::FailureReason reason,
                     const std::string& detail)>
      state_changed;
  // While connected, a new verified handshake replaced the association (the peer restarted): the
  // new keys are installed and the info (remote certificate, counters) updated already.
  std::function<void()> reconnected;
  // rtpbin's request-pt-map convention; returns a new reference or nullptr.
  std::function<GstCaps*(guint pt)> request_pt_map;
};

// A consistent snapshot for properties and stats; never blocks behind a DTLS call.
struct EndpointInfo {
  dtlstransport::DtlsState state = dtlstransport::DtlsState::New;
  dtlstransport::DtlsRole role = dtlstransport::DtlsRole::Auto;
  std::string srtp_profile;  // "" until negotiated
  std::string dtls_version;
  std::string cipher;
  std::string remote_certificate_pem;
  double handshake_ms = -1;  // from start() to connected
  uint64_t handshakes = 0;   // completed, verified handshakes of this run
  uint64_t reconnects = 0;   // of them, those that replaced a connected association
  uint64_t packets_sent = 0, bytes_sent = 0, packets_received = 0, bytes_received = 0;
  uint64_t rtcp_packets_sent = 0, rtcp_packets_received = 0;
  uint64_t dropped_auth_failure = 0, dropped_replay = 0, dropped_no_keys = 0, dropped_malformed = 0;
  // SCTP packets (RFC 8261) carried as DTLS application data: sent, received, and dropped because
  // the association was not connected (before the peer was verified, after failed or stop).
  uint64_t sctp_packets_sent = 0, sctp_packets_received = 0, sctp_packets_dropped = 0;
};

// The four media pads' templates; the bin ghosts these pads with the same templates.
extern GstStaticPadTemplate rtp_sink_template, rtcp_sink_template, rtp_src_template,
    rtcp_src_template;

void endpoint_set_listener(GstDtlsTransportEndpoint* self, EndpointListener listener);

// --- DTLS (dtls_driver.cpp) ---
// Creates the DTLS transport for one run (READY→PAUSED) and arms its timer on `context`.
dtlstransport::Status endpoint_prepare(GstDtlsTransportEndpoint* self,
                                       dtlstransport::DtlsConfig config, GMainContext* context);
// Starts the handshake (once ICE has a selected pair). Does nothing unless the transport is new.
void endpoint_start(GstDtlsTransportEndpoint* self, dtlstransport::DtlsRole local_role,
                    const dtlstransport::DtlsParameters& remote, bool ice_controlling);
void endpoint_set_remote_fingerprints(GstDtlsTransportEndpoint* self,
                                      std::vector<dtlstransport::Fingerprint> fingerprints);
// Certificate rotation: the identity of the transport's next handshake (the first if it has not
// started, else a new handshake beside the association); the association in use keeps its own.
// Nothing happens without a transport. Emits nothing.
void endpoint_set_context(GstDtlsTransportEndpoint* self,
                          std::shared_ptr<const dtlstransport::DtlsContext> context);
// close_notify and Closed; media stops both ways.
void endpoint_stop(GstDtlsTransportEndpoint* self);
// The path under DTLS is gone (ICE failed, consent expired): Failed (TransportLost) from any live
// state, New included; nothing sent, media stops both ways.
void endpoint_transport_lost(GstDtlsTransportEndpoint* self, const std::string& detail);
// Drops the run (READY→NULL, dispose): transport, keys, timer; counters stay readable until the
// next prepare.
void endpoint_reset(GstDtlsTransportEndpoint* self);

// --- Network and media (send_path.cpp, receive_path.cpp) ---
// Whether pushes towards nicesink may happen: only while PLAYING (nicesink blocks in PAUSED).
void endpoint_set_network_open(GstDtlsTransportEndpoint* self, bool open);
// The pt-map property lives here, where received RTP gets its caps (a new reference or nullptr).
void endpoint_set_pt_map(GstDtlsTransportEndpoint* self, const GstCaps* pt_map);
GstCaps* endpoint_get_pt_map(GstDtlsTransportEndpoint* self);
// send-rtcp: protects and sends one RTCP packet; false without keys or for invalid RTCP.
bool endpoint_send_rtcp(GstDtlsTransportEndpoint* self, GstBuffer* buffer);

EndpointInfo endpoint_info(GstDtlsTransportEndpoint* self);

// --- SCTP over DTLS (application_data.cpp, RFC 8261) ---
// The pads the data-channel room (gst/datachannel/) links to sctpdec and sctpenc: `data_src`
// pushes the DTLS application data the core decrypted (on nicesrc's thread, after the core call,
// no endpoint lock held); `data_sink` takes SCTP packets and sends each as one DTLS record, only
// while the association is connected (else dropped and counted in sctp_packets_dropped).
GstPad* endpoint_data_src(GstDtlsTransportEndpoint* self);   // not a new reference
GstPad* endpoint_data_sink(GstDtlsTransportEndpoint* self);  // not a new reference

}  // namespace gstdtls
