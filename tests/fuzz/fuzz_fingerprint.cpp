// Fuzzes the SDP fingerprint parser (RFC 8122 §5), which reads text from the remote description.
// Whatever parses must print back to text that parses to the same fingerprint.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fingerprint.hpp"

using namespace dtlstransport;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto list = Fingerprint::parse_list(text);
  if (!list.ok()) {
    if (list.error().message.empty()) std::abort();  // errors must say what was wrong
    return 0;
  }
  for (const Fingerprint& fingerprint : *list) {
    auto again = Fingerprint::parse(fingerprint.to_string());
    if (!again.ok() || !(*again == fingerprint)) std::abort();
  }
  auto single = Fingerprint::parse(text);
  if (single.ok() && !(list->size() == 1 && (*list)[0] == *single)) std::abort();
  return 0;
}
