// Certificate fingerprints (RFC 8122 §5, RFC 8827 §6.5): parsing the SDP form and checking a peer's
// certificate against it.
#include "fingerprint.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <array>
#include <cctype>
#include <optional>

#include "text.hpp"

namespace dtlstransport {
namespace {

struct AlgorithmInfo {
  HashAlgorithm algorithm;
  std::string_view name;  // RFC 8122 §5 "hash-func" token, as registered by IANA (lower case)
  size_t digest_length;
};

constexpr std::array<AlgorithmInfo, 5> kAlgorithms = {{
    {HashAlgorithm::Sha1, "sha-1", 20},
    {HashAlgorithm::Sha224, "sha-224", 28},
    {HashAlgorithm::Sha256, "sha-256", 32},
    {HashAlgorithm::Sha384, "sha-384", 48},
    {HashAlgorithm::Sha512, "sha-512", 64},
}};

const AlgorithmInfo& info(HashAlgorithm algorithm) {
  for (const auto& entry : kAlgorithms) {
    if (entry.algorithm == algorithm) return entry;
  }
  return kAlgorithms[2];  // unreachable for valid enum values
}

const EVP_MD* message_digest(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::Sha1:
      return EVP_sha1();
    case HashAlgorithm::Sha224:
      return EVP_sha224();
    case HashAlgorithm::Sha256:
      return EVP_sha256();
    case HashAlgorithm::Sha384:
      return EVP_sha384();
    case HashAlgorithm::Sha512:
      return EVP_sha512();
  }
  return EVP_sha256();
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Quoted and abbreviated (text.hpp): a megabyte of junk is not echoed whole.
std::string quoted(std::string_view whole) {
  const std::string text = abbreviate(whole);
  // Appends rather than `"'" + std::string(text) + "'"`: GCC 12 at -O3 reports a false
  // -Wrestrict on the operator+ form.
  std::string result;
  result.reserve(text.size() + 2);
  result.push_back('\'');
  result.append(text);
  result.push_back('\'');
  return result;
}

// Decodes RFC 8122's "2UHEX *(":" 2UHEX)". A run of hex digits without any colon is accepted too
// (some signalling stacks strip them); it is unambiguous when its length is even. Mixing the two
// forms is not: every group must then be exactly two digits.
Result<std::vector<uint8_t>> decode_hex(std::string_view hex, std::string_view whole) {
  auto fail = [&](const std::string& why) {
    return Error{"bad fingerprint " + quoted(whole) + ": " + why};
  };
  if (hex.empty()) return fail("no hex digest after the algorithm");
  std::vector<uint8_t> bytes;
  const bool has_colons = hex.find(':') != std::string_view::npos;
  if (!has_colons) {
    if (hex.size() % 2 != 0) return fail(quoted(hex) + " has an odd number of hex digits");
    for (size_t i = 0; i < hex.size(); i += 2) {
      const int high = hex_value(hex[i]);
      const int low = hex_value(hex[i + 1]);
      if (high < 0 || low < 0) return fail(quoted(hex.substr(i, 2)) + " is not hex");
      bytes.push_back(static_cast<uint8_t>(high << 4 | low));
    }
    return bytes;
  }
  size_t start = 0;
  while (true) {
    const size_t colon = hex.find(':', start);
    const std::string_view group =
        hex.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
    if (group.size() != 2) {
      return fail("hex group " + quoted(group) + " at offset " + std::to_string(start) +
                  " is not two hex digits");
    }
    const int high = hex_value(group[0]);
    const int low = hex_value(group[1]);
    if (high < 0 || low < 0) return fail(quoted(group) + " is not hex");
    bytes.push_back(static_cast<uint8_t>(high << 4 | low));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  return bytes;
}

// X509_digest hashes the DER encoding, exactly what RFC 8122 §5 fingerprints.
std::optional<std::vector<uint8_t>> digest_of(HashAlgorithm algorithm, X509* certificate) {
  if (certificate == nullptr) return std::nullopt;
  std::array<uint8_t, EVP_MAX_MD_SIZE> buffer{};
  unsigned int length = 0;
  if (X509_digest(certificate, message_digest(algorithm), buffer.data(), &length) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  return std::vector<uint8_t>(buffer.begin(), buffer.begin() + length);
}

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

}  // namespace

std::string_view hash_algorithm_name(HashAlgorithm algorithm) { return info(algorithm).name; }

Result<Fingerprint> Fingerprint::parse(std::string_view text) {
  const std::string_view whole = trim(text);
  if (whole.empty()) return Error{"bad fingerprint '': empty text"};

  size_t space = 0;
  while (space < whole.size() && !is_space(whole[space])) ++space;
  const std::string_view name = whole.substr(0, space);
  const std::string_view hex = trim(whole.substr(space));

  const AlgorithmInfo* found = nullptr;
  for (const auto& entry : kAlgorithms) {
    if (equals_ignoring_case(name, entry.name)) found = &entry;
  }
  if (found == nullptr) {
    return Error{"bad fingerprint " + quoted(whole) + ": unknown hash algorithm " + quoted(name) +
                 " (expected sha-1, sha-224, sha-256, sha-384 or sha-512)"};
  }
  if (hex.empty()) {
    return Error{"bad fingerprint " + quoted(whole) + ": no hex digest after the algorithm"};
  }
  for (char c : hex) {
    if (is_space(c)) {
      return Error{"bad fingerprint " + quoted(whole) + ": white space inside the hex digest"};
    }
  }

  auto bytes = decode_hex(hex, whole);
  if (!bytes) return bytes.error();
  if (bytes->size() != found->digest_length) {
    return Error{"bad fingerprint " + quoted(whole) + ": " + std::string(found->name) + " needs " +
                 std::to_string(found->digest_length) + " bytes, got " +
                 std::to_string(bytes->size())};
  }
  return Fingerprint(found->algorithm, std::move(bytes).value());
}

Result<std::vector<Fingerprint>> Fingerprint::parse_list(std::string_view text) {
  std::vector<Fingerprint> fingerprints;
  if (trim(text).empty()) return Error{"no fingerprint given (empty list)"};
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view item = trim(text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (item.empty()) {
      return Error{"bad fingerprint list " + quoted(trim(text)) + ": empty entry at offset " +
                   std::to_string(start)};
    }
    auto fingerprint = parse(item);
    if (!fingerprint) return fingerprint.error();
    fingerprints.push_back(std::move(fingerprint).value());
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return fingerprints;
}

Fingerprint Fingerprint::of_der(HashAlgorithm algorithm, std::span<const uint8_t> der) {
  std::array<uint8_t, EVP_MAX_MD_SIZE> buffer{};
  unsigned int length = 0;
  if (EVP_Digest(der.data(), der.size(), buffer.data(), &length, message_digest(algorithm),
                 nullptr) != 1) {
    // Only fails on allocation failure; an empty digest never matches anything.
    ERR_clear_error();
    return Fingerprint(algorithm, {});
  }
  return Fingerprint(algorithm, std::vector<uint8_t>(buffer.begin(), buffer.begin() + length));
}

Fingerprint Fingerprint::of_certificate(HashAlgorithm algorithm, X509* certificate) {
  auto digest = digest_of(algorithm, certificate);
  return Fingerprint(algorithm, digest ? std::move(*digest) : std::vector<uint8_t>{});
}

std::string Fingerprint::to_string() const {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string text(hash_algorithm_name(algorithm_));
  text += ' ';
  for (size_t i = 0; i < digest_.size(); ++i) {
    if (i != 0) text += ':';
    text += kHex[digest_[i] >> 4];
    text += kHex[digest_[i] & 0x0f];
  }
  return text;
}

bool Fingerprint::matches(X509* certificate) const {
  auto digest = digest_of(algorithm_, certificate);
  if (!digest || digest->empty() || digest->size() != digest_.size()) return false;
  // Constant time, so a peer cannot learn the expected digest byte by byte (libwebrtc does the
  // same); the length is public (fixed by the algorithm).
  return CRYPTO_memcmp(digest->data(), digest_.data(), digest_.size()) == 0;
}

bool matches_any(const std::vector<Fingerprint>& fingerprints, X509* certificate) {
  // RFC 8122 §5: any one matching fingerprint suffices. No early exit on a mismatch: every
  // candidate is checked with the same constant-time comparison.
  bool matched = false;
  for (const auto& fingerprint : fingerprints) {
    if (fingerprint.matches(certificate)) matched = true;
  }
  return matched;
}

}  // namespace dtlstransport
