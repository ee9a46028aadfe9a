#include "sdp_local.h"

#include <string>

#include "text.hpp"

namespace dt = dtlstransport;

namespace gstdtls {

SdpMessagePtr new_local_message() {
  GstSDPMessage* message = nullptr;
  gst_sdp_message_new(&message);
  // RFC 8829 §5.2.1: a session id of up to 63 bits, version 2 as browsers start.
  const guint64 id = (static_cast<guint64>(g_random_int()) << 31) ^ g_random_int();
  const std::string session = std::to_string(id & G_GUINT64_CONSTANT(0x7fffffffffffffff));
  gst_sdp_message_set_version(message, "0");
  gst_sdp_message_set_origin(message, "-", session.c_str(), "2", "IN", "IP4", "0.0.0.0");
  gst_sdp_message_set_session_name(message, "-");
  gst_sdp_message_add_time(message, "0", "0", nullptr);
  return SdpMessagePtr(message);
}

void set_default_address(GstSDPMedia* media, const LocalParameters& local) {
  std::string address = "0.0.0.0";
  guint port = 9;
  if (!local.candidates.empty()) {
    // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>
    std::vector<std::string> fields = dt::split_list(local.candidates.front(), ' ');
    guint64 number = 0;
    if (fields.size() >= 6 && g_hostname_is_ip_address(fields[4].c_str()) &&
        g_ascii_string_to_unsigned(fields[5].c_str(), 10, 1, 65535, &number, nullptr)) {
      address = fields[4];
      port = static_cast<guint>(number);
    }
  }
  gst_sdp_media_set_port_info(media, port, 1);
  const bool v6 = address.find(':') != std::string::npos;
  gst_sdp_media_add_connection(media, "IN", v6 ? "IP6" : "IP4", address.c_str(), 0, 0);
}

void add_local_transport(GstSDPMedia* media, const LocalParameters& local, bool with_candidates,
                         bool rtcp_mux) {
  gst_sdp_media_add_attribute(media, "ice-ufrag", local.ufrag.c_str());
  gst_sdp_media_add_attribute(media, "ice-pwd", local.pwd.c_str());
  gst_sdp_media_add_attribute(media, "ice-options", "trickle");
  gst_sdp_media_add_attribute(media, "fingerprint", local.fingerprint.c_str());
  gst_sdp_media_add_attribute(media, "setup", sdp_setup_name(local.setup));
  if (rtcp_mux) gst_sdp_media_add_attribute(media, "rtcp-mux", "");
  if (!with_candidates) return;
  for (const auto& line : local.candidates) {
    std::string value = line;
    if (value.rfind("candidate:", 0) == 0) value.erase(0, 10);
    gst_sdp_media_add_attribute(media, "candidate", value.c_str());
  }
  if (local.gathering_complete) gst_sdp_media_add_attribute(media, "end-of-candidates", "");
}

std::string message_text(const GstSDPMessage* message) {
  gchar* text = gst_sdp_message_as_text(message);
  std::string out = text ? text : "";
  g_free(text);
  return out;
}

}  // namespace gstdtls
