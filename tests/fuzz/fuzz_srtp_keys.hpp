// Fixed keys shared by fuzz_srtp_unprotect and make_srtp_seeds, so that the seed corpus holds
// packets that really authenticate and the fuzzer starts from the code past the tag check.
#pragma once

#include <cstddef>
#include <cstdint>

#include "secure_bytes.hpp"
#include "srtp_profile.hpp"

namespace dtlstransport::fuzz {

// Selected by the first input byte (low two bits).
inline constexpr SrtpProfile kProfiles[] = {SrtpProfile::AeadAes128Gcm, SrtpProfile::AeadAes256Gcm,
                                            SrtpProfile::Aes128CmSha1_80,
                                            SrtpProfile::Aes128CmSha1_32};

inline SecureBytes fixed_bytes(size_t size, uint8_t seed) {
  SecureBytes bytes(size);
  for (size_t i = 0; i < size; ++i) bytes.data()[i] = static_cast<uint8_t>(seed ^ (i * 29));
  return bytes;
}

// The sender's keys; the receiver uses them mirrored (its remote = the sender's local).
inline SrtpKeys sender_keys(SrtpProfile profile) {
  SrtpKeys keys;
  keys.profile = profile;
  keys.local_key = fixed_bytes(master_key_length(profile), 0x11);
  keys.local_salt = fixed_bytes(master_salt_length(profile), 0x22);
  keys.remote_key = fixed_bytes(master_key_length(profile), 0x33);
  keys.remote_salt = fixed_bytes(master_salt_length(profile), 0x44);
  return keys;
}

inline SrtpKeys receiver_keys(SrtpProfile profile) {
  SrtpKeys sender = sender_keys(profile);
  SrtpKeys keys;
  keys.profile = profile;
  keys.local_key = sender.remote_key;
  keys.local_salt = sender.remote_salt;
  keys.remote_key = sender.local_key;
  keys.remote_salt = sender.local_salt;
  return keys;
}

}  // namespace dtlstransport::fuzz
