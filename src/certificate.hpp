// A DTLS identity: a self-signed X.509 certificate and its private key (RFC 8827 §6.5).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint.hpp"
#include "openssl_handles.hpp"
#include "result.hpp"

namespace dtlstransport {

enum class KeyType { EcdsaP256, Rsa2048 };

struct CertificateOptions {
  KeyType key_type = KeyType::EcdsaP256;
  std::chrono::seconds lifetime = std::chrono::hours(24 * 30);
  std::string common_name = "gst-dtlstransport";
  // Start of validity; by default one day back (for peers whose clocks run behind ours). The
  // end is always generation time + lifetime.
  std::optional<std::chrono::system_clock::time_point> not_before;
};

// Copyable: copies share the underlying OpenSSL objects (reference counted, immutable after
// creation).
class Certificate {
 public:
  // Self-signed, SHA-256 signature, random 64-bit+ serial, notBefore one day back for clock skew.
  static Result<Certificate> generate(const CertificateOptions& options = {});
  // Certificate and private key from PEM text; both may sit in one string. A missing key, a key
  // that does not belong to the certificate, or unparsable text is an error saying which.
  static Result<Certificate> from_pem(std::string_view certificate_and_key_pem);
  static Result<Certificate> from_pem(std::string_view certificate_pem, std::string_view key_pem);
  // A regular file of at most kMaxPemBytes (a device such as /dev/zero or a FIFO is refused
  // without reading it; a bigger file is refused after reading one byte more than the limit).
  static Result<Certificate> from_file(const std::string& path);

  // PEM text (certificate and key) longer than this is refused unread: a certificate chain with
  // an RSA-4096 key is under 10 KiB.
  static constexpr size_t kMaxPemBytes = 1 << 20;

  Certificate(const Certificate& other);
  Certificate& operator=(const Certificate& other);
  Certificate(Certificate&&) noexcept = default;
  Certificate& operator=(Certificate&&) noexcept = default;
  ~Certificate() = default;

  Fingerprint fingerprint(HashAlgorithm algorithm = HashAlgorithm::Sha256) const;
  std::string certificate_pem() const;  // never the key
  std::string private_key_pem() const;
  std::vector<uint8_t> der() const;

  // The validity period (RFC 5280 §4.1.2.5), to the second.
  std::chrono::system_clock::time_point not_before() const;
  std::chrono::system_clock::time_point not_after() const;
  // Whether the certificate is valid at `now`: an error saying "expired on <UTC date>" or "not
  // valid before <UTC date>" otherwise (RFC 5280 §6.1.3 (a)(2): peers that check dates refuse an
  // identity outside them; peers that authenticate by fingerprint only do not look).
  Status check_validity(std::chrono::system_clock::time_point now) const;

  X509* x509() const { return certificate_.get(); }
  EVP_PKEY* private_key() const { return key_.get(); }

 private:
  Certificate(X509Ptr certificate, EvpPkeyPtr key)
      : certificate_(std::move(certificate)), key_(std::move(key)) {}

  X509Ptr certificate_;
  EvpPkeyPtr key_;
};

// "2026-12-01 06:11:39 UTC".
std::string utc_text(std::chrono::system_clock::time_point time);

// PEM of any X.509 certificate (e.g. the peer's), "" on failure.
std::string certificate_to_pem(X509* certificate);
std::vector<uint8_t> certificate_to_der(X509* certificate);

}  // namespace dtlstransport
