// The DTLS 1.2 record layer's framing (RFC 6347 §4.1) and the screen every received datagram
// passes before OpenSSL sees it. RFC 6347 §4.1.2.7: invalid records are silently discarded; a
// record nobody authenticated must never reach a code path that can end the association (OpenSSL
// 3.0 fails the connection on an AEAD record shorter than its nonce + tag, and reads an epoch-0
// alert after the handshake as the peer's).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
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

// The two plaintext messages that open a new handshake on an existing association: the client's
// first ClientHello (RFC 6347 §4.2.8: a restarted client) and the server's HelloRequest (RFC 5246
// §7.4.1.1: a restarted server asks the client to start one). Both are epoch-0 handshake records
// that anyone can forge; recognizing one authenticates nothing.
enum class HelloKind { None, ClientHello, HelloRequest };
struct Hello {
  HelloKind kind = HelloKind::None;
  std::array<uint8_t, 32>
      client_random{};  // ClientHello only: tells a retransmission from a new one
};

// What `record` (one whole record: header and body) opens, if anything. A ClientHello counts only
// as the first fragment of message_seq 0 long enough to hold the random (RFC 6347 §4.2.2).
Hello hello_in_record(std::span<const uint8_t> record);

// Calls `each` with every record of `datagram` whose framing holds, in order, and returns the
// unframeable rest (a truncated header or a length beyond the datagram; empty when none).
std::span<const uint8_t> for_each_record(
    std::span<const uint8_t> datagram,
    const std::function<void(std::span<const uint8_t> record)>& each);

// An epoch-0 HelloRequest record (type 0, empty body, message_seq 0, fragment 0/0), as a server
// sends it in the clear.
std::vector<uint8_t> hello_request_record();

}  // namespace dtlstransport
