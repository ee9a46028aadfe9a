// Writes seeds for fuzz_srtp_unprotect: for each profile, real SRTP and SRTCP packets protected
// with the fixed fuzz keys (mode 0), and the plaintext they came from (mode 1).
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_srtp_keys.hpp"
#include "srtp_session.hpp"

using namespace dtlstransport;

namespace {

bool write_seed(const std::string& path, uint8_t selector, const std::vector<uint8_t>& packet,
                size_t length) {
  std::ofstream out(path, std::ios::binary);
  out.put(static_cast<char>(selector));
  out.write(reinterpret_cast<const char*>(packet.data()), static_cast<std::streamsize>(length));
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  // RTP: V=2, PT 111, seq 1, ts 960, SSRC 0x0a0b0c0d, one-byte header extension (RFC 8285).
  const std::vector<uint8_t> rtp = {0x90, 111,  0x00, 0x01, 0x00, 0x00, 0x03, 0xc0, 0x0a, 0x0b,
                                    0x0c, 0x0d, 0xbe, 0xde, 0x00, 0x01, 0x10, 0x7f, 0x00, 0x00,
                                    'o',  'p',  'u',  's',  ' ',  'f',  'r',  'a',  'm',  'e'};
  // RTCP: sender report without report blocks, then SDES CNAME.
  const std::vector<uint8_t> rtcp = {
      0x80, 200,  0x00, 0x06, 0x0a, 0x0b, 0x0c, 0x0d, 0xe6, 0x5a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f,
      0x60, 0x00, 0x00, 0x03, 0xc0, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1e, 0x81, 202,
      0x00, 0x03, 0x0a, 0x0b, 0x0c, 0x0d, 0x01, 0x03, 'c',  'n',  'm',  0x00, 0x00, 0x00};
  int written = 0;
  for (uint8_t index = 0; index < 4; ++index) {
    const SrtpProfile profile = fuzz::kProfiles[index];
    SrtpSession sender;
    if (!sender.set_keys(fuzz::sender_keys(profile)).ok()) return 1;
    const std::string name(openssl_name(profile));

    std::vector<uint8_t> buffer = rtp;
    buffer.resize(rtp.size() + SrtpSession::kRtpTrailerRoom);
    size_t length = rtp.size();
    if (sender.protect_rtp(buffer, length) != SrtpResult::Ok) return 1;
    written += write_seed(dir + "/srtp-" + name, index, buffer, length);

    buffer = rtcp;
    buffer.resize(rtcp.size() + SrtpSession::kRtcpTrailerRoom);
    length = rtcp.size();
    if (sender.protect_rtcp(buffer, length) != SrtpResult::Ok) return 1;
    written += write_seed(dir + "/srtcp-" + name, index, buffer, length);
  }
  written += write_seed(dir + "/plain-rtp", 4, rtp, rtp.size());
  written += write_seed(dir + "/plain-rtcp", 4 | 3, rtcp, rtcp.size());
  std::printf("%d seeds written to %s\n", written, dir.c_str());
  return written == 10 ? 0 : 1;
}
