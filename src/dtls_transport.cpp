#include "dtls_transport.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
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

// What a peer that failed verification presented, for its diagnosis.
std::string sha256_of(X509* certificate) {
  if (!certificate) return {};
  return Fingerprint::of_certificate(HashAlgorithm::Sha256, certificate).to_string();
}

// RFC 5764 §4.2.
constexpr char kExporterLabel[] = "EXTRACTOR-dtls_srtp";

// OpenSSL refuses an MTU below this for DTLS 1.2 (dtls1_min_mtu).
constexpr size_t kMinimumMtu = 256;
// The largest plaintext one record carries (2^14, RFC 5246 §6.2.1, which RFC 6347 §4.1 keeps).
constexpr size_t kMaxRecordPlaintext = 16384;

// A connected transport starts at most one new handshake (for a restarted peer) per this long.
constexpr auto kRestartRateLimit = std::chrono::seconds(1);
// A new handshake beside a connected association gives up after this long (or the handshake
// timeout, if shorter) and is dropped without a trace.
constexpr auto kAttemptTimeout = std::chrono::seconds(10);
// A server still waiting for a ClientHello asks a client that may have survived its restart for
// a new handshake this often (RFC 5246 §7.4.1.1 HelloRequest).
constexpr auto kHelloRequestInterval = std::chrono::seconds(1);

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
struct ReconnectedEvent {};
using Event =
    std::variant<DatagramEvent, StateEvent, KeysEvent, ApplicationDataEvent, ReconnectedEvent>;

}  // namespace

class DtlsTransport::Impl {
 public:
  Impl(DtlsConfig config, DtlsCallbacks callbacks)
      : config_(std::move(config)), callbacks_(std::move(callbacks)), context_(config_.context) {}

  ~Impl() {
    // The BIOs point at the associations, which point at us: drop them while we are whole.
    attempt_.reset();
    current_.reset();
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
    auto created = create_association();
    if (!created) {
      fail(FailureReason::ProtocolError, created.error().message);
      deliver();
      return created.error();
    }
    current_ = std::move(*created);
    handshake_deadline_ = now + config_.handshake_timeout;
    set_state(DtlsState::Connecting);
    if (role_ == DtlsRole::Server) {
      // A client that survived our restart waits for a HelloRequest (see ingest()). Not at once:
      // in a fresh start the ClientHello comes first, and a client mid-handshake need not see it.
      hello_request_due_ = now + kHelloRequestInterval;
    }
    drive(*current_);
    std::deque<std::vector<uint8_t>> early;
    early.swap(early_datagrams_);
    for (const auto& datagram : early) {
      if (!is_active()) break;
      ingest(datagram);
    }
    flush_datagram();
    deliver();
    return {};
  }

  void set_remote_fingerprints(std::vector<Fingerprint> fingerprints, TimePoint now) {
    now_ = now;
    remote_fingerprints_ = std::move(fingerprints);
    if (state_ == DtlsState::Connecting && awaiting_fingerprint_) {
      if (matches_any(remote_fingerprints_, current_->peer_certificate.get())) {
        connect();
      } else {
        presented_fingerprint_ = sha256_of(current_->peer_certificate.get());
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
    ingest(datagram);
    flush_datagram();
    deliver();
  }

  std::optional<TimePoint> next_timeout() const {
    std::optional<TimePoint> next;
    auto consider = [&next](std::optional<TimePoint> t) {
      if (t && (!next || *t < *next)) next = t;
    };
    if (state_ == DtlsState::Connecting) {
      consider(handshake_deadline_);
      if (!awaiting_fingerprint_) {
        consider(current_->retransmit_deadline);
        consider(hello_request_due_);
      }
    } else if (state_ == DtlsState::Connected && attempt_) {
      consider(attempt_->deadline);
      consider(attempt_->retransmit_deadline);
    }
    return next;
  }

  void handle_timeout(TimePoint now) {
    now_ = now;
    if (state_ == DtlsState::Connected) {
      if (attempt_) handle_attempt_timeout(now);
      flush_datagram();
      deliver();
      return;
    }
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
    if (awaiting_fingerprint_) {
      deliver();
      return;
    }
    Association& current = *current_;
    if (current.retransmit_deadline && now >= *current.retransmit_deadline) {
      if (current.on_retransmit_deadline(now) < 0) {
        // OpenSSL gives up after 12 retransmissions of one flight.
        fail(FailureReason::HandshakeTimeout,
             "peer unresponsive: " + take_openssl_errors_or("too many retransmissions"));
      }
      flush_datagram();
    }
    if (hello_request_due_ && now >= *hello_request_due_ && state_ == DtlsState::Connecting) {
      flush_datagram();
      queue_.push_back(DatagramEvent{hello_request_record()});
      hello_request_due_ = now + kHelloRequestInterval;
    }
    deliver();
  }

  Status send_application_data(std::span<const uint8_t> data) {
    if (state_ != DtlsState::Connected) {
      return Error{std::string("cannot send application data in state ") + dtls_state_name(state_)};
    }
    SSL* ssl = current_->ssl.get();
    // One record, at most a record's plaintext (RFC 6347 §4.1). It may be larger than what fits
    // the MTU: SCTP over DTLS (RFC 8261 §5) sends packets of its own path MTU (1200 bytes, RFC
    // 8831 §5) in one record each, so such a record leaves in a datagram of its own, above the MTU
    // by the record's overhead (as every WebRTC stack does). Handshake messages never exceed it.
    if (data.size() > kMaxRecordPlaintext) {
      return Error{"application data of " + std::to_string(data.size()) + " bytes exceeds the " +
                   std::to_string(kMaxRecordPlaintext) + "-byte DTLS record limit"};
    }
    ERR_clear_error();
    const int written = SSL_write(ssl, data.data(), static_cast<int>(data.size()));
    flush_datagram();
    Status status;
    if (written <= 0) status = Error{"SSL_write failed: " + take_openssl_errors()};
    deliver();
    return status;
  }

  void stop() {
    if (state_ == DtlsState::Closed || state_ == DtlsState::Failed) return;
    attempt_.reset();
    if (current_ && SSL_is_init_finished(current_->ssl.get())) {
      // close_notify (RFC 5246 §7.2.1); we do not wait for the peer's.
      SSL_shutdown(current_->ssl.get());
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
    SSL_shutdown(current_->ssl.get());
    flush_datagram();
  }

  // --- getters ---------------------------------------------------------------------------------

  DtlsState state() const { return state_; }
  FailureReason failure_reason() const { return failure_reason_; }
  const std::string& failure_detail() const { return failure_detail_; }
  const std::string& presented_fingerprint() const { return presented_fingerprint_; }
  DtlsRole role() const { return role_; }
  // Negotiated with a verified peer: readable from connected on, closed or failed included.
  std::optional<SrtpProfile> srtp_profile() const {
    return verified_ ? current_->profile : std::nullopt;
  }
  std::vector<uint8_t> remote_certificate_der() const {
    return verified_ ? certificate_to_der(current_->peer_certificate.get())
                     : std::vector<uint8_t>{};
  }
  std::string remote_certificate_pem() const {
    return verified_ ? certificate_to_pem(current_->peer_certificate.get()) : std::string{};
  }
  std::string dtls_version() const {
    return current_ && SSL_is_init_finished(current_->ssl.get())
               ? SSL_get_version(current_->ssl.get())
               : "";
  }
  uint64_t discarded_records() const { return discarded_records_; }
  std::string cipher_suite() const {
    return current_ && SSL_is_init_finished(current_->ssl.get())
               ? SSL_get_cipher_name(current_->ssl.get())
               : "";
  }
  uint64_t handshakes() const { return handshakes_; }
  uint64_t reconnects() const { return reconnects_; }
  uint64_t reconnect_attempts() const { return reconnect_attempts_; }
  const Certificate& certificate() const { return context_->certificate(); }

  // Only create_association() reads it: an SSL object keeps the SSL_CTX it was made from.
  void set_context(std::shared_ptr<const DtlsContext> context) {
    if (context) context_ = std::move(context);
  }

 private:
  // One SSL object and what hangs off it: the association in use, or a new handshake running
  // beside it (RFC 6347 §4.2.8) until it is verified and replaces it, or is dropped.
  struct Association {
    explicit Association(Impl& transport) : owner(transport) {}
    ~Association() { ssl.reset(); }  // before anything OpenSSL may still call back into
    Association(const Association&) = delete;
    Association& operator=(const Association&) = delete;

    // Retransmission timers, with OpenSSL's public API only (no pointer OpenSSL hands out is
    // kept past the call that handed it: from OpenSSL 3.2 on the timeval passed with
    // BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT lives on the stack of dtls1_start_timer).
    //
    // OpenSSL's DTLS timer runs on the wall clock (gettimeofday) and DTLSv1_handle_timeout
    // retransmits only once that timer has expired; no public call makes it expire earlier. So
    // two timers run the same schedule: OpenSSL's, whose lengths timer_cb() gives from our
    // configuration, and ours on the caller's clock (the core owns no clock), armed whenever
    // OpenSSL arms its own. When ours passes, we ask OpenSSL: if its timer has expired too
    // (DTLSv1_get_timeout reports no time left; it counts the last 15 ms as expired), it
    // retransmits; if the two clocks disagree (the caller's ran ahead), ours waits for the time
    // OpenSSL says is left. OpenSSL may also retransmit by itself when a read finds its timer
    // expired; it then re-arms its timer and ours follows. With a real clock both agree to the
    // millisecond; a simulated clock must also be the clock OpenSSL reads (the core tests do that).
    void on_openssl_timer(bool running) {
      if (running) {
        retransmit_deadline = owner.now_ + retransmit_interval;
      } else {
        retransmit_deadline.reset();
      }
    }

    // Our deadline has passed. Returns DTLSv1_handle_timeout's result (< 0: OpenSSL gave up), or
    // 0 when there is nothing to retransmit yet.
    int on_retransmit_deadline(TimePoint now) {
      retransmit_deadline.reset();
      timeval left{};
      if (DTLSv1_get_timeout(ssl.get(), &left) != 1) return 0;  // no flight awaits an answer
      if (left.tv_sec > 0 || left.tv_usec > 0) {
        retransmit_deadline =
            now + std::chrono::seconds(left.tv_sec) + std::chrono::microseconds(left.tv_usec);
        return 0;
      }
      return static_cast<int>(DTLSv1_handle_timeout(ssl.get()));
    }

    Impl& owner;
    SslPtr ssl;
    X509Ptr peer_certificate;
    std::optional<SrtpProfile> profile;
    SrtpKeys keys;  // exported, held until delivered
    bool fingerprint_mismatch = false;
    std::string presented_fingerprint;  // sha-256 of the rejected certificate (verify_cb)
    bool received_close_notify = false;
    std::optional<int> received_fatal_alert;
    std::optional<int> sent_fatal_alert;
    std::optional<TimePoint> retransmit_deadline;
    std::chrono::microseconds retransmit_interval{0};
    std::span<const uint8_t> incoming;  // the screened records OpenSSL is reading
    // A new handshake beside a connected association only:
    TimePoint deadline{};
    std::optional<std::array<uint8_t, 32>> client_random;  // the ClientHello that opened it
  };

  bool is_active() const {
    return state_ == DtlsState::Connecting || state_ == DtlsState::Connected;
  }

  Result<std::unique_ptr<Association>> create_association() {
    auto association = std::make_unique<Association>(*this);
    association->ssl.reset(SSL_new(context_->ssl_ctx()));
    if (!association->ssl) return Error{"SSL_new failed: " + take_openssl_errors()};
    SSL* ssl = association->ssl.get();
    SSL_set_ex_data(ssl, transport_ex_index(), association.get());
    BIO* bio = BIO_new(bio_method());
    if (!bio) return Error{"BIO_new failed: " + take_openssl_errors()};
    BIO_set_data(bio, association.get());
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
    if (role_ == DtlsRole::Client) {
      SSL_set_connect_state(ssl);
    } else {
      SSL_set_accept_state(ssl);
    }
    return association;
  }

  // One received datagram. The hellos that open a new handshake are sorted out first: a
  // HelloRequest never reaches OpenSSL (a connected client may answer it with a new handshake of
  // its own, see on_hello_request()); a connected server hands a new ClientHello to a new
  // handshake (admit_client_hello()). Then the association in use and the new handshake, if one
  // runs, each get the records they may accept; each discards what it cannot authenticate.
  void ingest(std::span<const uint8_t> datagram) {
    std::vector<uint8_t> kept;
    bool filtered = false;
    const auto rest = for_each_record(datagram, [&](std::span<const uint8_t> record) {
      const Hello hello = hello_in_record(record);
      if (hello.kind == HelloKind::HelloRequest) {
        filtered = true;
        if (role_ == DtlsRole::Client && state_ == DtlsState::Connected) on_hello_request();
        return;
      }
      if (hello.kind == HelloKind::ClientHello && role_ == DtlsRole::Server) {
        if (state_ == DtlsState::Connecting) {
          hello_request_due_.reset();  // a client is there: no need to ask for one
        } else if (state_ == DtlsState::Connected && !admit_client_hello(hello.client_random)) {
          filtered = true;
          return;
        }
      }
      kept.insert(kept.end(), record.begin(), record.end());
    });
    kept.insert(kept.end(), rest.begin(), rest.end());
    const std::span<const uint8_t> records = filtered ? std::span<const uint8_t>(kept) : datagram;
    feed(*current_, records);
    if (attempt_ && state_ == DtlsState::Connected) feed(*attempt_, records);
  }

  // A new handshake may start at most once per kRestartRateLimit, counted from the last one
  // started or completed: a forged hello costs at most that.
  bool may_start_attempt() const {
    return !last_handshake_start_ || now_ - *last_handshake_start_ >= kRestartRateLimit;
  }

  // RFC 5246 §7.4.1.1: the peer's server restarted and asks us (a connected client) for a new
  // handshake. It runs beside the association in use, which it replaces only once verified.
  void on_hello_request() {
    if (attempt_ || !may_start_attempt()) return;
    start_attempt(std::nullopt);
  }

  // RFC 6347 §4.2.8: a ClientHello on a connected association; the client may have restarted.
  // Returns whether the record goes on (to the new handshake it belongs to).
  bool admit_client_hello(const std::array<uint8_t, 32>& client_random) {
    if (attempt_ && attempt_->client_random == client_random) return true;  // retransmitted
    if (!may_start_attempt()) return false;
    // A different ClientHello replaces a new handshake only while that one has heard nothing
    // after its hello: a forged hello cannot cut short a handshake the real client carries on.
    if (attempt_ && !still_at_first_flight(*attempt_)) return false;
    attempt_.reset();
    start_attempt(client_random);
    return attempt_ != nullptr;
  }

  // A server handshake that has sent its first flight and read nothing since.
  static bool still_at_first_flight(const Association& association) {
    switch (SSL_get_state(association.ssl.get())) {
      case TLS_ST_BEFORE:
      case TLS_ST_SR_CLNT_HELLO:
      case TLS_ST_SW_SRVR_HELLO:
      case TLS_ST_SW_CERT:
      case TLS_ST_SW_KEY_EXCH:
      case TLS_ST_SW_CERT_REQ:
      case TLS_ST_SW_SRVR_DONE:
        return true;
      default:
        return false;
    }
  }

  void start_attempt(std::optional<std::array<uint8_t, 32>> client_random) {
    auto created = create_association();
    if (!created) return;  // nothing changes for the association in use
    attempt_ = std::move(*created);
    attempt_->deadline =
        now_ + std::min<std::chrono::milliseconds>(config_.handshake_timeout, kAttemptTimeout);
    attempt_->client_random = client_random;
    last_handshake_start_ = now_;
    ++reconnect_attempts_;
    if (role_ == DtlsRole::Client) drive(*attempt_);  // sends the ClientHello
  }

  void drop_attempt() { attempt_.reset(); }

  void handle_attempt_timeout(TimePoint now) {
    Association& attempt = *attempt_;
    if (now >= attempt.deadline) {
      drop_attempt();
      return;
    }
    if (attempt.retransmit_deadline && now >= *attempt.retransmit_deadline) {
      ERR_clear_error();
      if (attempt.on_retransmit_deadline(now) < 0) {
        ERR_clear_error();
        drop_attempt();
      }
    }
  }

  // Hands the plausible records of one datagram to OpenSSL (dtls_record.hpp) and runs the state
  // machine as far as it goes.
  void feed(Association& association, std::span<const uint8_t> datagram) {
    RecordScreen screen;
    screen.handshake_finished = SSL_is_init_finished(association.ssl.get());
    const SSL_CIPHER* cipher = negotiated_cipher(association.ssl.get());
    screen.min_protected_body = min_protected_body(cipher);
    // During the handshake the only protected record a peer sends is its Finished: a 12-byte
    // DTLS handshake header and 12 bytes of verify_data (RFC 5246 §7.4.9). OpenSSL keeps early
    // epoch-1 records to decrypt once the cipher is known, and a forged short one kept that way
    // stalls the handshake: nothing shorter than a Finished may pass. (An AEAD record's body is
    // exactly nonce + plaintext + tag; CBC's rounding makes its bound loose, and it is not in
    // our cipher list.)
    constexpr size_t kFinishedPlaintext = 12 + 12;
    if (!screen.handshake_finished && (!cipher || SSL_CIPHER_is_aead(cipher)))
      screen.min_protected_body += kFinishedPlaintext;
    screened_.clear();
    const size_t discarded = screen_records(datagram, screen, screened_);
    // Count each datagram's discards once, by the association in use.
    if (&association == current_.get()) discarded_records_ += discarded;
    if (screened_.empty()) return;
    association.incoming = screened_;
    drive(association);
    // `association` is gone if a new handshake that failed was dropped; the one in use remains.
    if (current_) current_->incoming = {};
    if (attempt_) attempt_->incoming = {};
  }

  // The cipher suite in use or being negotiated; nullptr before the hellos.
  static const SSL_CIPHER* negotiated_cipher(const SSL* ssl) {
    const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
    return cipher ? cipher : SSL_get_pending_cipher(ssl);
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

  void drive(Association& association) {
    ERR_clear_error();
    const bool is_attempt = &association == attempt_.get();
    SSL* ssl = association.ssl.get();
    if (!SSL_is_init_finished(ssl)) {
      const int result = SSL_do_handshake(ssl);
      if (result != 1) {
        const int error = SSL_get_error(ssl, result);
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return;
        if (is_attempt) {
          // A new handshake that fails changes nothing: the association in use stays.
          ERR_clear_error();
          drop_attempt();
        } else {
          on_ssl_error(error);
        }
        return;
      }
      if (is_attempt) {
        if (!promote_attempt()) return;
      } else {
        on_handshake_complete();
      }
    } else if (is_attempt) {
      return;  // not reached: a finished new handshake is promoted or dropped at once
    }
    read_application_data();
  }

  // Past the handshake: application data, alerts, and the peer's retransmitted final flight
  // (which OpenSSL answers from inside SSL_read).
  void read_application_data() {
    uint8_t buffer[kMaxRecordPlaintext];
    while (is_active()) {
      SSL* ssl = current_->ssl.get();
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

  // Reads what the finished handshake of `association` negotiated: the peer's certificate, the
  // SRTP profile and the keys. An Error says why it is unusable.
  Status take_handshake_result(Association& association, FailureReason& reason) {
    SSL* ssl = association.ssl.get();
    association.retransmit_deadline.reset();
    association.peer_certificate.reset(SSL_get1_peer_certificate(ssl));
    if (!association.peer_certificate) {
      reason = FailureReason::ProtocolError;
      return Error{"the peer presented no certificate"};
    }
    const SRTP_PROTECTION_PROFILE* selected = SSL_get_selected_srtp_profile(ssl);
    const auto profile =
        selected ? srtp_profile_from_id(static_cast<uint16_t>(selected->id)) : std::nullopt;
    if (!profile) {
      reason = FailureReason::NoCommonSrtpProfile;
      return Error{"the peer offered none of " + format_srtp_profiles(context_->srtp_profiles())};
    }
    association.profile = profile;
    if (Status status = export_keys(association, *profile); !status) {
      reason = FailureReason::ProtocolError;
      return status;
    }
    return {};
  }

  void on_handshake_complete() {
    FailureReason reason = FailureReason::None;
    if (Status status = take_handshake_result(*current_, reason); !status) {
      fail(reason, status.error().message);
      return;
    }
    if (remote_fingerprints_.empty()) {
      // RFC 8842 allows the answer (and its fingerprint) to arrive after the handshake: hold the
      // keys until the peer can be verified.
      awaiting_fingerprint_ = true;
      return;
    }
    if (!matches_any(remote_fingerprints_, current_->peer_certificate.get())) {
      // Only reachable when the fingerprints changed after verify_cb ran.
      presented_fingerprint_ = sha256_of(current_->peer_certificate.get());
      fail(FailureReason::FingerprintMismatch,
           "the peer's certificate matches none of the remote fingerprints");
      return;
    }
    connect();
  }

  // The new handshake finished. Only a peer whose certificate matches the remote fingerprints
  // replaces the association in use (RFC 8122 §5 holds for every handshake, not just the first);
  // anything else drops the new handshake and changes nothing. Returns whether it replaced it.
  bool promote_attempt() {
    FailureReason reason = FailureReason::None;
    if (!take_handshake_result(*attempt_, reason) || remote_fingerprints_.empty() ||
        !matches_any(remote_fingerprints_, attempt_->peer_certificate.get())) {
      ERR_clear_error();
      drop_attempt();
      return false;
    }
    // The peer's old association is gone with its process (or it re-keyed with us): ours goes
    // without a word, the new one carries on.
    current_ = std::move(attempt_);
    ++handshakes_;
    ++reconnects_;
    last_handshake_start_ = now_;
    queue_.push_back(KeysEvent{std::move(current_->keys)});
    current_->keys = SrtpKeys{};
    queue_.push_back(ReconnectedEvent{});
    return true;
  }

  Status export_keys(Association& association, SrtpProfile profile) {
    const size_t key_length = master_key_length(profile);
    const size_t salt_length = master_salt_length(profile);
    SecureBytes material(2 * (key_length + salt_length));
    if (SSL_export_keying_material(association.ssl.get(), material.data(), material.size(),
                                   kExporterLabel, sizeof kExporterLabel - 1, nullptr, 0, 0) != 1) {
      return Error{"keying material export failed: " + take_openssl_errors()};
    }
    // RFC 5764 §4.2: client key, server key, client salt, server salt.
    const auto bytes = material.view();
    SecureBytes client_key(bytes.subspan(0, key_length));
    SecureBytes server_key(bytes.subspan(key_length, key_length));
    SecureBytes client_salt(bytes.subspan(2 * key_length, salt_length));
    SecureBytes server_salt(bytes.subspan(2 * key_length + salt_length, salt_length));
    const bool client = role_ == DtlsRole::Client;
    SrtpKeys& keys = association.keys;
    keys.profile = profile;
    keys.local_key = client ? client_key : server_key;
    keys.local_salt = client ? client_salt : server_salt;
    keys.remote_key = client ? server_key : client_key;
    keys.remote_salt = client ? server_salt : client_salt;
    return {};
  }

  void connect() {
    awaiting_fingerprint_ = false;
    verified_ = true;
    ++handshakes_;
    last_handshake_start_ = now_;
    queue_.push_back(KeysEvent{std::move(current_->keys)});
    current_->keys = SrtpKeys{};
    set_state(DtlsState::Connected);
  }

  void on_ssl_error(int ssl_error) {
    std::string openssl_text = take_openssl_errors();
    const Association& current = *current_;
    if (current.fingerprint_mismatch) {
      presented_fingerprint_ = current.presented_fingerprint;
      fail(FailureReason::FingerprintMismatch,
           "the peer's certificate matches none of the remote fingerprints");
    } else if (current.received_fatal_alert) {
      fail(FailureReason::FatalAlertReceived,
           std::string("the peer sent a fatal alert: ") +
               SSL_alert_desc_string_long(*current.received_fatal_alert));
    } else if (current.received_close_notify) {
      set_state(DtlsState::Closed);
    } else if (current.sent_fatal_alert) {
      fail(FailureReason::ProtocolError,
           std::string("we sent a fatal alert: ") +
               SSL_alert_desc_string_long(*current.sent_fatal_alert) +
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
    attempt_.reset();
    if (current_) {
      current_->keys = SrtpKeys{};
      current_->retransmit_deadline.reset();
    }
    state_ = DtlsState::Failed;
    queue_.push_back(StateEvent{DtlsState::Failed, reason, std::move(detail)});
  }

  void set_state(DtlsState state) {
    if (state_ == state) return;
    if (state != DtlsState::Connected) {
      attempt_.reset();
      if (current_) current_->keys = SrtpKeys{};
    }
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
      } else if (std::holds_alternative<ReconnectedEvent>(event)) {
        if (callbacks_.reconnected) callbacks_.reconnected();
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
  // handshake fragment to the room left. Both associations write into the same datagram queue.

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

  static int read_datagram(Association& association, char* out, int capacity) {
    if (association.incoming.empty()) return -1;
    const size_t length = std::min(association.incoming.size(), static_cast<size_t>(capacity));
    std::memcpy(out, association.incoming.data(), length);
    association.incoming = {};
    return static_cast<int>(length);
  }

  unsigned int next_retransmit_interval(Association& association, unsigned int previous_us) {
    const auto first =
        std::chrono::duration_cast<std::chrono::microseconds>(config_.initial_retransmit_timeout);
    const auto cap =
        std::chrono::duration_cast<std::chrono::microseconds>(config_.max_retransmit_timeout);
    std::chrono::microseconds next =
        previous_us == 0 ? first : std::min(std::chrono::microseconds(previous_us) * 2, cap);
    association.retransmit_interval = next;
    return static_cast<unsigned int>(next.count());
  }

  static Association* from_ssl(const SSL* ssl) {
    return static_cast<Association*>(SSL_get_ex_data(ssl, transport_ex_index()));
  }

  static unsigned int timer_cb(SSL* ssl, unsigned int previous_us) {
    Association* association = from_ssl(ssl);
    return association->owner.next_retransmit_interval(*association, previous_us);
  }

  // Runs inside the handshake, so a mismatch aborts it with a bad_certificate alert (RFC 8122 §5)
  // and no key is ever exported. Without fingerprints yet, the decision is deferred.
  static int verify_cb(int /*preverify_ok*/, X509_STORE_CTX* store) {
    auto* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    Association* association = from_ssl(ssl);
    const Impl& self = association->owner;
    // Self-signed certificates are the norm: trust comes from the fingerprint alone.
    if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
    if (self.remote_fingerprints_.empty()) return 1;
    if (matches_any(self.remote_fingerprints_, X509_STORE_CTX_get_current_cert(store))) return 1;
    association->fingerprint_mismatch = true;
    association->presented_fingerprint = sha256_of(X509_STORE_CTX_get_current_cert(store));
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }

  static void info_cb(const SSL* ssl, int where, int value) {
    // SSL_CB_READ_ALERT and SSL_CB_WRITE_ALERT share the SSL_CB_ALERT bit: test the direction.
    if (!(where & SSL_CB_ALERT)) return;
    Association* association = from_ssl(ssl);
    const int level = value >> 8;
    const int description = value & 0xff;
    if (where & SSL_CB_READ) {
      if (description == SSL_AD_CLOSE_NOTIFY) {
        association->received_close_notify = true;
      } else if (level == SSL3_AL_FATAL) {
        association->received_fatal_alert = value;
      }
    } else if (where & SSL_CB_WRITE && level == SSL3_AL_FATAL) {
      association->sent_fatal_alert = value;
    }
  }

  static BIO_METHOD* bio_method() {
    static const BioMethodPtr method = [] {
      BioMethodPtr m(BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "dtlstransport"));
      BIO_meth_set_write(m.get(), [](BIO* bio, const char* data, int length) {
        auto* association = static_cast<Association*>(BIO_get_data(bio));
        association->owner.write_record(
            {reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(length)});
        return length;
      });
      BIO_meth_set_read(m.get(), [](BIO* bio, char* out, int capacity) {
        auto* association = static_cast<Association*>(BIO_get_data(bio));
        BIO_clear_retry_flags(bio);
        const int read = read_datagram(*association, out, capacity);
        if (read < 0) BIO_set_retry_read(bio);
        return read;
      });
      BIO_meth_set_ctrl(m.get(), [](BIO* bio, int command, long /*arg*/, void* pointer) -> long {
        auto* association = static_cast<Association*>(BIO_get_data(bio));
        switch (command) {
          case BIO_CTRL_FLUSH:
            // Ignored: OpenSSL flushes after every retransmitted message, which would send a
            // five-message flight as five datagrams (five chances to lose it). write_record()
            // starts a new datagram when the MTU requires and every public call flushes at its end.
            return 1;
          case BIO_CTRL_WPENDING:
            return static_cast<long>(association->owner.pending_datagram_.size());
          case BIO_CTRL_PENDING:
            return static_cast<long>(association->incoming.size());
          case BIO_CTRL_DGRAM_QUERY_MTU:
          case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
            return static_cast<long>(association->owner.config_.mtu);
          case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT: {
            // Read here and not kept: a zero time means "stopped".
            const auto* next = static_cast<const timeval*>(pointer);
            association->on_openssl_timer(next && (next->tv_sec != 0 || next->tv_usec != 0));
            return 1;
          }
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
  std::unique_ptr<Association> current_;  // the handshake in progress, then the association
  std::unique_ptr<Association> attempt_;  // a new handshake beside a connected association

  DtlsState state_ = DtlsState::New;
  FailureReason failure_reason_ = FailureReason::None;
  std::string failure_detail_;
  std::string presented_fingerprint_;  // set when the peer failed verification
  DtlsRole role_ = DtlsRole::Auto;
  std::vector<Fingerprint> remote_fingerprints_;
  bool awaiting_fingerprint_ = false;
  bool verified_ = false;
  uint64_t handshakes_ = 0;
  uint64_t reconnects_ = 0;
  uint64_t reconnect_attempts_ = 0;
  std::optional<TimePoint> last_handshake_start_;  // last new handshake started or completed

  TimePoint now_{};
  TimePoint handshake_deadline_{};
  std::optional<TimePoint> hello_request_due_;

  std::deque<std::vector<uint8_t>> early_datagrams_;
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
void DtlsTransport::set_context(std::shared_ptr<const DtlsContext> context) {
  impl_->set_context(std::move(context));
}

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
const std::string& DtlsTransport::presented_fingerprint() const {
  return impl_->presented_fingerprint();
}
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
uint64_t DtlsTransport::handshakes() const { return impl_->handshakes(); }
uint64_t DtlsTransport::reconnects() const { return impl_->reconnects(); }
uint64_t DtlsTransport::reconnect_attempts() const { return impl_->reconnect_attempts(); }

}  // namespace dtlstransport
