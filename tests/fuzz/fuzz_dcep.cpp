// Fuzzes the DCEP decoder (RFC 8832), which reads the peer's DATA_CHANNEL_OPEN/ACK from SCTP.
// Whatever decodes must encode back to the same bytes (the format has one encoding per message,
// bar the reliability parameter of a reliable channel, which is sent as 0).
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "dcep.hpp"

using namespace dtlstransport;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto message = decode_dcep({data, size});
  if (!message.ok()) {
    if (message.error().message.empty()) std::abort();  // errors must say what was wrong
    return 0;
  }
  std::vector<uint8_t> again;
  if (auto* open = std::get_if<DcepOpen>(&*message)) {
    auto encoded = encode_dcep_open(*open);
    if (!encoded.ok()) std::abort();
    again = *encoded;
    if (open->reliability == Reliability::Reliable && size >= 8) {
      std::vector<uint8_t> input(data, data + size);
      for (size_t i = 4; i < 8; i++) input[i] = 0;  // the parameter a reliable channel ignores
      if (again != input) std::abort();
      return 0;
    }
  } else {
    again = encode_dcep_ack();
  }
  if (again != std::vector<uint8_t>(data, data + size)) std::abort();
  return 0;
}
