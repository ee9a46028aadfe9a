// The DTLS 1.2 record layer's framing (RFC 6347 §4.1) and the screen every received datagram
// passes before OpenSSL sees it. RFC 6347 §4.1.2.7: invalid records are silently discarded; a
// record nobody authenticated must never reach a code path that can end the association (OpenSSL
// 3.0 fails the connection on an AEAD record shorter than its nonce + tag, and reads an epoch-0
// alert after the handshake as the peer's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace dtlstransport {

struct RecordScreen {
  // Epochs change only with ChangeCipherSpec and we allow no renegotiation, so the peer never
  // uses an epoch above 1.
  static constexpr uint16_t kMaxEpoch = 1;
  // Smallest body of a record protected with the negotiated cipher (epoch ≥ 1): explicit nonce or
  // IV plus tag or MAC. 0 while the cipher is not known.
  size_t min_protected_body = 0;
  // Once the handshake is over, epoch 0 carries nothing but the peer's retransmitted handshake
  // flight: an epoch-0 alert, ChangeCipherSpec or application data is plaintext anyone can forge.
  bool handshake_finished = false;
};

// Appends to `out` the records of `datagram` that may be genuine, in order, and returns how many
// were discarded (a truncated header or a length beyond the datagram discards the rest as one).
size_t screen_records(std::span<const uint8_t> datagram, const RecordScreen& screen,
                      std::vector<uint8_t>& out);

}  // namespace dtlstransport
