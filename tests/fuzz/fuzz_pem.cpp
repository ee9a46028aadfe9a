// Fuzzes certificate + key loading from PEM (a user-supplied property value).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "certificate.hpp"

using namespace dtlstransport;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto certificate = Certificate::from_pem(text);
  if (!certificate.ok()) {
    if (certificate.error().message.empty()) std::abort();
    return 0;
  }
  // A loaded identity is usable: it has a fingerprint and prints back to PEM that loads again.
  const Fingerprint fingerprint = certificate->fingerprint();
  auto reloaded =
      Certificate::from_pem(certificate->certificate_pem(), certificate->private_key_pem());
  if (!reloaded.ok() || !(reloaded->fingerprint() == fingerprint)) std::abort();
  return 0;
}
