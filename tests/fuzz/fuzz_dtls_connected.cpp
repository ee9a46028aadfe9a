// Fuzzes a connected association with datagrams nobody authenticated (RFC 6347 §4.1.2.7: invalid
// records are silently discarded). Two DtlsTransports are connected in memory for each input; the
// input's datagrams arrive at one of them as if from the peer's address.
//
// Input: byte 0, bit 0 selects the target: 0 the server, 1 the client. The rest is a sequence of
// datagrams, each prefixed by its length (2 bytes, big-endian); a short tail is one last datagram.
//
// Oracle: after any such datagrams both sides are still connected, have exported their keys once,
// and still exchange application data both ways. Anything else aborts: a forged datagram that ends
// or degrades a verified association is a security bug.
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "certificate.hpp"
#include "dtls_transport.hpp"

using namespace dtlstransport;

namespace {

using Bytes = std::vector<uint8_t>;

const Certificate& identity(int which) {
  static const Certificate first = *Certificate::generate();
  static const Certificate second = *Certificate::generate();
  return which == 0 ? first : second;
}

struct Side {
  std::unique_ptr<DtlsTransport> transport;
  size_t keys = 0;
  size_t application_data = 0;
};

struct Pair {
  Side client, server;
  std::deque<std::pair<bool, Bytes>> wire;  // (to the server?, datagram)
  TimePoint now = Clock::now();

  Pair() {
    for (int which : {0, 1}) {
      Side& side = which == 0 ? client : server;
      DtlsCallbacks callbacks;
      const bool to_server = which == 0;
      callbacks.send_datagram = [this, to_server](std::span<const uint8_t> d) {
        wire.emplace_back(to_server, Bytes(d.begin(), d.end()));
      };
      callbacks.srtp_keys = [&side](const SrtpKeys&) { ++side.keys; };
      callbacks.application_data = [&side](std::span<const uint8_t>) { ++side.application_data; };
      DtlsConfig config;
      config.certificates = {identity(which)};
      auto created = DtlsTransport::create(std::move(config), std::move(callbacks));
      if (!created) std::abort();
      side.transport = std::move(created).value();
    }
    const DtlsParameters for_client{DtlsRole::Server, {server.transport->local_fingerprint()}};
    const DtlsParameters for_server{DtlsRole::Client, {client.transport->local_fingerprint()}};
    if (!server.transport->start(DtlsRole::Server, for_server, true, now) ||
        !client.transport->start(DtlsRole::Client, for_client, false, now))
      std::abort();
    pump();
    if (!connected()) std::abort();  // the set-up itself must work
  }

  void pump() {
    for (int steps = 0; !wire.empty() && steps < 1000; ++steps) {
      auto [to_server, datagram] = std::move(wire.front());
      wire.pop_front();
      (to_server ? server : client).transport->handle_datagram(datagram, now);
    }
  }

  bool connected() const {
    return client.transport->state() == DtlsState::Connected &&
           server.transport->state() == DtlsState::Connected && client.keys == 1 &&
           server.keys == 1;
  }

  bool still_talks() {
    const size_t client_had = client.application_data, server_had = server.application_data;
    const Bytes ping = {'p', 'i', 'n', 'g'};
    if (!client.transport->send_application_data(ping) ||
        !server.transport->send_application_data(ping))
      return false;
    pump();
    return client.application_data == client_had + 1 && server.application_data == server_had + 1;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  Pair pair;
  Side& target = (data[0] & 1) ? pair.client : pair.server;
  std::span<const uint8_t> rest(data + 1, size - 1);
  while (!rest.empty()) {
    size_t length = rest.size();
    if (rest.size() >= 2) {
      length = std::min<size_t>((size_t{rest[0]} << 8) | rest[1], rest.size() - 2);
      rest = rest.subspan(2);
    }
    target.transport->handle_datagram(rest.first(length), pair.now);
    rest = rest.subspan(length);
    pair.pump();  // whatever the target answered reaches its peer
  }
  if (!pair.connected() || !pair.still_talks()) std::abort();
  return 0;
}
