// Writes seeds for fuzz_dtls_ingest: a real handshake between two cores in memory, recorded per
// direction, so that the fuzzer starts from well-formed flights in both roles (the certificate
// messages included, which is where the fingerprint check runs).
//   handshake-from-client: selector 0 (server role), every datagram the client sent.
//   handshake-from-server: selector 1 (client role), every datagram the server sent.
// Replayed against a fresh transport they do not complete a handshake (its randoms and keys are
// new), and in the fuzzer the remote fingerprint is a stranger's anyway.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <fstream>
#include <string>
#include <vector>

#include "certificate.hpp"
#include "dtls_transport.hpp"

using namespace dtlstransport;

namespace {

using Datagrams = std::vector<std::vector<uint8_t>>;

bool write_seed(const std::string& path, uint8_t selector, const Datagrams& datagrams) {
  std::ofstream out(path, std::ios::binary);
  out.put(static_cast<char>(selector));
  for (const auto& datagram : datagrams) {
    out.put(static_cast<char>(datagram.size() >> 8));
    out.put(static_cast<char>(datagram.size() & 0xff));
    out.write(reinterpret_cast<const char*>(datagram.data()),
              static_cast<std::streamsize>(datagram.size()));
  }
  return static_cast<bool>(out);
}

struct Side {
  std::unique_ptr<DtlsTransport> transport;
  Datagrams sent;
  std::deque<std::vector<uint8_t>> in_flight;  // sent, not yet delivered to the other side
};

bool make_side(Side& side, const Certificate& certificate) {
  DtlsConfig config;
  config.certificates.push_back(certificate);
  DtlsCallbacks callbacks;
  callbacks.send_datagram = [&side](std::span<const uint8_t> datagram) {
    side.sent.emplace_back(datagram.begin(), datagram.end());
    side.in_flight.emplace_back(datagram.begin(), datagram.end());
  };
  auto transport = DtlsTransport::create(std::move(config), std::move(callbacks));
  if (!transport.ok()) return false;
  side.transport = std::move(*transport);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  auto client_certificate = Certificate::generate();
  auto server_certificate = Certificate::generate();
  if (!client_certificate.ok() || !server_certificate.ok()) return 1;
  Side client, server;
  if (!make_side(client, *client_certificate) || !make_side(server, *server_certificate)) return 1;

  const TimePoint now{std::chrono::seconds(1000)};
  if (!server.transport
           ->start(DtlsRole::Server, {DtlsRole::Client, {client_certificate->fingerprint()}}, false,
                   now)
           .ok() ||
      !client.transport
           ->start(DtlsRole::Client, {DtlsRole::Server, {server_certificate->fingerprint()}}, true,
                   now)
           .ok()) {
    return 1;
  }
  // No loss, so a bounded number of exchanges finishes the handshake.
  for (int round = 0; round < 16; ++round) {
    while (!client.in_flight.empty()) {
      auto datagram = std::move(client.in_flight.front());
      client.in_flight.pop_front();
      server.transport->handle_datagram(datagram, now);
    }
    while (!server.in_flight.empty()) {
      auto datagram = std::move(server.in_flight.front());
      server.in_flight.pop_front();
      client.transport->handle_datagram(datagram, now);
    }
  }
  if (client.transport->state() != DtlsState::Connected ||
      server.transport->state() != DtlsState::Connected) {
    std::fprintf(stderr, "the recorded handshake did not complete\n");
    return 1;
  }
  const bool ok = write_seed(dir + "/handshake-from-client", 0, client.sent) &&
                  write_seed(dir + "/handshake-from-server", 1, server.sent);
  std::printf("wrote %zu client and %zu server datagrams to %s\n", client.sent.size(),
              server.sent.size(), dir.c_str());
  return ok ? 0 : 1;
}
