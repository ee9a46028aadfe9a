// The DTLS-SRTP protection profiles we negotiate (RFC 5764 §4.1.2, RFC 7714 §14.2) and the keys
// exported for them (RFC 5764 §4.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "result.hpp"
#include "secure_bytes.hpp"

namespace dtlstransport {

// Values are the IANA profile identifiers.
enum class SrtpProfile : uint16_t {
  Aes128CmSha1_80 = 0x0001,
  Aes128CmSha1_32 = 0x0002,
  AeadAes128Gcm = 0x0007,
  AeadAes256Gcm = 0x0008,
};

// OpenSSL's name, also used in our `srtp-profiles` property: "SRTP_AEAD_AES_128_GCM".
std::string_view openssl_name(SrtpProfile profile);
std::optional<SrtpProfile> srtp_profile_from_name(std::string_view openssl_name);
std::optional<SrtpProfile> srtp_profile_from_id(uint16_t iana_id);

// Master key and master salt lengths in bytes (GCM: 12-byte salt, RFC 7714 §12).
size_t master_key_length(SrtpProfile profile);
size_t master_salt_length(SrtpProfile profile);

// Our preference order: AEAD first, then the mandatory-to-implement CM_80, then CM_32.
std::vector<SrtpProfile> default_srtp_profiles();

// Parses "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80" (preference order, no duplicates).
Result<std::vector<SrtpProfile>> parse_srtp_profiles(std::string_view colon_separated);
std::string format_srtp_profiles(const std::vector<SrtpProfile>& profiles);

// Keys for one SRTP session: what we protect with (local) and what the peer protects with (remote).
struct SrtpKeys {
  SrtpProfile profile = SrtpProfile::AeadAes128Gcm;
  SecureBytes local_key;
  SecureBytes local_salt;
  SecureBytes remote_key;
  SecureBytes remote_salt;
};

}  // namespace dtlstransport
