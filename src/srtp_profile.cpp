// DTLS-SRTP protection profiles: RFC 5764 §4.1.2 (AES-CM + HMAC-SHA1) and RFC 7714 §14.2 (AEAD).
#include "srtp_profile.hpp"

#include <array>
#include <cctype>
#include <string>

#include "text.hpp"

namespace dtlstransport {
namespace {

struct ProfileInfo {
  SrtpProfile profile;
  std::string_view name;  // OpenSSL's name (what SSL_CTX_set_tlsext_use_srtp accepts)
  size_t key_length;
  size_t salt_length;
};

// Key and salt lengths: RFC 5764 §4.1.2 (SRTP_AES128_CM_HMAC_SHA1_*: 128-bit key, 112-bit salt)
// and RFC 7714 §12 (AEAD_AES_*_GCM: 96-bit salt; 128- or 256-bit key).
constexpr std::array<ProfileInfo, 4> kProfiles = {{
    {SrtpProfile::Aes128CmSha1_80, "SRTP_AES128_CM_SHA1_80", 16, 14},
    {SrtpProfile::Aes128CmSha1_32, "SRTP_AES128_CM_SHA1_32", 16, 14},
    {SrtpProfile::AeadAes128Gcm, "SRTP_AEAD_AES_128_GCM", 16, 12},
    {SrtpProfile::AeadAes256Gcm, "SRTP_AEAD_AES_256_GCM", 32, 12},
}};

const ProfileInfo* find(SrtpProfile profile) {
  for (const auto& entry : kProfiles) {
    if (entry.profile == profile) return &entry;
  }
  return nullptr;
}

std::string known_names() {
  std::string names;
  for (const auto& entry : kProfiles) {
    if (!names.empty()) names += ", ";
    names += entry.name;
  }
  return names;
}

}  // namespace

std::string_view openssl_name(SrtpProfile profile) {
  const ProfileInfo* entry = find(profile);
  return entry != nullptr ? entry->name : std::string_view{};
}

std::optional<SrtpProfile> srtp_profile_from_name(std::string_view name) {
  for (const auto& entry : kProfiles) {
    if (entry.name == name) return entry.profile;
  }
  return std::nullopt;
}

std::optional<SrtpProfile> srtp_profile_from_id(uint16_t iana_id) {
  for (const auto& entry : kProfiles) {
    if (static_cast<uint16_t>(entry.profile) == iana_id) return entry.profile;
  }
  return std::nullopt;
}

size_t master_key_length(SrtpProfile profile) {
  const ProfileInfo* entry = find(profile);
  return entry != nullptr ? entry->key_length : 0;
}

size_t master_salt_length(SrtpProfile profile) {
  const ProfileInfo* entry = find(profile);
  return entry != nullptr ? entry->salt_length : 0;
}

std::vector<SrtpProfile> default_srtp_profiles() {
  // AEAD first: authenticated encryption in one pass, and the cheaper one with Debian's libsrtp2.
  // SRTP_AES128_CM_SHA1_80 stays for peers without GCM (mandatory to implement, RFC 8827 §6.5).
  return {SrtpProfile::AeadAes128Gcm, SrtpProfile::AeadAes256Gcm, SrtpProfile::Aes128CmSha1_80,
          SrtpProfile::Aes128CmSha1_32};
}

Result<std::vector<SrtpProfile>> parse_srtp_profiles(std::string_view colon_separated) {
  const std::string_view whole = trim(colon_separated);
  if (whole.empty()) {
    return Error{"empty SRTP profile list (expected one or more of " + known_names() +
                 ", separated by ':')"};
  }
  std::vector<SrtpProfile> profiles;
  size_t start = 0;
  while (true) {
    const size_t colon = whole.find(':', start);
    const std::string_view item = trim(whole.substr(
        start, colon == std::string_view::npos ? std::string_view::npos : colon - start));
    if (item.empty()) {
      return Error{"bad SRTP profile list '" + abbreviate(whole) + "': empty entry at offset " +
                   std::to_string(start)};
    }
    const auto profile = srtp_profile_from_name(item);
    if (!profile) {
      return Error{"unknown SRTP profile '" + abbreviate(item) + "' in '" + abbreviate(whole) +
                   "' (known: " + known_names() + ")"};
    }
    for (SrtpProfile seen : profiles) {
      if (seen == *profile) {
        return Error{"duplicate SRTP profile '" + abbreviate(item) + "' in '" + abbreviate(whole) +
                     "'"};
      }
    }
    profiles.push_back(*profile);
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  return profiles;
}

std::string format_srtp_profiles(const std::vector<SrtpProfile>& profiles) {
  std::string text;
  for (SrtpProfile profile : profiles) {
    if (!text.empty()) text += ':';
    text += openssl_name(profile);
  }
  return text;
}

}  // namespace dtlstransport
