// Fuzzes SRTP/SRTCP unprotect (GCM included: libsrtp#817 was an SRTCP-GCM overflow on short
// input) and the protect → unprotect round trip.
//
// Input: byte 0 selects the profile (bits 0–1) and the mode (bit 2); the rest is the packet.
//   mode 0: the packet is received: unprotect_rtp and unprotect_rtcp on separate exact-size copies
//           (so ASan sees any read past the end).
//   mode 1: the packet is sent: protect_rtp/protect_rtcp it, and whatever protects must unprotect
//           on the peer to the same bytes.
#include <cstdint>
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

void receive(SrtpSession& receiver, const uint8_t* data, size_t size) {
  std::vector<uint8_t> rtp(data, data + size);
  size_t length = size;
  const SrtpResult rtp_result = receiver.unprotect_rtp(rtp, length);
  if (rtp_result == SrtpResult::Ok && length > size) std::abort();

  std::vector<uint8_t> rtcp(data, data + size);
  length = size;
  const SrtpResult rtcp_result = receiver.unprotect_rtcp(rtcp, length);
  if (rtcp_result == SrtpResult::Ok && length > size) std::abort();
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
    receive(sessions.receiver, data, size);
  }
  return 0;
}
