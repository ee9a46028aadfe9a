// SRTP/SRTCP protection with libsrtp2 for one DTLS-SRTP association.
#pragma once

#include <srtp2/srtp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "result.hpp"
#include "srtp_profile.hpp"

namespace dtlstransport {

enum class SrtpResult {
  Ok,
  AuthFailure,  // authentication tag did not verify (tampered, or wrong keys)
  Replay,       // already seen, or older than the 1024-packet replay window
  Malformed,    // not a well-formed RTP/RTCP packet, too short, or no room for the trailer
  NoKeys,       // no keys set yet
  Error,        // any other libsrtp2 failure
};

const char* srtp_result_name(SrtpResult result);

// The crypto backend a libsrtp2 was built with (its configure: --enable-openssl, --enable-nss, or
// neither: libsrtp's own AES and SHA-1). Debian's libsrtp2 is NSS-backed; meson's -Dsrtp=openssl
// links an OpenSSL-backed one (scripts/libsrtp2-openssl.sh).
enum class SrtpCryptoBackend { OpenSsl, Nss, BuiltIn, Unknown };

const char* srtp_crypto_backend_name(SrtpCryptoBackend backend);  // "openssl", "nss", ...

// The libsrtp2 this process runs, as it reports itself at run time: whatever the headers said at
// build time, this is the code that protects the packets.
struct SrtpLibraryInfo {
  std::string version;  // srtp_get_version_string(): "libsrtp2 2.5.0"
  // The modules its crypto kernel registered (srtp_list_debug_modules), e.g. "aes icm ossl" and
  // "hmac sha-1 openssl" (OpenSSL), "aes icm nss" and "hmac sha-1 nss" (NSS), "aes icm" and
  // "hmac sha-1" (built-in).
  std::vector<std::string> modules;
  SrtpCryptoBackend backend = SrtpCryptoBackend::Unknown;  // from the AES-CM and HMAC modules
};

// Initialises libsrtp2 if needed; asks the library once and returns the same answer afterwards.
// Briefly installs a libsrtp2 log handler of its own (the core installs none otherwise).
const SrtpLibraryInfo& srtp_library_info();

// Two libsrtp2 contexts: outbound (local keys, any SSRC) and inbound (remote keys, any SSRC).
// Threading: protect_* calls must be serialized among themselves, unprotect_* likewise; the two
// directions use separate contexts and may run concurrently.
class SrtpSession {
 public:
  // Trailer room the caller leaves after an RTP packet (tag + MKI); RTCP needs 4 more (E + index).
  static constexpr size_t kRtpTrailerRoom = SRTP_MAX_TRAILER_LEN;
  static constexpr size_t kRtcpTrailerRoom = SRTP_MAX_TRAILER_LEN + 4;

  SrtpSession();
  ~SrtpSession();
  SrtpSession(SrtpSession&&) noexcept;
  SrtpSession& operator=(SrtpSession&&) noexcept;
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // Installs keys (replacing any). Replay window 1024, repeated tx allowed (RTP retransmission
  // without RTX), wildcard SSRC policies.
  Status set_keys(const SrtpKeys& keys);
  bool has_keys() const;

  // In place: `buffer` holds the packet in its first `length` bytes and has room for the trailer;
  // on Ok `length` is the new length. No heap allocation.
  SrtpResult protect_rtp(std::span<uint8_t> buffer, size_t& length);
  SrtpResult protect_rtcp(std::span<uint8_t> buffer, size_t& length);
  SrtpResult unprotect_rtp(std::span<uint8_t> buffer, size_t& length);
  SrtpResult unprotect_rtcp(std::span<uint8_t> buffer, size_t& length);

 private:
  struct Contexts;
  std::unique_ptr<Contexts> contexts_;
};

}  // namespace dtlstransport
