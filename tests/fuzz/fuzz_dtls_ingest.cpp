// Fuzzes the DTLS ingest path: a DtlsTransport, client or server, fed attacker-chosen datagrams,
// and checks that it fails closed.
//
// Input: byte 0 selects the setup; the rest is a sequence of datagrams, each prefixed by its
// length (2 bytes, big-endian); a short tail is one last datagram. After the datagrams the
// retransmission timer is run once.
//   bit 0: the transport's role: 0 server (the datagrams play a client), 1 client (it sends its
//          ClientHello at start; the datagrams play a server).
//   bit 1: when the remote fingerprint is given: 0 at start (checked inside the handshake),
//          1 after the datagrams (RFC 8842: the answer may come late; the check is deferred).
//
// Fail-closed invariant (RFC 8122 §5, RFC 5763 §5): the only fingerprint the transport is given
// is a stranger's — a sha-256 digest of all zeros, which no certificate the input can present
// hashes to (that would be a SHA-256 preimage). So whatever the datagrams say, the transport must
// never export SRTP keys, never reach `connected`, never deliver application data and never call
// the peer verified. Any of these aborts: it is a security bug, not a crash to tolerate.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "certificate.hpp"
#include "dtls_transport.hpp"

using namespace dtlstransport;

namespace {

// Generating a key per input would dominate the run time; one identity serves every input.
const Certificate& identity() {
  static const Certificate certificate = [] {
    auto generated = Certificate::generate();
    if (!generated.ok()) std::abort();
    return std::move(generated).value();
  }();
  return certificate;
}

// The stranger's fingerprint: sha-256, 32 zero bytes.
const Fingerprint& stranger_fingerprint() {
  static const Fingerprint fingerprint = [] {
    std::string text = "sha-256 00";
    for (int i = 1; i < 32; ++i) text += ":00";
    auto parsed = Fingerprint::parse(text);
    if (!parsed.ok()) std::abort();
    return std::move(parsed).value();
  }();
  return fingerprint;
}

void check_fail_closed(const DtlsTransport& dtls) {
  if (dtls.state() == DtlsState::Connected) std::abort();
  if (dtls.srtp_profile().has_value()) std::abort();
  if (!dtls.remote_certificate_der().empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const DtlsRole role = (data[0] & 1) ? DtlsRole::Client : DtlsRole::Server;
  const bool fingerprint_late = (data[0] & 2) != 0;
  ++data;
  --size;

  DtlsConfig config;
  config.certificates.push_back(identity());
  DtlsCallbacks callbacks;
  callbacks.send_datagram = [mtu = config.mtu](std::span<const uint8_t> datagram) {
    if (datagram.empty() || datagram.size() > mtu) std::abort();  // never empty or above the MTU
  };
  callbacks.state_changed = [](DtlsState state, FailureReason, const std::string&) {
    if (state == DtlsState::Connected) std::abort();  // connected to an unverified peer
  };
  callbacks.srtp_keys = [](const SrtpKeys&) { std::abort(); };  // keys for an unverified peer
  callbacks.application_data = [](std::span<const uint8_t>) { std::abort(); };

  auto transport = DtlsTransport::create(config, std::move(callbacks));
  if (!transport.ok()) std::abort();
  DtlsTransport& dtls = **transport;

  // A fixed clock keeps runs reproducible.
  const TimePoint now{std::chrono::seconds(1000)};
  DtlsParameters remote;
  remote.role = role == DtlsRole::Client ? DtlsRole::Server : DtlsRole::Client;
  if (!fingerprint_late) remote.fingerprints.push_back(stranger_fingerprint());
  if (!dtls.start(role, remote, false, now).ok()) std::abort();

  while (size > 0) {
    size_t length = size;
    if (size >= 2) {
      length = std::min<size_t>((size_t{data[0]} << 8) | data[1], size - 2);
      data += 2;
      size -= 2;
    }
    dtls.handle_datagram(std::span<const uint8_t>(data, length), now);
    check_fail_closed(dtls);
    data += length;
    size -= length;
  }
  if (fingerprint_late) {
    dtls.set_remote_fingerprints({stranger_fingerprint()}, now);
    check_fail_closed(dtls);
  }
  dtls.handle_timeout(now + std::chrono::seconds(1));
  check_fail_closed(dtls);
  (void)dtls.next_timeout();
  dtls.stop();
  return 0;
}
