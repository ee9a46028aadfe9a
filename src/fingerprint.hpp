// Certificate fingerprints in SDP form (RFC 8122 §5): "sha-256 AB:CD:…".
#pragma once

#include <openssl/x509.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "result.hpp"

namespace dtlstransport {

enum class HashAlgorithm { Sha1, Sha224, Sha256, Sha384, Sha512 };

// "sha-1", "sha-224", "sha-256", "sha-384", "sha-512".
std::string_view hash_algorithm_name(HashAlgorithm algorithm);

class Fingerprint {
 public:
  // Parses "<alg> <hex pairs separated by ':'>"; algorithm and hex are case-insensitive. The error
  // names the offending text and why it is wrong.
  static Result<Fingerprint> parse(std::string_view text);
  // One or more fingerprints separated by ','; surrounding white space is ignored.
  static Result<std::vector<Fingerprint>> parse_list(std::string_view text);

  // The fingerprint of a DER-encoded certificate.
  static Fingerprint of_der(HashAlgorithm algorithm, std::span<const uint8_t> der);
  static Fingerprint of_certificate(HashAlgorithm algorithm, X509* certificate);

  HashAlgorithm algorithm() const { return algorithm_; }
  std::span<const uint8_t> digest() const { return digest_; }

  // "sha-256 AB:CD:…", upper-case hex.
  std::string to_string() const;

  // Whether `certificate` has this fingerprint; compares binary digests in constant time.
  bool matches(X509* certificate) const;

  friend bool operator==(const Fingerprint&, const Fingerprint&) = default;

 private:
  Fingerprint(HashAlgorithm algorithm, std::vector<uint8_t> digest)
      : algorithm_(algorithm), digest_(std::move(digest)) {}

  HashAlgorithm algorithm_;
  std::vector<uint8_t> digest_;
};

// Whether `certificate` matches any of `fingerprints` (RFC 8122 §5: any one suffices).
bool matches_any(const std::vector<Fingerprint>& fingerprints, X509* certificate);

}  // namespace dtlstransport
