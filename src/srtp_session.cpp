#include "srtp_session.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>
#include <string_view>

#include "packet_classifier.hpp"
#include "secure_bytes.hpp"

namespace dtlstransport {

namespace {

struct SrtpDeleter {
  void operator()(srtp_ctx_t* context) const { srtp_dealloc(context); }
};
using SrtpPtr = std::unique_ptr<srtp_ctx_t, SrtpDeleter>;

// libsrtp2 must be initialised once before any other call and is not safe to initialise twice
// concurrently. A function-local static gives both (C++11 thread-safe static initialisation), and
// its destructor shuts libsrtp down at exit. Every SrtpSession touches it in its constructor, so
// the guard is constructed before (and therefore destroyed after) any static SrtpSession.
class LibsrtpRuntime {
 public:
  LibsrtpRuntime() : status_(srtp_init()) {
    if (status_ == srtp_err_status_ok) keep_crypto_loaded();
  }
  ~LibsrtpRuntime() {
    keep_alive_.reset();
    if (status_ == srtp_err_status_ok) srtp_shutdown();
  }
  LibsrtpRuntime(const LibsrtpRuntime&) = delete;
  LibsrtpRuntime& operator=(const LibsrtpRuntime&) = delete;

  srtp_err_status_t status() const { return status_; }

 private:
  // Debian's libsrtp2 is built on NSS, and its ciphers open an NSS context each and close it when
  // freed. When the last one closes, NSS unloads its soft token, so the next srtp_create pays for a
  // full NSS start (dlopen and relocation): measured ≈ 2 ms per srtp_create instead of ≈ 40 µs. One
  // idle context held for the life of the process keeps NSS loaded. It protects nothing, so its key
  // is a constant. With an OpenSSL-backed libsrtp2 this costs a few kilobytes and nothing else.
  void keep_crypto_loaded() {
    srtp_policy_t policy;
    std::memset(&policy, 0, sizeof policy);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
    uint8_t key[SRTP_AES_GCM_128_KEY_LEN_WSALT] = {};
    policy.key = key;
    policy.ssrc.type = ssrc_any_outbound;
    policy.window_size = 128;
    srtp_t raw = nullptr;
    if (srtp_create(&raw, &policy) == srtp_err_status_ok) keep_alive_.reset(raw);
  }

  srtp_err_status_t status_;
  SrtpPtr keep_alive_;
};

const LibsrtpRuntime& libsrtp_runtime() {
  static const LibsrtpRuntime runtime;
  return runtime;
}

// Authentication tag lengths on the wire. SRTCP keeps the 80-bit tag with the 32-bit RTP profile
// (RFC 5764 §4.1.2); GCM's tag is 16 bytes (RFC 7714 §14.2).
struct TagLengths {
  size_t rtp;
  size_t rtcp;
};

TagLengths tag_lengths(SrtpProfile profile) {
  switch (profile) {
    case SrtpProfile::Aes128CmSha1_80:
      return {10, 10};
    case SrtpProfile::Aes128CmSha1_32:
      return {4, 10};
    case SrtpProfile::AeadAes128Gcm:
    case SrtpProfile::AeadAes256Gcm:
      return {16, 16};
  }
  return {16, 16};
}

bool set_crypto_policies(SrtpProfile profile, srtp_policy_t& policy) {
  switch (profile) {
    case SrtpProfile::AeadAes128Gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
      return true;
    case SrtpProfile::AeadAes256Gcm:
      srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtp);
      srtp_crypto_policy_set_aes_gcm_256_16_auth(&policy.rtcp);
      return true;
    case SrtpProfile::Aes128CmSha1_80:
      srtp_crypto_policy_set_rtp_default(&policy.rtp);
      srtp_crypto_policy_set_rtcp_default(&policy.rtcp);
      return true;
    case SrtpProfile::Aes128CmSha1_32:
      // RFC 5764 §4.1.2: SRTP_AES128_CM_HMAC_SHA1_32 truncates the RTP tag only.
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
      return true;
  }
  return false;
}

// RFC 3711 §3.4 and the wildcard policies of libdatachannel#286: one template stream per
// direction serves every SSRC, so new senders need no renegotiation.
Result<SrtpPtr> create_context(SrtpProfile profile, srtp_ssrc_type_t direction,
                               const SecureBytes& key, const SecureBytes& salt) {
  const size_t key_length = master_key_length(profile);
  const size_t salt_length = master_salt_length(profile);
  const char* which = direction == ssrc_any_outbound ? "local" : "remote";
  if (key.size() != key_length || salt.size() != salt_length) {
    return Error{std::string("SRTP ") + which + " key/salt of " + std::to_string(key.size()) + "/" +
                 std::to_string(salt.size()) + " bytes for " + std::string(openssl_name(profile)) +
                 ", which needs " + std::to_string(key_length) + "/" + std::to_string(salt_length)};
  }

  // libsrtp takes the master key and salt as one concatenated buffer (key || salt). It derives
  // the session keys inside srtp_create and keeps no pointer to this copy, which is wiped here
  // when it goes out of scope.
  SecureBytes key_and_salt(key_length + salt_length);
  std::memcpy(key_and_salt.data(), key.data(), key_length);
  std::memcpy(key_and_salt.data() + key_length, salt.data(), salt_length);

  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof policy);
  if (!set_crypto_policies(profile, policy)) {
    return Error{"SRTP profile " + std::to_string(static_cast<unsigned>(profile)) +
                 " is not supported"};
  }
  policy.ssrc.type = direction;
  policy.ssrc.value = 0;
  policy.key = key_and_salt.data();
  // RFC 3711 §3.3.2 sets 64 as a minimum; libsrtp's default is 128. 1024 (as libwebrtc uses)
  // tolerates the reordering and late retransmissions of high-rate video.
  policy.window_size = 1024;
  // Retransmission without RTX resends the same sequence number with the same payload.
  policy.allow_repeat_tx = 1;
  policy.next = nullptr;

  srtp_t raw = nullptr;
  const srtp_err_status_t status = srtp_create(&raw, &policy);
  SrtpPtr context(raw);
  if (status != srtp_err_status_ok) {
    return Error{std::string("srtp_create for the ") + which + " " +
                 std::string(openssl_name(profile)) + " keys failed with libsrtp error " +
                 std::to_string(static_cast<int>(status))};
  }
  return context;
}

SrtpResult map_status(srtp_err_status_t status) {
  switch (status) {
    case srtp_err_status_ok:
      return SrtpResult::Ok;
    case srtp_err_status_auth_fail:
      return SrtpResult::AuthFailure;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      return SrtpResult::Replay;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
    case srtp_err_status_bad_mki:
      return SrtpResult::Malformed;
    default:
      return SrtpResult::Error;
  }
}

// libsrtp takes lengths as int; anything near INT_MAX is not a packet.
constexpr size_t kMaxPacket = static_cast<size_t>(INT_MAX) / 2;

}  // namespace

struct SrtpSession::Contexts {
  SrtpProfile profile;
  TagLengths tags;
  SrtpPtr outbound;
  SrtpPtr inbound;
};

const char* srtp_result_name(SrtpResult result) {
  switch (result) {
    case SrtpResult::Ok:
      return "ok";
    case SrtpResult::AuthFailure:
      return "auth-failure";
    case SrtpResult::Replay:
      return "replay";
    case SrtpResult::Malformed:
      return "malformed";
    case SrtpResult::NoKeys:
      return "no-keys";
    case SrtpResult::Error:
      return "error";
  }
  return "error";
}

const char* srtp_crypto_backend_name(SrtpCryptoBackend backend) {
  switch (backend) {
    case SrtpCryptoBackend::OpenSsl:
      return "openssl";
    case SrtpCryptoBackend::Nss:
      return "nss";
    case SrtpCryptoBackend::BuiltIn:
      return "built-in";
    case SrtpCryptoBackend::Unknown:
      return "unknown";
  }
  return "unknown";
}

namespace {

// srtp_list_debug_modules reports "debug modules loaded:", then per module "  NAME " and
// "(on)"/"(off)" as separate messages, through the log handler.
void collect_module_names(srtp_log_level_t /*level*/, const char* message, void* data) {
  std::string_view text(message ? message : "");
  if (text.size() <= 3 || !text.starts_with("  ")) return;
  text.remove_prefix(2);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  static_cast<std::vector<std::string>*>(data)->emplace_back(text);
}

SrtpLibraryInfo ask_library() {
  SrtpLibraryInfo info;
  const char* version = srtp_get_version_string();
  info.version = version ? version : "";
  if (libsrtp_runtime().status() != srtp_err_status_ok) return info;
  srtp_install_log_handler(collect_module_names, &info.modules);
  srtp_list_debug_modules();
  srtp_install_log_handler(nullptr, nullptr);
  const auto has = [&info](std::string_view name) {
    return std::find(info.modules.begin(), info.modules.end(), name) != info.modules.end();
  };
  // The AES-CM cipher and the HMAC-SHA1 are the modules each backend replaces (libsrtp2 2.x's
  // crypto/cipher/aes_icm_*.c and crypto/hash/hmac_*.c); both must agree.
  if (has("aes icm ossl") && has("hmac sha-1 openssl")) {
    info.backend = SrtpCryptoBackend::OpenSsl;
  } else if (has("aes icm nss") && has("hmac sha-1 nss")) {
    info.backend = SrtpCryptoBackend::Nss;
  } else if (has("aes icm") && has("hmac sha-1")) {
    info.backend = SrtpCryptoBackend::BuiltIn;
  }
  return info;
}

}  // namespace

const SrtpLibraryInfo& srtp_library_info() {
  static const SrtpLibraryInfo info = ask_library();
  return info;
}

SrtpSession::SrtpSession() { libsrtp_runtime(); }
SrtpSession::~SrtpSession() = default;
SrtpSession::SrtpSession(SrtpSession&&) noexcept = default;
SrtpSession& SrtpSession::operator=(SrtpSession&&) noexcept = default;

Status SrtpSession::set_keys(const SrtpKeys& keys) {
  if (const srtp_err_status_t status = libsrtp_runtime().status(); status != srtp_err_status_ok) {
    return Error{"srtp_init failed with libsrtp error " + std::to_string(static_cast<int>(status))};
  }
  auto outbound = create_context(keys.profile, ssrc_any_outbound, keys.local_key, keys.local_salt);
  if (!outbound) return outbound.error();
  auto inbound = create_context(keys.profile, ssrc_any_inbound, keys.remote_key, keys.remote_salt);
  if (!inbound) return inbound.error();
  // Replace only when both directions are ready, so a failure leaves the old keys in force.
  contexts_ =
      std::make_unique<Contexts>(Contexts{keys.profile, tag_lengths(keys.profile),
                                          std::move(outbound).value(), std::move(inbound).value()});
  return Status::success();
}

bool SrtpSession::has_keys() const { return contexts_ != nullptr; }

SrtpResult SrtpSession::protect_rtp(std::span<uint8_t> buffer, size_t& length) {
  if (!contexts_) return SrtpResult::NoKeys;
  // libsrtp writes the tag (and MKI) after the packet without knowing the buffer's size
  // (libsrtp#24, #125): insist on the room here.
  if (length > kMaxPacket || buffer.size() < length + kRtpTrailerRoom) return SrtpResult::Malformed;
  // What the peer will accept as RTP: also not in the RTCP packet-type range, which RFC 5761 §4
  // forbids RTP to use on a muxed port (and unprotect_rtp refuses).
  const std::span<const uint8_t> packet = buffer.first(length);
  if (!is_valid_rtp(packet) || classify_packet(packet) != PacketKind::Rtp) {
    return SrtpResult::Malformed;
  }
  int len = static_cast<int>(length);
  const SrtpResult result =
      map_status(srtp_protect(contexts_->outbound.get(), buffer.data(), &len));
  if (result == SrtpResult::Ok) length = static_cast<size_t>(len);
  return result;
}

SrtpResult SrtpSession::protect_rtcp(std::span<uint8_t> buffer, size_t& length) {
  if (!contexts_) return SrtpResult::NoKeys;
  if (length > kMaxPacket || buffer.size() < length + kRtcpTrailerRoom) {
    return SrtpResult::Malformed;
  }
  const std::span<const uint8_t> packet = buffer.first(length);
  if (!is_valid_rtcp(packet) || classify_packet(packet) != PacketKind::Rtcp) {
    return SrtpResult::Malformed;
  }
  int len = static_cast<int>(length);
  const SrtpResult result =
      map_status(srtp_protect_rtcp(contexts_->outbound.get(), buffer.data(), &len));
  if (result == SrtpResult::Ok) length = static_cast<size_t>(len);
  return result;
}

SrtpResult SrtpSession::unprotect_rtp(std::span<uint8_t> buffer, size_t& length) {
  if (!contexts_) return SrtpResult::NoKeys;
  if (length > kMaxPacket || length > buffer.size()) return SrtpResult::Malformed;
  // The whole header (CSRCs and extension included) must precede the tag; the classifier checks
  // only clear-text header fields, which is all an SRTP packet has.
  const size_t tag = contexts_->tags.rtp;
  if (length < tag || classify_packet(buffer.first(length - tag)) != PacketKind::Rtp) {
    return SrtpResult::Malformed;
  }
  int len = static_cast<int>(length);
  const SrtpResult result =
      map_status(srtp_unprotect(contexts_->inbound.get(), buffer.data(), &len));
  if (result == SrtpResult::Ok) length = static_cast<size_t>(len);
  return result;
}

SrtpResult SrtpSession::unprotect_rtcp(std::span<uint8_t> buffer, size_t& length) {
  if (!contexts_) return SrtpResult::NoKeys;
  if (length > kMaxPacket || length > buffer.size()) return SrtpResult::Malformed;
  // SRTCP = 8-byte clear header, encrypted rest, E flag + 31-bit index, tag (RFC 3711 §3.4).
  // Checking this before libsrtp matters: SRTCP-GCM read out of bounds on short input
  // (libsrtp#817).
  const size_t trailer = 4 + contexts_->tags.rtcp;
  if (length < 8 + trailer || classify_packet(buffer.first(length - trailer)) != PacketKind::Rtcp) {
    return SrtpResult::Malformed;
  }
  int len = static_cast<int>(length);
  const SrtpResult result =
      map_status(srtp_unprotect_rtcp(contexts_->inbound.get(), buffer.data(), &len));
  if (result == SrtpResult::Ok) length = static_cast<size_t>(len);
  return result;
}

}  // namespace dtlstransport
