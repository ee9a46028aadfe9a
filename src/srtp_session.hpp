// SRTP/SRTCP protection with libsrtp2 for one DTLS-SRTP association.
#pragma once

#include <srtp2/srtp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

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
