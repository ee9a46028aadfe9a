// What dtlstransportbin's properties set, parsed once when set (gst-plugins-rs keeps Settings
// apart from State the same way): the rest of the bin reads values, never text. Defaults that the
// core defines come from the core's DtlsConfig.
#pragma once

#include <gst/gst.h>

#include <optional>
#include <string>
#include <vector>

#include "certificate.hpp"
#include "dtls_transport.hpp"
#include "enums.h"
#include "fingerprint.hpp"
#include "srtp_profile.hpp"

namespace gstdtls {

inline constexpr guint kDefaultCertificateLifetime = 30 * 24 * 3600;      // seconds, as the core's
inline constexpr guint kDefaultCertificateExpiryWarning = 7 * 24 * 3600;  // seconds
// 1 MiB ≈ 850 packets of 1 200 bytes, ≈ 70 ms at 10 Mbit/s; the kernel doubles the value it
// stores and caps the request at net.core.rmem_max / wmem_max.
inline constexpr guint kDefaultSocketBufferSize = 1 << 20;

inline guint default_mtu() { return static_cast<guint>(dtlstransport::DtlsConfig{}.mtu); }
inline guint default_handshake_timeout_ms() {
  return static_cast<guint>(dtlstransport::DtlsConfig{}.handshake_timeout.count());
}

struct Settings {
  // DTLS
  GstDtlsTransportBinRole role = GST_DTLS_TRANSPORT_BIN_ROLE_AUTO;
  GstDtlsTransportBinRole remote_role = GST_DTLS_TRANSPORT_BIN_ROLE_AUTO;
  // The identity: given (certificate / certificate-file) or generated at NULL→READY with
  // key_type and certificate_lifetime, then reused across runs.
  std::optional<dtlstransport::Certificate> certificate;
  bool certificate_from_user = false;
  // Why the last certificate / certificate-file value was refused; while set, NULL→READY fails
  // (a configured identity is never replaced by a generated one). "" withdraws it.
  std::string certificate_error;
  std::string certificate_file;
  GstDtlsTransportBinKeyType key_type = GST_DTLS_TRANSPORT_BIN_KEY_TYPE_ECDSA_P256;
  guint certificate_lifetime = kDefaultCertificateLifetime;
  // Tell the application this long before notAfter (at most a tenth of the lifetime).
  guint certificate_expiry_warning = kDefaultCertificateExpiryWarning;
  std::vector<dtlstransport::Fingerprint> remote_fingerprints;
  std::vector<dtlstransport::SrtpProfile> srtp_profiles = dtlstransport::default_srtp_profiles();
  guint mtu = default_mtu();
  guint handshake_timeout_ms = default_handshake_timeout_ms();
  // Data channels (gst/datachannel/): our SCTP port and the peer's (a=sctp-port, RFC 8841 §5),
  // and the largest message the peer accepts (its a=max-message-size; 0 = any, RFC 8841 §6.1).
  guint sctp_port = 5000;
  guint remote_sctp_port = 5000;
  guint max_message_size = 65536;
  // After failed or the peer's close: a new run (ICE + DTLS) with these settings, with backoff.
  bool auto_restart = false;

  // ICE
  bool ice_controlling = true;
  std::string local_ufrag, local_pwd, remote_ufrag, remote_pwd;
  std::vector<std::string> remote_candidates;  // "a=candidate:…", normalized
  std::vector<std::string> local_addresses;
  std::string stun_server, turn_server;
  // add-turn-server's URLs (checked when added), after turn-server's; kept for every later run.
  std::vector<std::string> added_turn_servers;
  GstDtlsTransportBinIceTransportPolicy ice_transport_policy =
      GST_DTLS_TRANSPORT_BIN_ICE_TRANSPORT_POLICY_ALL;
  guint min_port = 0, max_port = 0;
  guint socket_buffer_size = kDefaultSocketBufferSize;
  // pt-map is kept by the data path, which uses it (endpoint_set_pt_map).

  // The TURN servers a run gives libnice, in order: turn-server, then add-turn-server's.
  std::vector<std::string> turn_servers() const {
    std::vector<std::string> all;
    if (!turn_server.empty()) all.push_back(turn_server);
    all.insert(all.end(), added_turn_servers.begin(), added_turn_servers.end());
    return all;
  }
};

}  // namespace gstdtls
