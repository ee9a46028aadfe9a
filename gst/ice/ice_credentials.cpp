#include "ice_credentials.h"

#include <glib.h>
#include <openssl/rand.h>

#include <vector>

namespace gstdtls {
namespace {

constexpr size_t kMaxLength = 256;

std::string random_ice_string(size_t length) {
  static const char kIceChars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<unsigned char> bytes(length);
  if (RAND_bytes(bytes.data(), static_cast<int>(length)) != 1) {
    for (auto& b : bytes) b = static_cast<unsigned char>(g_random_int());
  }
  std::string out;
  for (unsigned char b : bytes) out += kIceChars[b & 63];
  return out;
}

bool is_ice_char(char c) { return g_ascii_isalnum(c) || c == '+' || c == '/'; }

dtlstransport::Status check_ice_string(std::string_view text, size_t min_length) {
  bool valid = text.size() >= min_length && text.size() <= kMaxLength;
  for (char c : text) valid = valid && is_ice_char(c);
  if (valid) return {};
  return dtlstransport::Error{"needs " + std::to_string(min_length) + " to " +
                              std::to_string(kMaxLength) +
                              " characters of [A-Za-z0-9+/] (RFC 8839)"};
}

}  // namespace

std::string random_ice_ufrag() { return random_ice_string(8); }
std::string random_ice_pwd() { return random_ice_string(24); }

dtlstransport::Status check_ice_ufrag(std::string_view ufrag) { return check_ice_string(ufrag, 4); }
dtlstransport::Status check_ice_pwd(std::string_view pwd) { return check_ice_string(pwd, 22); }

}  // namespace gstdtls
