// The DTLS 1.2 transport of one DTLS-SRTP association, sans-IO (modelled on the ORTC
// DTLSTransport). It owns no socket, thread or clock: the caller feeds received datagrams and the
// current time, asks when the next timer fires, and gets datagrams to send, state changes, keys and
// application data back through callbacks.
//
// Callback contract: callbacks run on the caller's thread, from inside the public method that
// caused them, but only after the transport has finished that work: datagrams and events are
// queued while OpenSSL runs and delivered, in order, at the end of the call. A callback may call
// any getter and may call back into the transport (e.g. stop() from state_changed); it must not
// destroy the transport. Single-threaded by contract: the caller serializes all calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "certificate.hpp"
#include "dtls_context.hpp"
#include "fingerprint.hpp"
#include "result.hpp"
#include "srtp_profile.hpp"

namespace dtlstransport {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

enum class DtlsState { New, Connecting, Connected, Closed, Failed };
enum class DtlsRole { Auto, Client, Server };

enum class FailureReason {
  None,
  FingerprintMismatch,  // the peer's certificate matches none of the remote fingerprints
  NoRemoteFingerprint,  // handshake deadline passed with no remote fingerprint ever set
  HandshakeTimeout,     // no handshake completed before the deadline
  FatalAlertReceived,   // the peer sent a fatal alert
  NoCommonSrtpProfile,  // use_srtp negotiated nothing we offered
  RoleConflict,         // both sides client or both server
  ProtocolError,        // anything else OpenSSL rejected
  TransportLost,        // the path under DTLS is gone (ICE failed, consent expired)
};

const char* dtls_state_name(DtlsState state);  // "new", "connecting", …
const char* dtls_role_name(DtlsRole role);     // "auto", "client", "server"
const char* failure_reason_name(FailureReason reason);

// RFC 5763 §5 / Pion's rule for the role we take. A remote client makes us server and vice versa;
// both auto → the ICE-controlling side is server, the controlled side client. Both client or
// both server is a conflict (an Error).
Result<DtlsRole> resolve_dtls_role(DtlsRole local, DtlsRole remote, bool ice_controlling);

struct DtlsConfig {
  // Identities to offer; the first is used. Empty → one is generated (ECDSA P-256, 30 days).
  std::vector<Certificate> certificates;
  // use_srtp profiles in preference order.
  std::vector<SrtpProfile> srtp_profiles = default_srtp_profiles();
  // A context to share (see dtls_context.hpp). When set, it supplies the identity and the SRTP
  // profiles, and `certificates` and `srtp_profiles` above are ignored.
  std::shared_ptr<const DtlsContext> context;
  // Largest datagram we emit (DTLS record headers included, UDP/IP headers excluded).
  size_t mtu = 1200;
  // Retransmission: first retry, ×2 backoff up to the cap; the whole handshake must finish within
  // the deadline (counted from start()).
  std::chrono::milliseconds initial_retransmit_timeout{400};
  std::chrono::milliseconds max_retransmit_timeout{4000};
  std::chrono::milliseconds handshake_timeout{30000};
  // Datagrams received before start() are kept (up to this many) and processed at start.
  size_t max_early_datagrams = 32;
};

struct DtlsParameters {
  DtlsRole role = DtlsRole::Auto;
  std::vector<Fingerprint> fingerprints;
};

struct DtlsCallbacks {
  // One datagram to send (≤ mtu bytes). The span is valid only during the call.
  std::function<void(std::span<const uint8_t>)> send_datagram;
  // Every state change, once. `reason` is None unless `state` is Failed; `detail` says more.
  std::function<void(DtlsState state, FailureReason reason, const std::string& detail)>
      state_changed;
  // SRTP keys, once, just before the change to Connected (only after the peer is verified).
  std::function<void(const SrtpKeys& keys)> srtp_keys;
  // Decrypted DTLS application data (for a later data-channel path).
  std::function<void(std::span<const uint8_t>)> application_data;
  // While Connected, a new handshake with the peer completed, its certificate verified against the
  // remote fingerprints, and replaced the association (the peer restarted, RFC 6347 §4.2.8). The
  // new keys came through srtp_keys just before; the state stays Connected (no state_changed).
  std::function<void()> reconnected;
};

class DtlsTransport {
 public:
  // Fails only if no certificate can be generated or the configuration is unusable.
  static Result<std::unique_ptr<DtlsTransport>> create(DtlsConfig config, DtlsCallbacks callbacks);

 private:
  class Impl;
  struct ConstructionKey {
    explicit ConstructionKey() = default;
  };

 public:
  DtlsTransport(ConstructionKey, std::unique_ptr<Impl> impl);  // use create()
  ~DtlsTransport();
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // Local parameters: our certificate's fingerprints (one per algorithm asked for). After
  // set_context(), the new identity's.
  Fingerprint local_fingerprint(HashAlgorithm algorithm = HashAlgorithm::Sha256) const;
  const Certificate& local_certificate() const;

  // Certificate rotation: the context (identity and SRTP profiles) of every handshake that begins
  // from now on: the first one if start() has not been called, else a new handshake beside the
  // association (a peer's restart, see below). The association in use, and a new handshake
  // already under way, keep the identity they began with. May be called in any state.
  void set_context(std::shared_ptr<const DtlsContext> context);

  // Starts the handshake with the remote parameters. `local_role` Auto resolves with
  // resolve_dtls_role(); a conflict → Failed(RoleConflict). May be called once.
  Status start(DtlsRole local_role, const DtlsParameters& remote, bool ice_controlling,
               TimePoint now);

  // Sets (or replaces) the remote fingerprints. If the handshake already finished unverified, the
  // peer is verified now: match → Connected, mismatch → Failed.
  void set_remote_fingerprints(std::vector<Fingerprint> fingerprints, TimePoint now);

  // A received DTLS datagram (first byte 20–63). Before start() it is kept for later.
  void handle_datagram(std::span<const uint8_t> datagram, TimePoint now);

  // When handle_timeout() must next be called; nullopt when no timer runs. A value ≤ now means now.
  std::optional<TimePoint> next_timeout() const;
  void handle_timeout(TimePoint now);

  // Application data over the established association.
  Status send_application_data(std::span<const uint8_t> data);

  // Sends close_notify (when a session exists) and moves to Closed. Idempotent.
  void stop();

  // The transport underneath is gone (ICE failed, RFC 7675 consent expired): Failed
  // (TransportLost) from any state but Closed/Failed, keys dropped, nothing sent (there is no path
  // to send on). `detail` says what was lost.
  void transport_lost(std::string detail);

  DtlsState state() const;
  FailureReason failure_reason() const;
  const std::string& failure_detail() const;
  // After a FingerprintMismatch: the sha-256 fingerprint of the certificate the peer actually
  // presented ("sha-256 AB:…"), for diagnosis; "" otherwise.
  const std::string& presented_fingerprint() const;
  DtlsRole role() const;  // the role taken; Auto before start()
  // What was negotiated stays readable after Closed/Failed, until the transport is destroyed.
  std::optional<SrtpProfile> srtp_profile() const;      // once the peer is verified
  std::vector<uint8_t> remote_certificate_der() const;  // empty until the peer is verified
  std::string remote_certificate_pem() const;           // "" until the peer is verified
  std::string dtls_version() const;                     // "DTLSv1.2" once connected
  std::string cipher_suite() const;                     // OpenSSL's name once connected
  // Received records discarded before OpenSSL because nobody could have authenticated them
  // (dtls_record.hpp): truncated, of an unknown type, version or epoch, too short for the cipher,
  // or plaintext after the handshake. Counted, never fatal (RFC 6347 §4.1.2.7).
  uint64_t discarded_records() const;

  // Restart recovery (a peer that restarted with the same configuration). A connected transport
  // runs at most one new handshake beside its association: as server when a new ClientHello
  // arrives (RFC 6347 §4.2.8), as client when the peer's restarted server sends a HelloRequest
  // (RFC 5246 §7.4.1.1; a server that waits for a ClientHello sends one every second). At most
  // one such handshake starts per second. Only once it completes with a peer whose certificate
  // matches the remote fingerprints does it replace the association (keys, remote certificate,
  // profile); a failed or timed-out one (10 s) is dropped and changes nothing.
  uint64_t handshakes() const;          // completed, verified handshakes (the first included)
  uint64_t reconnects() const;          // of them, those that replaced a connected association
  uint64_t reconnect_attempts() const;  // new handshakes started while connected

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace dtlstransport
