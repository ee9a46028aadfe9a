// Interop with peers we did not write: OpenSSL's own `s_server` and `s_client`, over real UDP on
// 127.0.0.1. OpenSSL prints the DTLS-SRTP keying material it exports (RFC 5764 §4.2), which is an
// independent oracle for the keys the core hands to SRTP; it also checks that the core's
// fingerprint verification (RFC 8122 §5) agrees with OpenSSL's idea of a certificate.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "dtls_transport.hpp"
#include "udp_driver.hpp"

namespace dtlstransport {

// Readable gtest messages for the core's enums (found by ADL, so outside the unnamed namespace;
// this executable is the only one linking them).
void PrintTo(DtlsState state, std::ostream* out) { *out << dtls_state_name(state); }
void PrintTo(FailureReason reason, std::ostream* out) { *out << failure_reason_name(reason); }
void PrintTo(SrtpProfile profile, std::ostream* out) { *out << openssl_name(profile); }

namespace {

using testing::ChildProcess;
using testing::TempDir;
using testing::UdpDtlsEndpoint;
using namespace std::chrono_literals;

// Each wait is bounded; together they keep a test well under 15 s even when everything times out.
constexpr auto kStartLimit = 4s;
constexpr auto kHandshakeLimit = 8s;

std::string openssl_binary() {
  const char* configured = std::getenv("OPENSSL_BIN");
  return configured && *configured ? configured : "openssl";
}

std::string to_hex(std::span<const uint8_t> bytes) {
  static const char digits[] = "0123456789ABCDEF";
  std::string hex;
  for (uint8_t byte : bytes) {
    hex += digits[byte >> 4];
    hex += digits[byte & 0x0f];
  }
  return hex;
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The value after `label` up to the end of its line, once the whole line has been printed.
std::optional<std::string> line_value(const std::string& output, const std::string& label) {
  const size_t at = output.find(label);
  if (at == std::string::npos) return std::nullopt;
  const size_t start = at + label.size();
  const size_t end = output.find('\n', start);
  if (end == std::string::npos) return std::nullopt;
  std::string value = output.substr(start, end - start);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
  return value;
}

// "    Keying material: A4B5…" (apps/lib/s_cb.c prints it in upper-case hex).
std::optional<std::string> keying_material(const std::string& output) {
  return line_value(output, "Keying material: ");
}

std::optional<std::string> negotiated_profile(const std::string& output) {
  return line_value(output, "SRTP Extension negotiated, profile=");
}

// The alert OpenSSL reports having received when a handshake ends in one: its error line ends in
// "…:SSL alert number 42" (apps print it with ERR_print_errors, on stderr, unbuffered).
std::optional<int> received_alert(const std::string& output) {
  const auto number = line_value(output, "SSL alert number ");
  if (!number || number->empty() || !std::all_of(number->begin(), number->end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      })) {
    return std::nullopt;
  }
  return std::stoi(*number);
}

// RFC 5246 §7.2.2: the alert for a certificate that was rejected. The core rejects a certificate
// that matches no remote fingerprint with it, inside the handshake (RFC 8122 §5).
constexpr int kBadCertificateAlert = 42;

// RFC 5764 §4.2: the exporter output is client_write_SRTP_master_key | server_write_SRTP_master_key
// | client_write_SRTP_master_salt | server_write_SRTP_master_salt.
std::string rfc5764_layout(const SrtpKeys& keys, DtlsRole local_role) {
  const bool local_is_client = local_role == DtlsRole::Client;
  const SecureBytes& client_key = local_is_client ? keys.local_key : keys.remote_key;
  const SecureBytes& server_key = local_is_client ? keys.remote_key : keys.local_key;
  const SecureBytes& client_salt = local_is_client ? keys.local_salt : keys.remote_salt;
  const SecureBytes& server_salt = local_is_client ? keys.remote_salt : keys.local_salt;
  return to_hex(client_key.view()) + to_hex(server_key.view()) + to_hex(client_salt.view()) +
         to_hex(server_salt.view());
}

size_t export_length(SrtpProfile profile) {
  return 2 * (master_key_length(profile) + master_salt_length(profile));
}

struct Identity {
  Certificate certificate;
  std::string certificate_path;
  std::string key_path;
};

class OpensslInterop : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.valid()) << "cannot create a temporary directory"; }

  void TearDown() override {
    // Kill and reap first so the output is complete, then show it if anything failed.
    for (auto& child : children_) child->kill_and_reap();
    if (HasFailure()) {
      for (auto& child : children_) {
        std::cerr << "---- $ " << child->command() << "\n" << child->output() << "---- end\n";
      }
    }
  }

  // A certificate of ours, also written as PEM files for OpenSSL.
  std::optional<Identity> make_identity(const std::string& name) {
    auto certificate = Certificate::generate();
    EXPECT_TRUE(certificate.ok()) << (certificate.ok() ? "" : certificate.error().message);
    if (!certificate) return std::nullopt;
    Identity identity{*certificate, dir_.file(name + "-cert.pem"), dir_.file(name + "-key.pem")};
    const bool written = dir_.write(name + "-cert.pem", certificate->certificate_pem()) &&
                         dir_.write(name + "-key.pem", certificate->private_key_pem());
    EXPECT_TRUE(written) << "cannot write " << identity.certificate_path;
    if (!written) return std::nullopt;
    return identity;
  }

  ChildProcess* spawn(const std::vector<std::string>& argv) {
    std::string error;
    auto child = ChildProcess::spawn(argv, error);
    EXPECT_TRUE(child) << error;
    if (!child) return nullptr;
    children_.push_back(std::move(child));
    return children_.back().get();
  }

  // `openssl s_client` connecting to our server on 127.0.0.1:`port` with `identity` (our server
  // requires a client certificate, RFC 5763 §5), printing the keying material it exports.
  ChildProcess* spawn_s_client(uint16_t port, const Identity& identity, SrtpProfile profile) {
    return spawn({openssl_binary(), "s_client", "-dtls1_2", "-connect",
                  "127.0.0.1:" + std::to_string(port), "-cert", identity.certificate_path, "-key",
                  identity.key_path, "-use_srtp", std::string(openssl_name(profile)),
                  "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen",
                  std::to_string(export_length(profile))});
  }

  // Runs a short OpenSSL command to completion; its output, or nullopt if it failed.
  std::optional<std::string> run_openssl(std::vector<std::string> args) {
    args.insert(args.begin(), openssl_binary());
    ChildProcess* child = spawn(args);
    if (!child) return std::nullopt;
    const bool ended = child->wait_for_exit(Clock::now() + 10s);
    EXPECT_TRUE(ended) << child->command() << " did not finish";
    EXPECT_EQ(child->exit_code(), 0) << child->command() << " failed";
    if (!ended || child->exit_code() != 0) return std::nullopt;
    return child->output();
  }

  // `openssl s_server` on a free port, once it has printed ACCEPT (bound and listening). The port
  // is picked by binding 0 and closing, so another process may grab it first: retry then.
  ChildProcess* start_s_server(const std::string& certificate_path, const std::string& key_path,
                               SrtpProfile profile, uint16_t& port) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      port = testing::pick_free_udp_port();
      if (port == 0) continue;
      std::string error;
      auto child = ChildProcess::spawn(
          {openssl_binary(), "s_server", "-dtls1_2", "-accept", "127.0.0.1:" + std::to_string(port),
           "-cert", certificate_path, "-key", key_path, "-use_srtp",
           std::string(openssl_name(profile)), "-keymatexport", "EXTRACTOR-dtls_srtp",
           "-keymatexportlen", std::to_string(export_length(profile)),
           // A client certificate is mandatory: proves the core always sends one (RFC 5763 §5).
           // Self-signed is fine: without -verify_return_error, s_server only reports the error.
           "-Verify", "1"},
          error);
      EXPECT_TRUE(child) << error;
      if (!child) return nullptr;
      const bool listening = child->wait_for_output("ACCEPT\n", Clock::now() + kStartLimit);
      children_.push_back(std::move(child));
      if (listening) return children_.back().get();
      // Only a lost race for the port is worth another try; anything else is a real failure.
      ChildProcess* failed = children_.back().get();
      failed->kill_and_reap();
      if (failed->output().find("in use") == std::string::npos) {
        ADD_FAILURE() << "s_server did not start listening";
        return nullptr;
      }
    }
    ADD_FAILURE() << "no free UDP port for s_server after 5 attempts";
    return nullptr;
  }

  // The core as DTLS client of an s_server on `port`, expecting `fingerprints` for its certificate.
  std::unique_ptr<UdpDtlsEndpoint> run_core_client(uint16_t port,
                                                   std::vector<Fingerprint> fingerprints,
                                                   const Certificate& core_certificate,
                                                   ChildProcess* server) {
    std::string error;
    DtlsConfig config;  // offers all four profiles: the server's single choice must win
    config.certificates = {core_certificate};
    auto core = UdpDtlsEndpoint::create(std::move(config), error);
    EXPECT_TRUE(core) << error;
    if (!core) return nullptr;
    core->socket().set_peer_port(port);
    const Status started = core->transport().start(
        DtlsRole::Client, DtlsParameters{DtlsRole::Server, std::move(fingerprints)}, false,
        Clock::now());
    EXPECT_TRUE(started.ok()) << (started.ok() ? "" : started.error().message);
    // Done when the core settles and, if it connected, OpenSSL has printed its keys too.
    UdpDtlsEndpoint* raw = core.get();
    const bool settled = core->run_until(
        [&] {
          if (!raw->settled()) return false;
          return raw->transport().state() != DtlsState::Connected ||
                 keying_material(server->output()).has_value();
        },
        Clock::now() + kHandshakeLimit, {server});
    EXPECT_TRUE(settled) << "core in state " << dtls_state_name(core->transport().state())
                         << " after " << kHandshakeLimit.count() << " s";
    return core;
  }

  // The core connected and its keys, as RFC 5764 lays them out, equal what OpenSSL exported.
  void expect_connected_with_openssl_keys(UdpDtlsEndpoint& core, const ChildProcess& peer,
                                          SrtpProfile profile) {
    DtlsTransport& transport = core.transport();
    ASSERT_EQ(transport.state(), DtlsState::Connected)
        << failure_reason_name(transport.failure_reason()) << ": " << transport.failure_detail();
    const std::vector<DtlsState> expected_states = {DtlsState::Connecting, DtlsState::Connected};
    EXPECT_EQ(core.log().states, expected_states);
    EXPECT_EQ(transport.dtls_version(), "DTLSv1.2");
    EXPECT_EQ(transport.srtp_profile(), profile);
    EXPECT_EQ(negotiated_profile(peer.output()), std::string(openssl_name(profile)));

    ASSERT_EQ(core.log().keys.size(), 1u);
    const SrtpKeys& keys = core.log().keys[0];
    EXPECT_EQ(keys.profile, profile);
    EXPECT_EQ(keys.local_key.size(), master_key_length(profile));
    EXPECT_EQ(keys.local_salt.size(), master_salt_length(profile));
    const auto theirs = keying_material(peer.output());
    ASSERT_TRUE(theirs.has_value()) << "OpenSSL printed no keying material";
    EXPECT_EQ(theirs->size(), 2 * export_length(profile));
    EXPECT_EQ(*theirs, rfc5764_layout(keys, transport.role()));
  }

  TempDir dir_;
  std::vector<std::unique_ptr<ChildProcess>> children_;
};

class ProfileInterop : public OpensslInterop, public ::testing::WithParamInterface<SrtpProfile> {};

std::string profile_test_name(const ::testing::TestParamInfo<SrtpProfile>& info) {
  std::string name(openssl_name(info.param));
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

TEST_P(ProfileInterop, CoreClientAgainstSServerExportsOpensslsKeys) {
  const SrtpProfile profile = GetParam();
  auto server_identity = make_identity("server");
  auto client_identity = make_identity("client");
  ASSERT_TRUE(server_identity && client_identity);
  uint16_t port = 0;
  ChildProcess* server =
      start_s_server(server_identity->certificate_path, server_identity->key_path, profile, port);
  ASSERT_NE(server, nullptr);

  auto core = run_core_client(port, {server_identity->certificate.fingerprint()},
                              client_identity->certificate, server);
  ASSERT_NE(core, nullptr);
  expect_connected_with_openssl_keys(*core, *server, profile);
  EXPECT_EQ(core->transport().role(), DtlsRole::Client);
  // Each side holds the other's certificate: s_server prints the client certificate it got.
  EXPECT_EQ(Fingerprint::of_der(HashAlgorithm::Sha256, core->transport().remote_certificate_der()),
            server_identity->certificate.fingerprint());
  EXPECT_NE(server->output().find(client_identity->certificate.certificate_pem()),
            std::string::npos)
      << "s_server did not print the core's client certificate";
  core->transport().stop();
}

TEST_P(ProfileInterop, CoreServerAgainstSClientExportsOpensslsKeys) {
  const SrtpProfile profile = GetParam();
  auto server_identity = make_identity("server");
  auto client_identity = make_identity("client");
  ASSERT_TRUE(server_identity && client_identity);

  std::string error;
  DtlsConfig config;
  config.certificates = {server_identity->certificate};
  auto core = UdpDtlsEndpoint::create(std::move(config), error);
  ASSERT_TRUE(core) << error;
  // Our server requires a client certificate (RFC 5763 §5), so s_client must present one: the
  // fingerprint we expect is that certificate's.
  const Status started = core->transport().start(
      DtlsRole::Server,
      DtlsParameters{DtlsRole::Client, {client_identity->certificate.fingerprint()}}, true,
      Clock::now());
  ASSERT_TRUE(started.ok()) << started.error().message;

  // The core's socket is bound before s_client starts, so its ClientHello cannot be lost.
  ChildProcess* client = spawn_s_client(core->socket().port(), *client_identity, profile);
  ASSERT_NE(client, nullptr);

  UdpDtlsEndpoint* raw = core.get();
  const bool settled = core->run_until(
      [&] {
        if (!raw->settled()) return false;
        return raw->transport().state() != DtlsState::Connected ||
               keying_material(client->output()).has_value();
      },
      Clock::now() + kHandshakeLimit, {client});
  EXPECT_TRUE(settled) << "core in state " << dtls_state_name(core->transport().state());

  expect_connected_with_openssl_keys(*core, *client, profile);
  EXPECT_EQ(core->transport().role(), DtlsRole::Server);
  EXPECT_EQ(Fingerprint::of_der(HashAlgorithm::Sha256, core->transport().remote_certificate_der()),
            client_identity->certificate.fingerprint());
  EXPECT_NE(client->output().find(server_identity->certificate.certificate_pem()),
            std::string::npos)
      << "s_client did not print the core's server certificate";
  core->transport().stop();
}

INSTANTIATE_TEST_SUITE_P(AllProfiles, ProfileInterop,
                         ::testing::Values(SrtpProfile::AeadAes128Gcm, SrtpProfile::AeadAes256Gcm,
                                           SrtpProfile::Aes128CmSha1_80,
                                           SrtpProfile::Aes128CmSha1_32),
                         profile_test_name);

// A fingerprint one bit off the server's: the core must refuse the server inside the handshake
// (RFC 8122 §5), before any key exists.
TEST_F(OpensslInterop, WrongFingerprintForSServerFailsWithoutKeys) {
  const SrtpProfile profile = SrtpProfile::AeadAes128Gcm;
  auto server_identity = make_identity("server");
  auto client_identity = make_identity("client");
  ASSERT_TRUE(server_identity && client_identity);
  std::string right = server_identity->certificate.fingerprint().to_string();
  std::string wrong = right;
  wrong.back() = wrong.back() == '0' ? '1' : '0';
  auto wrong_fingerprint = Fingerprint::parse(wrong);
  ASSERT_TRUE(wrong_fingerprint.ok()) << wrong_fingerprint.error().message;
  ASSERT_NE(*wrong_fingerprint, server_identity->certificate.fingerprint());

  uint16_t port = 0;
  ChildProcess* server =
      start_s_server(server_identity->certificate_path, server_identity->key_path, profile, port);
  ASSERT_NE(server, nullptr);
  auto core = run_core_client(port, {*wrong_fingerprint}, client_identity->certificate, server);
  ASSERT_NE(core, nullptr);

  EXPECT_EQ(core->transport().state(), DtlsState::Failed);
  EXPECT_EQ(core->transport().failure_reason(), FailureReason::FingerprintMismatch)
      << core->transport().failure_detail();
  EXPECT_EQ(core->log().failure, FailureReason::FingerprintMismatch);
  EXPECT_TRUE(core->log().keys.empty()) << "keys exported for an unverified peer";
  EXPECT_EQ(std::count(core->log().states.begin(), core->log().states.end(), DtlsState::Connected),
            0);
  EXPECT_TRUE(core->transport().remote_certificate_der().empty());
  // The core aborted at the server's Certificate, before its own Finished, with a bad_certificate
  // alert. Wait (bounded) until s_server reports how its side ended: the alert, or, had the core
  // finished the handshake, the keying material it prints at the end of a completed one.
  const bool reported = server->wait_for_output_where(
      [](const std::string& output) {
        return received_alert(output).has_value() || keying_material(output).has_value();
      },
      Clock::now() + kHandshakeLimit);
  ASSERT_TRUE(reported) << "s_server reported neither an alert nor a completed handshake";
  EXPECT_EQ(received_alert(server->output()), kBadCertificateAlert);
  EXPECT_FALSE(keying_material(server->output()).has_value())
      << "s_server completed the handshake with a client that should have refused it";
  EXPECT_FALSE(negotiated_profile(server->output()).has_value());
}

// The same rule in the server role: s_client presents a certificate that matches none of the
// fingerprints the core was given, so the core must refuse it at the client's Certificate, send
// bad_certificate and never finish the handshake (RFC 8122 §5, RFC 5763 §5).
TEST_F(OpensslInterop, WrongFingerprintForSClientFailsWithoutKeys) {
  const SrtpProfile profile = SrtpProfile::Aes128CmSha1_80;
  auto server_identity = make_identity("server");
  auto client_identity = make_identity("client");
  auto stranger = Certificate::generate();
  ASSERT_TRUE(server_identity && client_identity && stranger.ok());
  ASSERT_NE(stranger->fingerprint(), client_identity->certificate.fingerprint());

  std::string error;
  DtlsConfig config;
  config.certificates = {server_identity->certificate};
  auto core = UdpDtlsEndpoint::create(std::move(config), error);
  ASSERT_TRUE(core) << error;
  const Status started = core->transport().start(
      DtlsRole::Server, DtlsParameters{DtlsRole::Client, {stranger->fingerprint()}}, true,
      Clock::now());
  ASSERT_TRUE(started.ok()) << started.error().message;
  ChildProcess* client = spawn_s_client(core->socket().port(), *client_identity, profile);
  ASSERT_NE(client, nullptr);

  // Until the core has settled and s_client has said how its side ended: the alert, or the
  // summary it prints once its final flight is out (whose last line is the keying material).
  UdpDtlsEndpoint* raw = core.get();
  const bool settled = core->run_until(
      [&] {
        return raw->settled() && (received_alert(client->output()).has_value() ||
                                  keying_material(client->output()).has_value());
      },
      Clock::now() + kHandshakeLimit, {client});
  EXPECT_TRUE(settled) << "core in state " << dtls_state_name(core->transport().state());

  EXPECT_EQ(core->transport().state(), DtlsState::Failed);
  EXPECT_EQ(core->transport().failure_reason(), FailureReason::FingerprintMismatch)
      << core->transport().failure_detail();
  EXPECT_TRUE(core->log().keys.empty()) << "keys exported for an unverified peer";
  EXPECT_EQ(std::count(core->log().states.begin(), core->log().states.end(), DtlsState::Connected),
            0);
  EXPECT_TRUE(core->transport().remote_certificate_der().empty());
  EXPECT_EQ(received_alert(client->output()), kBadCertificateAlert);
  // A client's summary looks the same whether or not the server finished the handshake (DTLS 1.2:
  // the client's final flight is out before the server's Finished), and OpenSSL 3.0 prints a
  // "Keying material" line even for a failed one, so neither proves anything here. What does:
  // s_client exits, with an error, after a failed handshake; after a completed one it stays
  // connected, reading its standard input (which we hold open).
  EXPECT_TRUE(client->wait_for_exit(Clock::now() + kStartLimit))
      << "s_client is still connected: the core completed the handshake";
  EXPECT_NE(client->exit_code(), std::optional<int>(0));
}

// RFC 8122 §5: any listed hash function may be used and the hex is case-insensitive; a lower-case
// sha-1 fingerprint (next to a wrong sha-256 one: any one match suffices) must connect.
TEST_F(OpensslInterop, LowerCaseSha1FingerprintForSServerConnects) {
  const SrtpProfile profile = SrtpProfile::Aes128CmSha1_80;
  auto server_identity = make_identity("server");
  auto client_identity = make_identity("client");
  ASSERT_TRUE(server_identity && client_identity);
  const std::string text =
      lower(server_identity->certificate.fingerprint(HashAlgorithm::Sha1).to_string());
  ASSERT_EQ(text.rfind("sha-1 ", 0), 0u) << text;
  auto sha1 = Fingerprint::parse(text);
  ASSERT_TRUE(sha1.ok()) << sha1.error().message;
  EXPECT_EQ(sha1->algorithm(), HashAlgorithm::Sha1);
  auto other_certificate = Certificate::generate();
  ASSERT_TRUE(other_certificate.ok());

  uint16_t port = 0;
  ChildProcess* server =
      start_s_server(server_identity->certificate_path, server_identity->key_path, profile, port);
  ASSERT_NE(server, nullptr);
  auto core = run_core_client(port, {other_certificate->fingerprint(), *sha1},
                              client_identity->certificate, server);
  ASSERT_NE(core, nullptr);
  expect_connected_with_openssl_keys(*core, *server, profile);
}

// A certificate OpenSSL made, with the fingerprint OpenSSL computed, parsed by us: proves our
// fingerprint is OpenSSL's (same DER, same digest) and that the core accepts such a server.
TEST_F(OpensslInterop, OpensslGeneratedCertificateWithOpensslFingerprintConnects) {
  const SrtpProfile profile = SrtpProfile::AeadAes256Gcm;
  const std::string certificate_path = dir_.file("openssl-cert.pem");
  const std::string key_path = dir_.file("openssl-key.pem");
  ASSERT_TRUE(run_openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt",
                           "ec_paramgen_curve:prime256v1", "-noenc", "-keyout", key_path, "-out",
                           certificate_path, "-subj", "/CN=openssl-interop", "-days", "2"}));
  const auto printed =
      run_openssl({"x509", "-in", certificate_path, "-noout", "-fingerprint", "-sha256"});
  ASSERT_TRUE(printed);
  // OpenSSL 3.0 prints "sha256 Fingerprint=AB:CD:…" (older versions "SHA256 Fingerprint=…").
  const auto hex = line_value(*printed, "Fingerprint=");
  ASSERT_TRUE(hex) << "unexpected output: " << *printed;
  ASSERT_NE(lower(*printed).find("sha256"), std::string::npos) << *printed;
  auto fingerprint = Fingerprint::parse("sha-256 " + *hex);
  ASSERT_TRUE(fingerprint.ok()) << fingerprint.error().message;
  EXPECT_EQ(fingerprint->to_string(), "sha-256 " + upper(*hex));

  // Loaded by us, the same certificate has the same fingerprint.
  std::ifstream certificate_file(certificate_path), key_file(key_path);
  const std::string certificate_pem((std::istreambuf_iterator<char>(certificate_file)), {});
  const std::string key_pem((std::istreambuf_iterator<char>(key_file)), {});
  auto loaded = Certificate::from_pem(certificate_pem, key_pem);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->fingerprint(), *fingerprint);

  auto client_identity = make_identity("client");
  ASSERT_TRUE(client_identity);
  uint16_t port = 0;
  ChildProcess* server = start_s_server(certificate_path, key_path, profile, port);
  ASSERT_NE(server, nullptr);
  auto core = run_core_client(port, {*fingerprint}, client_identity->certificate, server);
  ASSERT_NE(core, nullptr);
  expect_connected_with_openssl_keys(*core, *server, profile);
  EXPECT_EQ(Fingerprint::of_der(HashAlgorithm::Sha256, core->transport().remote_certificate_der()),
            *fingerprint);
}

}  // namespace
}  // namespace dtlstransport
