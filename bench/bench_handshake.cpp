// Figure 4: handshakes per second. Complete DTLS 1.2 handshakes (ECDSA P-256 identities, the
// default profiles and cipher suites) between two dtlstransport::DtlsTransport objects wired
// directly in memory, back to back on one thread, against the crypto limit of the same machine
// measured in the same run with `openssl speed -seconds 1 ecdsap256 ecdhp256`.
//
// Rates are handshakes per CPU-second of the one thread (like `openssl speed`, which reports user
// CPU time). Each iteration is what a server pays per new peer: create both transports, start them
// with each other's fingerprint, and pump datagrams until both are Connected with SRTP keys. Two
// modes, interleaved in blocks: a fresh SSL_CTX per transport (DtlsConfig::certificates), and one
// DtlsContext per side shared by every handshake (DtlsConfig::context: what a server does). The
// two identities are generated once, before timing, and reused (as a server reuses its
// certificate).
//
// Crypto limit per handshake pair (both ends on the one core):
//   t_pair = 2 * t_sign + 2 * t_verify + 2 * t_ecdh,   limit = 1 / t_pair
// The server signs its ServerKeyExchange and the client verifies it; the client signs its
// CertificateVerify (WebRTC always authenticates both ends, RFC 8827 §6.5) and the server
// verifies it; each side does one ECDH derivation. Not counted: the two ephemeral key
// generations and any certificate self-signature checks, so the limit is optimistic and the
// ratio we report errs against us.
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "alloc_counter.h"
#include "bench_common.hpp"
#include "certificate.hpp"
#include "dtls_context.hpp"
#include "dtls_transport.hpp"
#include "openssl_handles.hpp"

namespace {

using namespace dtlstransport;

struct Side {
  std::unique_ptr<DtlsTransport> transport;
  std::deque<std::vector<uint8_t>> inbox;  // datagrams sent to this side, not yet delivered
  DtlsState state = DtlsState::New;
  bool keys = false;
  std::string detail;
};

// The two identities and, for the shared-context mode, one DtlsContext per side built once (what a
// server does: one SSL_CTX per identity for all its peers, src/dtls_context.hpp).
struct Identities {
  const Certificate& server;
  const Certificate& client;
  Fingerprint server_fingerprint;
  Fingerprint client_fingerprint;
  std::shared_ptr<const DtlsContext> server_context;  // null: a fresh SSL_CTX per transport
  std::shared_ptr<const DtlsContext> client_context;
};

// One complete handshake; false (with a message) if it did not connect.
bool handshake(const Identities& ids, std::string& error, double& create_seconds) {
  Side server, client;
  auto make = [](Side& self, Side& peer, const Certificate& identity,
                 const std::shared_ptr<const DtlsContext>& context) {
    DtlsConfig config;
    if (context) {
      config.context = context;
    } else {
      config.certificates = {identity};
    }
    DtlsCallbacks callbacks;
    callbacks.send_datagram = [&peer](std::span<const uint8_t> bytes) {
      peer.inbox.emplace_back(bytes.begin(), bytes.end());
    };
    callbacks.state_changed = [&self](DtlsState state, FailureReason, const std::string& detail) {
      self.state = state;
      self.detail = detail;
    };
    callbacks.srtp_keys = [&self](const SrtpKeys&) { self.keys = true; };
    return DtlsTransport::create(std::move(config), std::move(callbacks));
  };
  const double create_start = bench::thread_cpu_seconds();
  auto server_transport = make(server, client, ids.server, ids.server_context);
  auto client_transport = make(client, server, ids.client, ids.client_context);
  create_seconds += bench::thread_cpu_seconds() - create_start;
  if (!server_transport || !client_transport) {
    error = !server_transport ? server_transport.error().message : client_transport.error().message;
    return false;
  }
  server.transport = std::move(*server_transport);
  client.transport = std::move(*client_transport);

  const TimePoint now = Clock::now();
  // Roles as after an offer/answer: the answerer is the client (RFC 5763 §5).
  if (!server.transport
           ->start(DtlsRole::Server, {DtlsRole::Client, {ids.client_fingerprint}}, true, now)
           .ok() ||
      !client.transport
           ->start(DtlsRole::Client, {DtlsRole::Server, {ids.server_fingerprint}}, false, now)
           .ok()) {
    error = "start failed";
    return false;
  }
  // Deliver until both are connected. Nothing is lost in memory, so no timer should be needed; a
  // bound on rounds catches a stall instead of spinning.
  for (int rounds = 0; rounds < 64; ++rounds) {
    if (server.state == DtlsState::Connected && client.state == DtlsState::Connected) {
      if (!server.keys || !client.keys) {
        error = "connected without SRTP keys";
        return false;
      }
      return true;
    }
    if (server.state == DtlsState::Failed || client.state == DtlsState::Failed) {
      error = "failed: " + server.detail + " / " + client.detail;
      return false;
    }
    for (Side* side : {&server, &client}) {
      while (!side->inbox.empty()) {
        std::vector<uint8_t> datagram = std::move(side->inbox.front());
        side->inbox.pop_front();
        side->transport->handle_datagram(datagram, Clock::now());
      }
    }
  }
  error = "no progress after 64 delivery rounds (states " +
          std::string(dtls_state_name(server.state)) + "/" + dtls_state_name(client.state) + ")";
  return false;
}

// The second anchor: the same handshake written directly against OpenSSL (memory BIOs, the same
// cipher list, groups, use_srtp profiles and MTU as src/dtls_transport.cpp, peer certificate
// accepted without a fingerprint check). It tells apart what OpenSSL 3.0 itself costs from what
// our transport adds. `shared_contexts` reuses one SSL_CTX per role across handshakes (what a
// server could do); otherwise each handshake builds its two SSL_CTX, as DtlsTransport does.
struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using RawCtx = std::unique_ptr<SSL_CTX, SslCtxDeleter>;
using RawSsl = std::unique_ptr<SSL, SslDeleter>;

RawCtx make_raw_ctx(const Certificate& identity) {
  RawCtx ctx(SSL_CTX_new(DTLS_method()));
  if (!ctx) return ctx;
  SSL_CTX* c = ctx.get();
  const bool ok =
      SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION) == 1 &&
      SSL_CTX_set_max_proto_version(c, DTLS1_2_VERSION) == 1 &&
      SSL_CTX_use_certificate(c, identity.x509()) == 1 &&
      SSL_CTX_use_PrivateKey(c, identity.private_key()) == 1 &&
      SSL_CTX_set_cipher_list(c,
                              "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                              "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                              "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                              "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:"
                              "ECDHE-RSA-AES256-SHA") == 1 &&
      SSL_CTX_set1_groups_list(c, "X25519:P-256:P-384") == 1 &&
      // Inverted return value: 0 means success.
      SSL_CTX_set_tlsext_use_srtp(
          c,
          "SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM:SRTP_AES128_CM_SHA1_80:"
          "SRTP_AES128_CM_SHA1_32") == 0;
  if (!ok) return nullptr;
  SSL_CTX_set_options(c, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                     [](int, X509_STORE_CTX*) { return 1; });
  return ctx;
}

RawSsl make_raw_ssl(SSL_CTX* ctx, bool server) {
  RawSsl ssl(SSL_new(ctx));
  if (!ssl) return ssl;
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  if (in == nullptr || out == nullptr) {
    BIO_free(in);
    BIO_free(out);
    return nullptr;
  }
  // An empty memory BIO must mean "retry later", not end of file.
  BIO_set_mem_eof_return(in, -1);
  BIO_set_mem_eof_return(out, -1);
  SSL_set_bio(ssl.get(), in, out);  // ssl owns both from here
  SSL_set_mtu(ssl.get(), 1200);
  if (server) {
    SSL_set_accept_state(ssl.get());
  } else {
    SSL_set_connect_state(ssl.get());
  }
  return ssl;
}

// Moves everything `from` wrote to the read side of `to`.
void transfer(SSL* from, SSL* to) {
  BIO* out = SSL_get_wbio(from);
  BIO* in = SSL_get_rbio(to);
  char* data = nullptr;
  const long length = BIO_get_mem_data(out, &data);
  if (length > 0) BIO_write(in, data, static_cast<int>(length));
  (void)BIO_reset(out);
}

bool raw_handshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx, std::string& error) {
  RawSsl server = make_raw_ssl(server_ctx, true);
  RawSsl client = make_raw_ssl(client_ctx, false);
  if (!server || !client) {
    error = "SSL_new failed";
    return false;
  }
  bool server_done = false, client_done = false;
  for (int rounds = 0; rounds < 64 && !(server_done && client_done); ++rounds) {
    for (auto [self, done] :
         {std::pair{client.get(), &client_done}, std::pair{server.get(), &server_done}}) {
      if (*done) continue;
      const int result = SSL_do_handshake(self);
      if (result == 1) {
        *done = true;
      } else if (const int code = SSL_get_error(self, result); code != SSL_ERROR_WANT_READ) {
        error = "SSL_do_handshake error " + std::to_string(code);
        return false;
      }
    }
    transfer(client.get(), server.get());
    transfer(server.get(), client.get());
  }
  if (!server_done || !client_done) {
    error = "raw handshake made no progress";
    return false;
  }
  if (SSL_get_selected_srtp_profile(server.get()) == nullptr) {
    error = "raw handshake negotiated no SRTP profile";
    return false;
  }
  return true;
}

// Handshakes per second of the raw loop over `count` handshakes.
double raw_rate(const Certificate& server_identity, const Certificate& client_identity, int count,
                bool shared_contexts, std::string& error) {
  RawCtx shared_server, shared_client;
  if (shared_contexts) {
    shared_server = make_raw_ctx(server_identity);
    shared_client = make_raw_ctx(client_identity);
  }
  const double start = bench::thread_cpu_seconds();
  for (int i = 0; i < count; ++i) {
    RawCtx own_server, own_client;
    if (!shared_contexts) {
      own_server = make_raw_ctx(server_identity);
      own_client = make_raw_ctx(client_identity);
    }
    SSL_CTX* server_ctx = shared_contexts ? shared_server.get() : own_server.get();
    SSL_CTX* client_ctx = shared_contexts ? shared_client.get() : own_client.get();
    if (server_ctx == nullptr || client_ctx == nullptr) {
      error = "SSL_CTX set-up failed";
      return 0;
    }
    if (!raw_handshake(server_ctx, client_ctx, error)) return 0;
  }
  return count / (bench::thread_cpu_seconds() - start);
}

struct SpeedLimits {
  double sign_per_second = 0, verify_per_second = 0, ecdh_per_second = 0;
};

// Parses `openssl speed` output lines such as
//   " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  51134.8  16804.1"
//   " 256 bits ecdh (nistp256)   0.0000s  22050.0"
bool run_openssl_speed(SpeedLimits& limits) {
  FILE* pipe = popen("openssl speed -seconds 1 ecdsap256 ecdhp256 2>/dev/null", "r");
  if (pipe == nullptr) return false;
  char line[512];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    const std::string text(line);
    std::istringstream in(text);
    std::string bits, word, kind, curve, t1, t2;
    in >> bits >> word >> kind >> curve;
    if (word != "bits" || curve != "(nistp256)") continue;
    if (kind == "ecdsa") {
      in >> t1 >> t2 >> limits.sign_per_second >> limits.verify_per_second;
    } else if (kind == "ecdh") {
      in >> t1 >> limits.ecdh_per_second;
    }
  }
  const int status = pclose(pipe);
  return status == 0 && limits.sign_per_second > 0 && limits.verify_per_second > 0 &&
         limits.ecdh_per_second > 0;
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = bench::has_flag(argc, argv, "--quick");
  const int handshakes = quick ? 150 : 1500;

  CertificateOptions options;
  options.key_type = KeyType::EcdsaP256;
  auto server_identity = Certificate::generate(options);
  auto client_identity = Certificate::generate(options);
  if (!server_identity || !client_identity) {
    std::fprintf(stderr, "bench_handshake: certificate generation failed\n");
    return 1;
  }
  auto server_context = DtlsContext::create(*server_identity, default_srtp_profiles());
  auto client_context = DtlsContext::create(*client_identity, default_srtp_profiles());
  if (!server_context || !client_context) {
    std::fprintf(stderr, "bench_handshake: DtlsContext::create failed: %s\n",
                 !server_context ? server_context.error().message.c_str()
                                 : client_context.error().message.c_str());
    return 1;
  }
  const Identities fresh{*server_identity,
                         *client_identity,
                         server_identity->fingerprint(),
                         client_identity->fingerprint(),
                         nullptr,
                         nullptr};
  Identities shared = fresh;
  shared.server_context = *server_context;
  shared.client_context = *client_context;

  std::string error;
  double create_seconds = 0;
  for (const Identities* ids : {&fresh, static_cast<const Identities*>(&shared)}) {
    for (int i = 0; i < 5; ++i) {  // warm-up
      if (!handshake(*ids, error, create_seconds)) {
        std::fprintf(stderr, "bench_handshake: handshake failed: %s\n", error.c_str());
        return 1;
      }
    }
  }

  SpeedLimits limits;
  if (!run_openssl_speed(limits)) {
    std::fprintf(stderr, "bench_handshake: could not run or parse `openssl speed`\n");
    return 1;
  }
  const double pair_seconds =
      2.0 / limits.sign_per_second + 2.0 / limits.verify_per_second + 2.0 / limits.ecdh_per_second;
  const double limit = 1.0 / pair_seconds;
  std::printf(
      "# openssl speed: ECDSA P-256 sign %.1f us, verify %.1f us, ECDH %.1f us -> crypto "
      "%.0f us per handshake pair, limit %.0f handshakes/s\n",
      1e6 / limits.sign_per_second, 1e6 / limits.verify_per_second, 1e6 / limits.ecdh_per_second,
      pair_seconds * 1e6, limit);

  // Ours, fresh then shared context, interleaved in blocks so that a noisy neighbour hits both.
  const int blocks = 5;
  const int per_block = handshakes / blocks;
  double seconds[2] = {0, 0}, creating[2] = {0, 0};
  unsigned long long allocations[2] = {0, 0};
  for (int block = 0; block < blocks; ++block) {
    for (int mode = 0; mode < 2; ++mode) {
      const Identities& ids = mode == 0 ? fresh : shared;
      const unsigned long long allocations_before = bench_allocation_count();
      const double start = bench::thread_cpu_seconds();
      for (int i = 0; i < per_block; ++i) {
        if (!handshake(ids, error, creating[mode])) {
          std::fprintf(stderr, "bench_handshake: handshake %d failed: %s\n", i, error.c_str());
          return 1;
        }
      }
      seconds[mode] += bench::thread_cpu_seconds() - start;
      allocations[mode] += bench_allocation_count() - allocations_before;
    }
  }
  const int count = blocks * per_block;
  double rate[2];
  for (int mode = 0; mode < 2; ++mode) {
    rate[mode] = count / seconds[mode];
    std::printf(
        "# ours, %s: %d handshakes in %.3f s: %.0f us each (of which creating the two transports "
        "%.0f us), %.0f heap allocations each\n",
        mode == 0 ? "fresh SSL_CTX per transport" : "one shared DtlsContext per side", count,
        seconds[mode], seconds[mode] * 1e6 / count, creating[mode] * 1e6 / count,
        static_cast<double>(allocations[mode]) / count);
  }
  const char* figure = "4 Handshakes (in memory, 1 core)";
  bench::print_row(figure, "ours, fresh context per handshake vs speed limit", rate[0], limit,
                   "handshakes/s", bench::Better::Higher, 0);
  bench::print_row(figure, "ours, shared DtlsContext per side vs speed limit", rate[1], limit,
                   "handshakes/s", bench::Better::Higher, 0);

  const int raw_count = handshakes / 2;
  const double raw_own = raw_rate(*server_identity, *client_identity, raw_count, false, error);
  const double raw_shared = raw_rate(*server_identity, *client_identity, raw_count, true, error);
  if (raw_own <= 0 || raw_shared <= 0) {
    std::fprintf(stderr, "bench_handshake: raw OpenSSL handshake failed: %s\n", error.c_str());
    return 1;
  }
  bench::print_row(figure, "ours fresh vs raw OpenSSL, SSL_CTX per handshake", rate[0], raw_own,
                   "handshakes/s", bench::Better::Higher, 0);
  bench::print_row(figure, "ours shared vs raw OpenSSL, shared SSL_CTX", rate[1], raw_shared,
                   "handshakes/s", bench::Better::Higher, 0);
  bench::print_row(figure, "raw OpenSSL, shared SSL_CTX vs speed limit", raw_shared, limit,
                   "handshakes/s", bench::Better::Higher, 0);
  return 0;
}
