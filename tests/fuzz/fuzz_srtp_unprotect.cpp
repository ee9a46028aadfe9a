// Fuzzes SRTP/SRTCP unprotect (GCM included: libsrtp#817 was an SRTCP-GCM overflow on short
// input) and the protect → unprotect round trip.
//
// Input: byte 0 selects the profile (bits 0–1) and the mode (bit 2); the rest is the packet.
//   mode 0: the packet is received: unprotect_rtp and unprotect_rtcp on separate exact-size copies
//           (so ASan sees any read past the end). Nothing forged authenticates: a packet that
//           unprotects must be exactly what a fresh sender holding the key makes of the recovered
//           plaintext (see genuine() below), or the fuzzer aborts.
//   mode 1: the packet is sent: protect_rtp/protect_rtcp it, and whatever protects must unprotect
//           on the peer to the same bytes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fuzz_srtp_keys.hpp"
#include "srtp_session.hpp"

using namespace dtlstransport;

namespace {

// Fresh sessions per input keep runs reproducible (replay windows start empty).
struct Sessions {
  SrtpSession sender;
  SrtpSession receiver;
};

// Whether `packet`, which unprotected to `plaintext`, is what a sender holding the key produces:
// a fresh sender (the receiver is fresh too, so both are at rollover counter 0 for SRTP and at the
// first SRTCP index) protects the plaintext, and the result must be the packet, byte for byte.
//
// This has no false positives. SRTP/SRTCP protection is deterministic given the key, the SSRC
// and the packet index (RFC 3711 §4.1, RFC 7714 §8: counter-mode keystream or GCM nonce from the
// salt, SSRC and index), and authentication covers the header, the index and the ciphertext
// (RFC 3711 §4.2, RFC 7714 §9). So any packet that genuinely authenticates, even a lucky guess
// of a 32-bit tag, is equal to the protection of its own plaintext; only a receiver that accepts
// what did not authenticate (or decrypts into something other than the sender's plaintext) can
// break the equality. The fuzzer cannot produce the key's output for anything it made up itself.
bool genuine(SrtpProfile profile, const uint8_t* packet, size_t size,
             const std::vector<uint8_t>& plaintext, size_t length, bool rtcp) {
  SrtpSession sender;
  if (!sender.set_keys(fuzz::sender_keys(profile)).ok()) std::abort();
  const size_t room = rtcp ? SrtpSession::kRtcpTrailerRoom : SrtpSession::kRtpTrailerRoom;
  std::vector<uint8_t> buffer(plaintext.begin(),
                              plaintext.begin() + static_cast<std::ptrdiff_t>(length));
  buffer.resize(length + room);
  size_t protected_length = length;
  const SrtpResult result = rtcp ? sender.protect_rtcp(buffer, protected_length)
                                 : sender.protect_rtp(buffer, protected_length);
  // A plaintext our sender refuses to protect (its own sanity checks) cannot be compared; a
  // receiver that accepted a forgery still fails the check on the packets it can protect.
  if (result != SrtpResult::Ok) return true;
  return protected_length == size && std::memcmp(buffer.data(), packet, size) == 0;
}

void receive(SrtpProfile profile, SrtpSession& receiver, const uint8_t* data, size_t size) {
  std::vector<uint8_t> rtp(data, data + size);
  size_t length = size;
  const SrtpResult rtp_result = receiver.unprotect_rtp(rtp, length);
  if (rtp_result == SrtpResult::Ok) {
    if (length > size) std::abort();
    if (!genuine(profile, data, size, rtp, length, false)) {
      std::fprintf(stderr, "forged SRTP packet authenticated (%zu bytes)\n", size);
      std::abort();
    }
  }

  std::vector<uint8_t> rtcp(data, data + size);
  length = size;
  const SrtpResult rtcp_result = receiver.unprotect_rtcp(rtcp, length);
  if (rtcp_result == SrtpResult::Ok) {
    if (length > size) std::abort();
    if (!genuine(profile, data, size, rtcp, length, true)) {
      std::fprintf(stderr, "forged SRTCP packet authenticated (%zu bytes)\n", size);
      std::abort();
    }
  }
}

void round_trip(Sessions& sessions, const uint8_t* data, size_t size, bool rtcp) {
  const size_t room = rtcp ? SrtpSession::kRtcpTrailerRoom : SrtpSession::kRtpTrailerRoom;
  std::vector<uint8_t> buffer(data, data + size);
  buffer.resize(size + room);
  size_t length = size;
  const SrtpResult protected_result = rtcp ? sessions.sender.protect_rtcp(buffer, length)
                                           : sessions.sender.protect_rtp(buffer, length);
  if (protected_result != SrtpResult::Ok) return;
  if (length <= size || length > size + room) std::abort();
  // Receive it from an exact-size buffer.
  std::vector<uint8_t> wire(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(length));
  const SrtpResult result = rtcp ? sessions.receiver.unprotect_rtcp(wire, length)
                                 : sessions.receiver.unprotect_rtp(wire, length);
  if (result != SrtpResult::Ok) std::abort();
  if (length != size || std::memcmp(wire.data(), data, size) != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const SrtpProfile profile = fuzz::kProfiles[data[0] & 3];
  const bool send_mode = (data[0] & 4) != 0;
  ++data;
  --size;

  Sessions sessions;
  if (!sessions.sender.set_keys(fuzz::sender_keys(profile)).ok()) std::abort();
  if (!sessions.receiver.set_keys(fuzz::receiver_keys(profile)).ok()) std::abort();
  if (send_mode) {
    round_trip(sessions, data, size, false);
    round_trip(sessions, data, size, true);
  } else {
    receive(profile, sessions.receiver, data, size);
  }
  return 0;
}
