// Fuzzes the DTLS ingest path: a server-role DtlsTransport fed attacker-chosen datagrams.
//
// Input: a sequence of datagrams, each prefixed by its length (2 bytes, big-endian); a short
// tail is one last datagram. After the datagrams, the retransmission timer is run once.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>

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

// The peer's fingerprint: some other certificate, as in a real offer.
const Fingerprint& remote_fingerprint() {
  static const Fingerprint fingerprint = [] {
    auto generated = Certificate::generate();
    if (!generated.ok()) std::abort();
    return generated->fingerprint();
  }();
  return fingerprint;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  DtlsConfig config;
  config.certificates.push_back(identity());
  DtlsCallbacks callbacks;
  callbacks.send_datagram = [mtu = config.mtu](std::span<const uint8_t> datagram) {
    if (datagram.empty() || datagram.size() > mtu) std::abort();  // never empty or above the MTU
  };
  callbacks.state_changed = [](DtlsState, FailureReason, const std::string&) {};
  callbacks.srtp_keys = [](const SrtpKeys&) {};
  callbacks.application_data = [](std::span<const uint8_t>) {};

  auto transport = DtlsTransport::create(config, std::move(callbacks));
  if (!transport.ok()) std::abort();
  DtlsTransport& dtls = **transport;

  // A fixed clock keeps runs reproducible.
  const TimePoint now{std::chrono::seconds(1000)};
  DtlsParameters remote;
  remote.role = DtlsRole::Client;
  remote.fingerprints.push_back(remote_fingerprint());
  if (!dtls.start(DtlsRole::Server, remote, false, now).ok()) std::abort();

  while (size > 0) {
    size_t length = size;
    if (size >= 2) {
      length = std::min<size_t>((size_t{data[0]} << 8) | data[1], size - 2);
      data += 2;
      size -= 2;
    }
    dtls.handle_datagram(std::span<const uint8_t>(data, length), now);
    data += length;
    size -= length;
  }
  dtls.handle_timeout(now + std::chrono::seconds(1));
  (void)dtls.next_timeout();
  (void)dtls.state();
  dtls.stop();
  return 0;
}
