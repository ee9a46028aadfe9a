// dtlstransportbin's property table: names, blurbs, ranges and flags (what gst-inspect prints).
// The flags say when a property may be changed; properties without a GST_PARAM_MUTABLE_* flag
// are read when the ICE agent is created, at NULL→READY. Setting and getting: properties.cpp.
#include "bin_private.h"

namespace gstdtls {
namespace {

GParamSpec* properties[N_PROPERTIES];

}  // namespace

void notify(GstDtlsTransportBin* self, int property) {
  g_object_notify_by_pspec(G_OBJECT(self), properties[property]);
}

void install_properties(GObjectClass* klass) {
  constexpr auto ro = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  constexpr auto wo = static_cast<GParamFlags>(G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS);
  // Read at NULL→READY (identity, ICE agent): changeable in the NULL state only.
  constexpr auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  // Read at READY→PAUSED (the DTLS transport).
  constexpr auto rw_ready = static_cast<GParamFlags>(rw | GST_PARAM_MUTABLE_READY);
  // Applied to the running session.
  constexpr auto rw_playing = static_cast<GParamFlags>(rw | GST_PARAM_MUTABLE_PLAYING);

  properties[PROP_ROLE] = g_param_spec_enum(
      "role", "DTLS role",
      "DTLS role to take: auto follows the remote role, else the ICE role (controlling = server), "
      "RFC 5763 §5; applies until DTLS starts",
      GST_TYPE_DTLS_TRANSPORT_BIN_ROLE, GST_DTLS_TRANSPORT_BIN_ROLE_AUTO, rw_playing);
  properties[PROP_REMOTE_ROLE] = g_param_spec_enum(
      "remote-role", "Remote DTLS role",
      "The peer's DTLS role from its a=setup (auto = actpass, client = active, server = "
      "passive); applies until DTLS starts",
      GST_TYPE_DTLS_TRANSPORT_BIN_ROLE, GST_DTLS_TRANSPORT_BIN_ROLE_AUTO, rw_playing);
  properties[PROP_DTLS_ROLE] = g_param_spec_enum(
      "dtls-role", "Negotiated DTLS role", "The DTLS role actually taken (auto until DTLS starts)",
      GST_TYPE_DTLS_TRANSPORT_BIN_ROLE, GST_DTLS_TRANSPORT_BIN_ROLE_AUTO, ro);
  properties[PROP_ICE_CONTROLLING] = g_param_spec_boolean(
      "ice-controlling", "ICE controlling",
      "Start as the ICE controlling agent (the offerer); reading gives the agent's current role "
      "after conflict resolution",
      TRUE, rw_playing);
  properties[PROP_CERTIFICATE] = g_param_spec_string(
      "certificate", "Certificate (PEM)",
      "Our DTLS identity: PEM certificate and private key in one string (write-only); default: "
      "one is generated at NULL->READY. Set while running (rotation): checked at once (refused "
      "with a warning, keeping the identity in use), used from the next DTLS handshake on; "
      "local-fingerprint and certificate-expires notify at once",
      nullptr, static_cast<GParamFlags>(wo | GST_PARAM_MUTABLE_PLAYING));
  properties[PROP_CERTIFICATE_FILE] = g_param_spec_string(
      "certificate-file", "Certificate file",
      "Path of a PEM file holding our certificate and private key; may be set while running, "
      "as certificate",
      nullptr, rw_playing);
  properties[PROP_KEY_TYPE] = g_param_spec_enum(
      "key-type", "Key type",
      "Key type of the generated certificate (generated at NULL->READY: set in the NULL state)",
      GST_TYPE_DTLS_TRANSPORT_BIN_KEY_TYPE, GST_DTLS_TRANSPORT_BIN_KEY_TYPE_ECDSA_P256, rw);
  properties[PROP_CERTIFICATE_LIFETIME] =
      g_param_spec_uint("certificate-lifetime", "Certificate lifetime",
                        "Validity of the generated certificate in seconds (set in the NULL state)",
                        10, G_MAXUINT, kDefaultCertificateLifetime, rw);
  properties[PROP_CERTIFICATE_EXPIRES] = g_param_spec_int64(
      "certificate-expires", "Certificate expires",
      "notAfter of the certificate in use, in Unix seconds (0 before there is one, i.e. before "
      "READY without a configured certificate); notifies when the certificate changes",
      0, G_MAXINT64, 0, ro);
  properties[PROP_CERTIFICATE_EXPIRY_WARNING] = g_param_spec_uint(
      "certificate-expiry-warning", "Certificate expiry warning",
      "Seconds before the certificate's notAfter (at most a tenth of its lifetime) at which a "
      "dtlstransport-certificate-expiring message and the certificate-expiring signal tell the "
      "application, and a generated certificate is renewed at NULL->READY or an auto-restart",
      0, G_MAXUINT, kDefaultCertificateExpiryWarning, rw_playing);
  properties[PROP_LOCAL_CERTIFICATE] = g_param_spec_string(
      "local-certificate", "Local certificate",
      "Our certificate in PEM (never the private key); available from READY", nullptr, ro);
  properties[PROP_LOCAL_FINGERPRINT] = g_param_spec_string(
      "local-fingerprint", "Local fingerprint",
      "Our certificate's fingerprint for a=fingerprint, e.g. \"sha-256 AB:CD:...\"; available "
      "from READY; notifies when the certificate changes (generated, renewed or set)",
      nullptr, ro);
  properties[PROP_REMOTE_FINGERPRINTS] = g_param_spec_string(
      "remote-fingerprints", "Remote fingerprints",
      "The peer's certificate fingerprints, \"<alg> <hex>\" separated by ',' (sha-1 ... sha-512, "
      "case-insensitive; any match suffices, RFC 8122); reads back in canonical form. May be set "
      "after the handshake: the peer is verified then",
      nullptr, rw_playing);
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
      "Our ICE username fragment (a=ice-ufrag); random unless set. Set in the NULL state, or "
      "before restart-ice for the restart's (else restart-ice draws a new one)",
      nullptr, rw);
  properties[PROP_LOCAL_ICE_PWD] = g_param_spec_string(
      "local-ice-pwd", "Local ICE password",
      "Our ICE password (a=ice-pwd); random unless set. Set in the NULL state, or before "
      "restart-ice for the restart's (else restart-ice draws a new one)",
      nullptr, rw);
  properties[PROP_REMOTE_ICE_UFRAG] =
      g_param_spec_string("remote-ice-ufrag", "Remote ICE ufrag",
                          "The peer's ICE username fragment", nullptr, rw_playing);
  properties[PROP_REMOTE_ICE_PWD] = g_param_spec_string(
      "remote-ice-pwd", "Remote ICE password", "The peer's ICE password", nullptr, rw_playing);
  properties[PROP_LOCAL_CANDIDATES] = g_param_spec_boxed(
      "local-candidates", "Local candidates",
      "Our gathered ICE candidates, one \"candidate:...\" line each (also signalled by "
      "on-local-candidate)",
      G_TYPE_STRV, ro);
  properties[PROP_REMOTE_CANDIDATES] = g_param_spec_string(
      "remote-candidates", "Remote candidates",
      "The peer's ICE candidates: \"candidate:...\" lines separated by ';' (more can be trickled "
      "with add-remote-candidate)",
      nullptr, rw_playing);
  properties[PROP_LOCAL_ADDRESSES] = g_param_spec_string(
      "local-addresses", "Local addresses",
      "Comma-separated IP addresses to gather candidates on; default: all non-loopback "
      "interfaces (set 127.0.0.1 for loopback; set in the NULL state)",
      nullptr, rw);
  properties[PROP_MIN_PORT] = g_param_spec_uint(
      "min-port", "Minimum port",
      "Lowest local UDP port for candidates (0 = any; set in the NULL state)", 0, 65535, 0, rw);
  properties[PROP_MAX_PORT] = g_param_spec_uint(
      "max-port", "Maximum port",
      "Highest local UDP port for candidates (0 = any; set in the NULL state)", 0, 65535, 0, rw);
  properties[PROP_STUN_SERVER] = g_param_spec_string(
      "stun-server", "STUN server",
      "STUN server for server-reflexive candidates: stun://host:port (set in the NULL state)",
      nullptr, rw);
  properties[PROP_TURN_SERVER] = g_param_spec_string(
      "turn-server", "TURN server",
      "TURN server for relay candidates: turn://user:pass@host:port, ?transport=tcp for TURN "
      "over TCP (more servers: add-turn-server; set in the NULL state)",
      nullptr, rw);
  properties[PROP_ICE_TRANSPORT_POLICY] = g_param_spec_enum(
      "ice-transport-policy", "ICE transport policy",
      "Candidates to gather and use: all, or relay (only TURN-relayed ones: needs a TURN server; "
      "set in the NULL state)",
      GST_TYPE_DTLS_TRANSPORT_BIN_ICE_TRANSPORT_POLICY,
      GST_DTLS_TRANSPORT_BIN_ICE_TRANSPORT_POLICY_ALL, rw);
  properties[PROP_SRTP_PROFILES] = g_param_spec_string(
      "srtp-profiles", "SRTP profiles",
      "DTLS-SRTP protection profiles to offer, OpenSSL names separated by ':' in preference order "
      "(RFC 5764, RFC 7714)",
      "SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM:SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32",
      rw_ready);
  properties[PROP_SRTP_PROFILE] = g_param_spec_string(
      "srtp-profile", "Negotiated SRTP profile",
      "The SRTP protection profile negotiated, NULL until connected", nullptr, ro);
  properties[PROP_PT_MAP] = g_param_spec_boxed(
      "pt-map", "Payload type map",
      "Caps for received RTP, one structure per payload type (with a 'payload' field); used "
      "before the request-pt-map signal",
      GST_TYPE_CAPS, rw_playing);
  properties[PROP_MTU] = g_param_spec_uint(
      "mtu", "MTU", "Largest DTLS datagram we send, in bytes (UDP/IP headers excluded)", 256, 65507,
      default_mtu(), rw_ready);
  properties[PROP_HANDSHAKE_TIMEOUT] = g_param_spec_uint(
      "handshake-timeout", "Handshake timeout",
      "Milliseconds from the start of DTLS until the state becomes failed if not connected", 100,
      G_MAXUINT, default_handshake_timeout_ms(), rw_ready);
  properties[PROP_ICE_AGENT] = g_param_spec_object(
      "ice-agent", "ICE agent", "The NiceAgent of this run (NULL in the NULL state)",
      NICE_TYPE_AGENT, ro);
  properties[PROP_STATS] = g_param_spec_boxed(
      "stats", "Statistics",
      "Counters and negotiated parameters: packets-/bytes-sent/-received, rtcp-packets-sent/-"
      "received, dropped-auth-failure/-replay/-no-keys/-malformed, state, dtls-role, "
      "dtls-version, dtls-cipher, srtp-profile, handshake-ms, handshakes, reconnects, "
      "local-candidate, remote-candidate, auto-restarts; data channels: data-channels-opened/-"
      "closed, messages-sent/-received, message-bytes-sent/-received, messages-refused, "
      "dcep-malformed, sctp-packets-sent/-received/-dropped",
      GST_TYPE_STRUCTURE, ro);
  properties[PROP_SOCKET_BUFFER_SIZE] = g_param_spec_uint(
      "socket-buffer-size", "Socket buffer size",
      "SO_RCVBUF and SO_SNDBUF of the selected pair's UDP socket, in bytes, set when ICE connects "
      "(capped by net.core.rmem_max/wmem_max); 0 keeps the system default",
      0, G_MAXINT, kDefaultSocketBufferSize, rw_playing);
  properties[PROP_AUTO_RESTART] = g_param_spec_boolean(
      "auto-restart", "Auto restart",
      "After the DTLS transport fails (dead peer, ICE failure, handshake timeout) or the peer "
      "closes it, begin a new run (ICE + DTLS, same settings) while PLAYING, after 1 s doubling "
      "up to 30 s, until connected again; posts a dtlstransport-restart element message each "
      "time",
      FALSE, rw_playing);
  properties[PROP_SCTP_PORT] = g_param_spec_uint(
      "sctp-port", "SCTP port",
      "Our SCTP port for data channels (the a=sctp-port we announce, RFC 8841 §5); read when DTLS "
      "connects and the SCTP association starts",
      1, 65535, 5000, rw_playing);
  properties[PROP_REMOTE_SCTP_PORT] = g_param_spec_uint(
      "remote-sctp-port", "Remote SCTP port",
      "The peer's SCTP port (its a=sctp-port); read when DTLS connects and the SCTP association "
      "starts",
      1, 65535, 5000, rw_playing);
  properties[PROP_MAX_MESSAGE_SIZE] = g_param_spec_uint(
      "max-message-size", "Maximum message size",
      "The largest data-channel message the peer accepts, in bytes (its a=max-message-size, RFC "
      "8841 §6.1; 0 = any size): a larger send is refused (on-error, nothing sent); applies at "
      "once",
      0, G_MAXUINT, 65536, rw_playing);
  g_object_class_install_properties(klass, N_PROPERTIES, properties);
}

}  // namespace gstdtls
