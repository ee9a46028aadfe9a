#include "dtls_transport.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <sys/time.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <utility>
#include <variant>

#include "dtls_record.hpp"
#include "openssl_handles.hpp"

namespace dtlstransport {

const char* dtls_state_name(DtlsState state) {
  switch (state) {
    case DtlsState::New:
      return "new";
    case DtlsState::Connecting:
      return "connecting";
    case DtlsState::Connected:
      return "connected";
    case DtlsState::Closed:
      return "closed";
    case DtlsState::Failed:
      return "failed";
  }
  return "unknown";
}

const char* dtls_role_name(DtlsRole role) {
  switch (role) {
    case DtlsRole::Auto:
      return "auto";
    case DtlsRole::Client:
      return "client";
    case DtlsRole::Server:
      return "server";
  }
  return "unknown";
}

const char* failure_reason_name(FailureReason reason) {
  switch (reason) {
    case FailureReason::None:
      return "none";
    case FailureReason::FingerprintMismatch:
      return "fingerprint mismatch";
    case FailureReason::NoRemoteFingerprint:
      return "no remote fingerprint";
    case FailureReason::HandshakeTimeout:
      return "handshake timeout";
    case FailureReason::FatalAlertReceived:
      return "fatal alert received";
    case FailureReason::NoCommonSrtpProfile:
      return "no common SRTP profile";
    case FailureReason::RoleConflict:
      return "role conflict";
    case FailureReason::ProtocolError:
      return "protocol error";
    case FailureReason::TransportLost:
      return "transport lost";
  }
  return "unknown";
}

Result<DtlsRole> resolve_dtls_role(DtlsRole local, DtlsRole remote, bool ice_controlling) {
  if (local == DtlsRole::Auto) {
    switch (remote) {
      case DtlsRole::Client:
        return DtlsRole::Server;
      case DtlsRole::Server:
        return DtlsRole::Client;
      case DtlsRole::Auto:
        // Pion's rule for two actpass sides: the ICE-controlling agent waits as server.
        return ice_controlling ? DtlsRole::Server : DtlsRole::Client;
    }
  }
  if (remote != DtlsRole::Auto && remote == local) {
    return Error{std::string("role conflict: both sides want to be DTLS ") + dtls_role_name(local)};
  }
  return local;
}

namespace {

// RFC 5764 §4.2.
constexpr char kExporterLabel[] = "EXTRACTOR-dtls_srtp";

// OpenSSL refuses an MTU below this for DTLS 1.2 (dtls1_min_mtu).
constexpr size_t kMinimumMtu = 256;
// The largest plaintext one record carries (2^14, RFC 5246 §6.2.1, which RFC 6347 §4.1 keeps).
constexpr size_t kMaxRecordPlaintext = 16384;

int transport_ex_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

struct DatagramEvent {
  std::vector<uint8_t> bytes;
};
struct StateEvent {
  DtlsState state;
  FailureReason reason;
  std::string detail;
};
struct KeysEvent {
  SrtpKeys keys;
};
struct ApplicationDataEvent {
  std::vector<uint8_t> bytes;
};
using Event = std::variant<DatagramEvent, StateEvent, KeysEvent, ApplicationDataEvent>;

}  // namespace

class DtlsTransport::Impl {
 public:
  Impl(DtlsConfig config, DtlsCallbacks callbacks)
      : config_(std::move(config)), callbacks_(std::move(callbacks)), context_(config_.context) {}

  ~Impl() {
    // The BIO points at us; make sure OpenSSL cannot call into a half-destroyed object.
    ssl_.reset();
  }

  Status init() {
    if (config_.mtu < kMinimumMtu) {
      return Error{"MTU " + std::to_string(config_.mtu) + " is below DTLS's minimum of " +
                   std::to_string(kMinimumMtu)};
    }
    if (config_.initial_retransmit_timeout.count() <= 0 ||
        config_.max_retransmit_timeout < config_.initial_retransmit_timeout ||
        config_.handshake_timeout.count() <= 0) {
      return Error{"retransmission timeouts must be positive and the cap ≥ the first retry"};
    }
    return {};
  }

  // --- public operations -------------------------------------------------------------------

  Status start(DtlsRole local_role, const DtlsParameters& remote, bool ice_controlling,
               TimePoint now) {
    if (state_ != DtlsState::New) {
      return Error{std::string("start() called in state ") + dtls_state_name(state_)};
    }
    now_ = now;
    remote_fingerprints_ = remote.fingerprints;
    auto role = resolve_dtls_role(local_role, remote.role, ice_controlling);
    if (!role) {
      fail(FailureReason::RoleConflict, role.error().message);
      deliver();
      return {};
    }
    role_ = *role;
    if (Status status = create_ssl(); !status) {
      fail(FailureReason::ProtocolError, status.error().message);
      deliver();
      return status;
    }
    handshake_deadline_ = now + config_.handshake_timeout;
    set_state(DtlsState::Connecting);
    if (role_ == DtlsRole::Client) {
      SSL_set_connect_state(ssl_.get());
    } else {
      SSL_set_accept_state(ssl_.get());
    }
    drive();
    std::deque<std::vector<uint8_t>> early;
    early.swap(early_datagrams_);
    for (const auto& datagram : early) {
      if (!is_active()) break;
      feed(datagram);
    }
    flush_datagram();
    deliver();
    return {};
  }

  void set_remote_fingerprints(std::vector<Fingerprint> fingerprints, TimePoint now) {
    now_ = now;
    remote_fingerprints_ = std::move(fingerprints);
    if (state_ == DtlsState::Connecting && awaiting_fingerprint_) {
      if (matches_any(remote_fingerprints_, peer_certificate_.get())) {
        connect();
      } else {
        fail(FailureReason::FingerprintMismatch,
             "the peer's certificate matches none of the remote fingerprints");
        tell_peer_we_are_gone();
      }
    }
    deliver();
  }

  void handle_datagram(std::span<const uint8_t> datagram, TimePoint now) {
    now_ = now;
    if (state_ == DtlsState::New) {
      if (early_datagrams_.size() < config_.max_early_datagrams) {
        early_datagrams_.emplace_back(datagram.begin(), datagram.end());
      }
      return;
    }
    if (!is_active()) return;
    feed(datagram);
    flush_datagram();
    deliver();
  }

  std::optional<TimePoint> next_timeout() const {
    if (state_ != DtlsState::Connecting) return std::nullopt;
    if (retransmit_deadline_ && !awaiting_fingerprint_) {
      return std::min(*retransmit_deadline_, handshake_deadline_);
    }
    return handshake_deadline_;
  }

  void handle_timeout(TimePoint now) {
    now_ = now;
    if (state_ != DtlsState::Connecting) return;
    if (now >= handshake_deadline_) {
      if (awaiting_fingerprint_ || remote_fingerprints_.empty()) {
        const bool handshake_finished = awaiting_fingerprint_;
        fail(FailureReason::NoRemoteFingerprint,
             "no remote fingerprint was set before the handshake deadline");
        if (handshake_finished) tell_peer_we_are_gone();
      } else {
        fail(FailureReason::HandshakeTimeout,
             "no DTLS handshake completed within " +
                 std::to_string(config_.handshake_timeout.count()) + " ms");
      }
      deliver();
      return;
    }
    if (retransmit_deadline_ && now >= *retransmit_deadline_ && !awaiting_fingerprint_) {
      retransmit_deadline_.reset();
      expire_openssl_timer();
      if (DTLSv1_handle_timeout(ssl_.get()) < 0) {
        // OpenSSL gives up after 12 retransmissions of one flight.
        fail(FailureReason::HandshakeTimeout,
             "peer unresponsive: " + take_openssl_errors_or("too many retransmissions"));
      }
      flush_datagram();
    }
    deliver();
  }

  Status send_application_data(std::span<const uint8_t> data) {
    if (state_ != DtlsState::Connected) {
      return Error{std::string("cannot send application data in state ") + dtls_state_name(state_)};
    }
    const size_t limit = DTLS_get_data_mtu(ssl_.get());
    if (data.size() > limit) {
      return Error{"application data of " + std::to_string(data.size()) + " bytes exceeds the " +
                   std::to_string(limit) + "-byte record limit at this MTU"};
    }
    ERR_clear_error();
    const int written = SSL_write(ssl_.get(), data.data(), static_cast<int>(data.size()));
    flush_datagram();
    Status status;
    if (written <= 0) status = Error{"SSL_write failed: " + take_openssl_errors()};
    deliver();
    return status;
  }

  void stop() {
    if (state_ == DtlsState::Closed || state_ == DtlsState::Failed) return;
    if (ssl_ && SSL_is_init_finished(ssl_.get())) {
      // close_notify (RFC 5246 §7.2.1); we do not wait for the peer's.
      SSL_shutdown(ssl_.get());
      flush_datagram();
    }
    set_state(DtlsState::Closed);
    deliver();
  }

  void transport_lost(std::string detail) {
    fail(FailureReason::TransportLost, std::move(detail));
    deliver();
  }

  // We failed a handshake that OpenSSL finished (the peer is connected, or about to be): no alert
  // can go in the clear any more, but close_notify tells the peer at once instead of leaving it
  // to talk to nobody until consent expires.
  void tell_peer_we_are_gone() {
    SSL_shutdown(ssl_.get());
    flush_datagram();
  }

  // --- getters ---------------------------------------------------------------------------------

  DtlsState state() const { return state_; }
  FailureReason failure_reason() const { return failure_reason_; }
  const std::string& failure_detail() const { return failure_detail_; }
  DtlsRole role() const { return role_; }
  // Negotiated with a verified peer: readable from connected on, closed or failed included.
  std::optional<SrtpProfile> srtp_profile() const { return verified_ ? profile_ : std::nullopt; }
  std::vector<uint8_t> remote_certificate_der() const {
    return verified_ ? certificate_to_der(peer_certificate_.get()) : std::vector<uint8_t>{};
  }
  std::string remote_certificate_pem() const {
    return verified_ ? certificate_to_pem(peer_certificate_.get()) : std::string{};
  }
  std::string dtls_version() const {
    return ssl_ && SSL_is_init_finished(ssl_.get()) ? SSL_get_version(ssl_.get()) : "";
  }
  uint64_t discarded_records() const { return discarded_records_; }
  std::string cipher_suite() const {
    return ssl_ && SSL_is_init_finished(ssl_.get()) ? SSL_get_cipher_name(ssl_.get()) : "";
  }
  const Certificate& certificate() const { return context_->certificate(); }

 private:
  bool is_active() const {
    return state_ == DtlsState::Connecting || state_ == DtlsState::Connected;
  }

  Status create_ssl() {
    ssl_.reset(SSL_new(context_->ssl_ctx()));
    if (!ssl_) return Error{"SSL_new failed: " + take_openssl_errors()};
    SSL* ssl = ssl_.get();
    SSL_set_ex_data(ssl, transport_ex_index(), this);
    BIO* bio = BIO_new(bio_method());
    if (!bio) return Error{"BIO_new failed: " + take_openssl_errors()};
    BIO_set_data(bio, this);
    BIO_set_init(bio, 1);
    SSL_set_bio(ssl, bio, bio);  // the SSL owns the one reference
    SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
    // Request the client's certificate too (RFC 5763 §5: both sides authenticate by fingerprint).
    SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, &Impl::verify_cb);
    if (SSL_set_mtu(ssl, static_cast<long>(config_.mtu)) <= 0) {
      return Error{"MTU " + std::to_string(config_.mtu) + " rejected by OpenSSL"};
    }
    DTLS_set_timer_cb(ssl, &Impl::timer_cb);
    SSL_set_info_callback(ssl, &Impl::info_cb);
    return {};
  }

  // Hands the plausible records of one datagram to OpenSSL (dtls_record.hpp) and runs the state
  // machine as far as it goes.
  void feed(std::span<const uint8_t> datagram) {
    RecordScreen screen;
    screen.handshake_finished = SSL_is_init_finished(ssl_.get());
    screen.min_protected_body = min_protected_body(negotiated_cipher());
    screened_.clear();
    discarded_records_ += screen_records(datagram, screen, screened_);
    if (screened_.empty()) return;
    incoming_ = screened_;
    drive();
    incoming_ = {};
  }

  // The cipher suite in use or being negotiated; nullptr before the hellos.
  const SSL_CIPHER* negotiated_cipher() const {
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_.get());
    return cipher ? cipher : SSL_get_pending_cipher(ssl_.get());
  }

  // The smallest body a record protected with `cipher` can have.
  static size_t min_protected_body(const SSL_CIPHER* cipher) {
    // Unknown yet: the smallest of the suites we offer (ChaCha20-Poly1305's tag).
    constexpr size_t kAeadTag = 16;
    if (!cipher) return kAeadTag;
    if (SSL_CIPHER_is_aead(cipher)) {
      // RFC 5288 §3: GCM records carry an 8-byte explicit nonce before the ciphertext and tag;
      // RFC 7905 §2: ChaCha20-Poly1305 has none.
      constexpr size_t kGcmExplicitNonce = 8;
      return SSL_CIPHER_get_cipher_nid(cipher) == NID_chacha20_poly1305
                 ? kAeadTag
                 : kGcmExplicitNonce + kAeadTag;
    }
    // CBC (RFC 5246 §6.2.3.2): an explicit IV block, then MAC and at least one padding byte in
    // whole blocks (with encrypt-then-MAC, RFC 7366, one block then the MAC: never less).
    constexpr size_t kBlock = 16;
    const EVP_MD* digest = EVP_get_digestbynid(SSL_CIPHER_get_digest_nid(cipher));
    const size_t mac = digest ? static_cast<size_t>(EVP_MD_get_size(digest)) : 0;
    return kBlock + (mac + 1 + kBlock - 1) / kBlock * kBlock;
  }

  void drive() {
    ERR_clear_error();
    SSL* ssl = ssl_.get();
    if (!SSL_is_init_finished(ssl)) {
      const int result = SSL_do_handshake(ssl);
      if (result != 1) {
        const int error = SSL_get_error(ssl, result);
        if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) on_ssl_error(error);
        return;
      }
      on_handshake_complete();
    }
    // Past the handshake: application data, alerts, and the peer's retransmitted final flight
    // (which OpenSSL answers from inside SSL_read).
    uint8_t buffer[kMaxRecordPlaintext];
    while (is_active()) {
      const int read = SSL_read(ssl, buffer, sizeof buffer);
      if (read > 0) {
        if (state_ == DtlsState::Connected) {
          queue_.push_back(ApplicationDataEvent{{buffer, buffer + read}});
        }
        continue;
      }
      const int error = SSL_get_error(ssl, read);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) break;
      if (error == SSL_ERROR_ZERO_RETURN) {
        set_state(DtlsState::Closed);  // close_notify from the peer
        break;
      }
      on_ssl_error(error);
      break;
    }
  }

  void on_handshake_complete() {
    SSL* ssl = ssl_.get();
    retransmit_deadline_.reset();
    peer_certificate_.reset(SSL_get1_peer_certificate(ssl));
    if (!peer_certificate_) {
      fail(FailureReason::ProtocolError, "the peer presented no certificate");
      return;
    }
    const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl);
    const auto profile =
        selected ? srtp_profile_from_id(static_cast<uint16_t>(selected->id)) : std::nullopt;
    if (!profile) {
      fail(FailureReason::NoCommonSrtpProfile,
           "the peer offered none of " + format_srtp_profiles(context_->srtp_profiles()));
      return;
    }
    profile_ = profile;
    if (Status status = export_keys(*profile); !status) {
      fail(FailureReason::ProtocolError, status.error().message);
      return;
    }
    if (remote_fingerprints_.empty()) {
      // RFC 8842 allows the answer (and its fingerprint) to arrive after the handshake: hold the
      // keys until the peer can be verified.
      awaiting_fingerprint_ = true;
      return;
    }
    if (!matches_any(remote_fingerprints_, peer_certificate_.get())) {
      // Only reachable when the fingerprints changed after verify_cb ran.
      fail(FailureReason::FingerprintMismatch,
           "the peer's certificate matches none of the remote fingerprints");
      return;
    }
    connect();
  }

  Status export_keys(SrtpProfile profile) {
    const size_t key_length = master_key_length(profile);
    const size_t salt_length = master_salt_length(profile);
    SecureBytes material(2 * (key_length + salt_length));
    if (SSL_export_keying_material(ssl_.get(), material.data(), material.size(), kExporterLabel,
                                   sizeof kExporterLabel - 1, nullptr, 0, 0) != 1) {
      return Error{"keying material export failed: " + take_openssl_errors()};
    }
    // RFC 5764 §4.2: client key, server key, client salt, server salt.
    const auto bytes = material.view();
    SecureBytes client_key(bytes.subspan(0, key_length));
    SecureBytes server_key(bytes.subspan(key_length, key_length));
    SecureBytes client_salt(bytes.subspan(2 * key_length, salt_length));
    SecureBytes server_salt(bytes.subspan(2 * key_length + salt_length, salt_length));
    const bool client = role_ == DtlsRole::Client;
    held_keys_.profile = profile;
    held_keys_.local_key = client ? client_key : server_key;
    held_keys_.local_salt = client ? client_salt : server_salt;
    held_keys_.remote_key = client ? server_key : client_key;
    held_keys_.remote_salt = client ? server_salt : client_salt;
    return {};
  }

  void connect() {
    awaiting_fingerprint_ = false;
    verified_ = true;
    queue_.push_back(KeysEvent{std::move(held_keys_)});
    held_keys_ = SrtpKeys{};
    set_state(DtlsState::Connected);
  }

  void on_ssl_error(int ssl_error) {
    std::string openssl_text = take_openssl_errors();
    if (fingerprint_mismatch_) {
      fail(FailureReason::FingerprintMismatch,
           "the peer's certificate matches none of the remote fingerprints");
    } else if (received_fatal_alert_) {
      fail(FailureReason::FatalAlertReceived,
           std::string("the peer sent a fatal alert: ") +
               SSL_alert_desc_string_long(*received_fatal_alert_));
    } else if (received_close_notify_) {
      set_state(DtlsState::Closed);
    } else if (sent_fatal_alert_) {
      fail(FailureReason::ProtocolError,
           std::string("we sent a fatal alert: ") + SSL_alert_desc_string_long(*sent_fatal_alert_) +
               (openssl_text.empty() ? std::string() : " (" + openssl_text + ")"));
    } else {
      fail(FailureReason::ProtocolError,
           "DTLS error " + std::to_string(ssl_error) +
               (openssl_text.empty() ? std::string() : ": " + openssl_text));
    }
  }

  void fail(FailureReason reason, std::string detail) {
    if (state_ == DtlsState::Failed || state_ == DtlsState::Closed) return;
    failure_reason_ = reason;
    failure_detail_ = detail;
    held_keys_ = SrtpKeys{};
    retransmit_deadline_.reset();
    state_ = DtlsState::Failed;
    queue_.push_back(StateEvent{DtlsState::Failed, reason, std::move(detail)});
  }

  void set_state(DtlsState state) {
    if (state_ == state) return;
    if (state != DtlsState::Connected) held_keys_ = SrtpKeys{};
    state_ = state;
    queue_.push_back(StateEvent{state, FailureReason::None, {}});
  }

  // Delivers queued datagrams and events in order. Callbacks may call back into the transport;
  // anything those calls queue is delivered by the same loop, still in order.
  void deliver() {
    if (delivering_) return;
    delivering_ = true;
    while (!queue_.empty()) {
      Event event = std::move(queue_.front());
      queue_.pop_front();
      if (auto* datagram = std::get_if<DatagramEvent>(&event)) {
        if (callbacks_.send_datagram) callbacks_.send_datagram(datagram->bytes);
      } else if (auto* change = std::get_if<StateEvent>(&event)) {
        if (callbacks_.state_changed)
          callbacks_.state_changed(change->state, change->reason, change->detail);
      } else if (auto* keys = std::get_if<KeysEvent>(&event)) {
        if (callbacks_.srtp_keys) callbacks_.srtp_keys(keys->keys);
      } else if (auto* data = std::get_if<ApplicationDataEvent>(&event)) {
        if (callbacks_.application_data) callbacks_.application_data(data->bytes);
      }
    }
    delivering_ = false;
  }

  std::string take_openssl_errors_or(const char* fallback) {
    std::string text = take_openssl_errors();
    return text.empty() ? fallback : text;
  }

  // --- the datagram BIO --------------------------------------------------------------------------
  // OpenSSL writes records; we pack consecutive records into one datagram while they fit the MTU
  // and never beyond it (the trap mediasoup#1100 and janus#252 fell into with memory BIOs).
  // BIO_CTRL_WPENDING tells OpenSSL how full the current datagram is, so it sizes the next
  // handshake fragment to the room left.

  void write_record(std::span<const uint8_t> record) {
    if (!pending_datagram_.empty() && pending_datagram_.size() + record.size() > config_.mtu) {
      flush_datagram();
    }
    pending_datagram_.insert(pending_datagram_.end(), record.begin(), record.end());
  }

  void flush_datagram() {
    if (pending_datagram_.empty()) return;
    queue_.push_back(DatagramEvent{std::move(pending_datagram_)});
    pending_datagram_.clear();
  }

  int read_datagram(char* out, int capacity) {
    if (incoming_.empty()) return -1;
    const size_t length = std::min(incoming_.size(), static_cast<size_t>(capacity));
    std::memcpy(out, incoming_.data(), length);
    incoming_ = {};
    return static_cast<int>(length);
  }

  // OpenSSL arms its retransmission timer against the wall clock. We keep our own deadline on the
  // caller's clock (the core owns no clock) and, when it passes, mark OpenSSL's timer as expired
  // through the pointer OpenSSL 3.0 hands the BIO, so DTLSv1_handle_timeout retransmits exactly
  // then. With a real clock both agree; with a simulated one (tests) ours rules.
  void on_openssl_timer(timeval* next_timeout) {
    openssl_timer_ = next_timeout;
    const bool running = next_timeout && (next_timeout->tv_sec != 0 || next_timeout->tv_usec != 0);
    if (running) {
      retransmit_deadline_ = now_ + retransmit_interval_;
    } else {
      retransmit_deadline_.reset();
    }
  }

  void expire_openssl_timer() {
    if (openssl_timer_ && (openssl_timer_->tv_sec != 0 || openssl_timer_->tv_usec != 0)) {
      openssl_timer_->tv_sec = 1;  // long past, but not zero (zero means "not running")
      openssl_timer_->tv_usec = 0;
    }
  }

  unsigned int next_retransmit_interval(unsigned int previous_us) {
    const auto first =
        std::chrono::duration_cast<std::chrono::microseconds>(config_.initial_retransmit_timeout);
    const auto cap =
        std::chrono::duration_cast<std::chrono::microseconds>(config_.max_retransmit_timeout);
    std::chrono::microseconds next =
        previous_us == 0 ? first : std::min(std::chrono::microseconds(previous_us) * 2, cap);
    retransmit_interval_ = next;
    return static_cast<unsigned int>(next.count());
  }

  static Impl* from_ssl(const SSL* ssl) {
    return static_cast<Impl*>(SSL_get_ex_data(ssl, transport_ex_index()));
  }

  static unsigned int timer_cb(SSL* ssl, unsigned int previous_us) {
    return from_ssl(ssl)->next_retransmit_interval(previous_us);
  }

  // Runs inside the handshake, so a mismatch aborts it with a bad_certificate alert (RFC 8122 §5)
  // and no key is ever exported. Without fingerprints yet, the decision is deferred.
  static int verify_cb(int /*preverify_ok*/, X509_STORE_CTX* store) {
    auto* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    Impl* self = from_ssl(ssl);
    // Self-signed certificates are the norm: trust comes from the fingerprint alone.
    if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
    if (self->remote_fingerprints_.empty()) return 1;
    if (matches_any(self->remote_fingerprints_, X509_STORE_CTX_get_current_cert(store))) return 1;
    self->fingerprint_mismatch_ = true;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }

  static void info_cb(const SSL* ssl, int where, int value) {
    // SSL_CB_READ_ALERT and SSL_CB_WRITE_ALERT share the SSL_CB_ALERT bit: test the direction.
    if (!(where & SSL_CB_ALERT)) return;
    Impl* self = from_ssl(ssl);
    const int level = value >> 8;
    const int description = value & 0xff;
    if (where & SSL_CB_READ) {
      if (description == SSL_AD_CLOSE_NOTIFY) {
        self->received_close_notify_ = true;
      } else if (level == SSL3_AL_FATAL) {
        self->received_fatal_alert_ = value;
      }
    } else if (where & SSL_CB_WRITE && level == SSL3_AL_FATAL) {
      self->sent_fatal_alert_ = value;
    }
  }

  static BIO_METHOD* bio_method() {
    static const BioMethodPtr method = [] {
      BioMethodPtr m(BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "dtlstransport"));
      BIO_meth_set_write(m.get(), [](BIO* bio, const char* data, int length) {
        auto* self = static_cast<Impl*>(BIO_get_data(bio));
        self->write_record({reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(length)});
        return length;
      });
      BIO_meth_set_read(m.get(), [](BIO* bio, char* out, int capacity) {
        auto* self = static_cast<Impl*>(BIO_get_data(bio));
        BIO_clear_retry_flags(bio);
        const int read = self->read_datagram(out, capacity);
        if (read < 0) BIO_set_retry_read(bio);
        return read;
      });
      BIO_meth_set_ctrl(m.get(), [](BIO* bio, int command, long /*arg*/, void* pointer) -> long {
        auto* self = static_cast<Impl*>(BIO_get_data(bio));
        switch (command) {
          case BIO_CTRL_FLUSH:
            // Ignored: OpenSSL flushes after every retransmitted message, which would send a
            // five-message flight as five datagrams (five chances to lose it). write_record()
            // starts a new datagram when the MTU requires and every public call flushes at its end.
            return 1;
          case BIO_CTRL_WPENDING:
            return static_cast<long>(self->pending_datagram_.size());
          case BIO_CTRL_PENDING:
            return static_cast<long>(self->incoming_.size());
          case BIO_CTRL_DGRAM_QUERY_MTU:
          case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
            return static_cast<long>(self->config_.mtu);
          case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:
            self->on_openssl_timer(static_cast<timeval*>(pointer));
            return 1;
          case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
          case BIO_CTRL_DGRAM_MTU_EXCEEDED:
          default:
            return 0;
        }
      });
      return m;
    }();
    return method.get();
  }

  DtlsConfig config_;
  DtlsCallbacks callbacks_;
  std::shared_ptr<const DtlsContext> context_;
  SslPtr ssl_;

  DtlsState state_ = DtlsState::New;
  FailureReason failure_reason_ = FailureReason::None;
  std::string failure_detail_;
  DtlsRole role_ = DtlsRole::Auto;
  std::vector<Fingerprint> remote_fingerprints_;
  X509Ptr peer_certificate_;
  std::optional<SrtpProfile> profile_;
  SrtpKeys held_keys_;
  bool awaiting_fingerprint_ = false;
  bool verified_ = false;
  bool fingerprint_mismatch_ = false;
  bool received_close_notify_ = false;
  std::optional<int> received_fatal_alert_;
  std::optional<int> sent_fatal_alert_;

  TimePoint now_{};
  TimePoint handshake_deadline_{};
  std::optional<TimePoint> retransmit_deadline_;
  std::chrono::microseconds retransmit_interval_{0};
  timeval* openssl_timer_ = nullptr;

  std::deque<std::vector<uint8_t>> early_datagrams_;
  std::span<const uint8_t> incoming_;
  std::vector<uint8_t> screened_;  // the records of the datagram being fed that OpenSSL may see
  uint64_t discarded_records_ = 0;
  std::vector<uint8_t> pending_datagram_;
  std::deque<Event> queue_;
  bool delivering_ = false;
};

// --- DtlsTransport -----------------------------------------------------------------------------

Result<std::unique_ptr<DtlsTransport>> DtlsTransport::create(DtlsConfig config,
                                                             DtlsCallbacks callbacks) {
  if (!config.context) {
    std::optional<Certificate> certificate;
    if (config.certificates.empty()) {
      auto generated = Certificate::generate();
      if (!generated) return Error{"cannot generate a certificate: " + generated.error().message};
      certificate = std::move(*generated);
    } else {
      certificate = config.certificates.front();
    }
    auto context = DtlsContext::create(std::move(*certificate), config.srtp_profiles);
    if (!context) return context.error();
    config.context = std::move(*context);
  }
  auto impl = std::make_unique<Impl>(std::move(config), std::move(callbacks));
  if (Status status = impl->init(); !status) return status.error();
  return std::make_unique<DtlsTransport>(ConstructionKey{}, std::move(impl));
}

DtlsTransport::DtlsTransport(ConstructionKey, std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)) {}
DtlsTransport::~DtlsTransport() = default;

Fingerprint DtlsTransport::local_fingerprint(HashAlgorithm algorithm) const {
  return impl_->certificate().fingerprint(algorithm);
}
const Certificate& DtlsTransport::local_certificate() const { return impl_->certificate(); }

Status DtlsTransport::start(DtlsRole local_role, const DtlsParameters& remote, bool ice_controlling,
                            TimePoint now) {
  return impl_->start(local_role, remote, ice_controlling, now);
}
void DtlsTransport::set_remote_fingerprints(std::vector<Fingerprint> fingerprints, TimePoint now) {
  impl_->set_remote_fingerprints(std::move(fingerprints), now);
}
void DtlsTransport::handle_datagram(std::span<const uint8_t> datagram, TimePoint now) {
  impl_->handle_datagram(datagram, now);
}
std::optional<TimePoint> DtlsTransport::next_timeout() const { return impl_->next_timeout(); }
void DtlsTransport::handle_timeout(TimePoint now) { impl_->handle_timeout(now); }
Status DtlsTransport::send_application_data(std::span<const uint8_t> data) {
  return impl_->send_application_data(data);
}
void DtlsTransport::stop() { impl_->stop(); }
void DtlsTransport::transport_lost(std::string detail) { impl_->transport_lost(std::move(detail)); }
DtlsState DtlsTransport::state() const { return impl_->state(); }
FailureReason DtlsTransport::failure_reason() const { return impl_->failure_reason(); }
const std::string& DtlsTransport::failure_detail() const { return impl_->failure_detail(); }
DtlsRole DtlsTransport::role() const { return impl_->role(); }
std::optional<SrtpProfile> DtlsTransport::srtp_profile() const { return impl_->srtp_profile(); }
std::vector<uint8_t> DtlsTransport::remote_certificate_der() const {
  return impl_->remote_certificate_der();
}
std::string DtlsTransport::remote_certificate_pem() const {
  return impl_->remote_certificate_pem();
}
std::string DtlsTransport::dtls_version() const { return impl_->dtls_version(); }
std::string DtlsTransport::cipher_suite() const { return impl_->cipher_suite(); }
uint64_t DtlsTransport::discarded_records() const { return impl_->discarded_records(); }

}  // namespace dtlstransport
