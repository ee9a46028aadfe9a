#include "sdp_application.h"

#include <string>

#include "text.hpp"

namespace dt = dtlstransport;

namespace gstdtls {
namespace {

bool has_format(const GstSDPMedia* media, const char* format) {
  for (guint f = 0; f < gst_sdp_media_formats_len(media); ++f)
    if (g_strcmp0(gst_sdp_media_get_format(media, f), format) == 0) return true;
  return false;
}

// An unsigned decimal number in [min, max], else an error naming the attribute.
dt::Result<guint64> number(const gchar* text, const char* key, guint64 min, guint64 max,
                           const std::string& where) {
  const std::string value(dt::trim(text ? text : ""));
  guint64 out = 0;
  if (!g_ascii_string_to_unsigned(value.c_str(), 10, min, max, &out, nullptr))
    return dt::Error{std::string("a=") + key + ":" + dt::abbreviate(value) + " in " + where +
                     " is not a number from " + std::to_string(min) + " to " + std::to_string(max) +
                     " (RFC 8841 §5, §6)"};
  return out;
}

}  // namespace

bool is_application_section(const GstSDPMedia* media) {
  return g_strcmp0(gst_sdp_media_get_media(media), "application") == 0;
}

dt::Result<SctpParameters> read_application_section(const GstSDPMedia* media,
                                                    const std::string& where) {
  const std::string proto = gst_sdp_media_get_proto(media) ? gst_sdp_media_get_proto(media) : "";
  if (proto == "DTLS/SCTP")
    return dt::Error{where +
                     " is in the pre-standard form (DTLS/SCTP <port> with a=sctpmap, "
                     "draft-ietf-mmusic-sctp-sdp before version 26): data channels are "
                     "negotiated as UDP/DTLS/SCTP webrtc-datachannel with a=sctp-port (RFC 8841 "
                     "§4.1, RFC 8832)"};
  if (proto == "TCP/DTLS/SCTP")
    return dt::Error{where + " is SCTP over DTLS over TCP: this transport connects over UDP only"};
  if (proto != "UDP/DTLS/SCTP")
    return dt::Error{where + ": protocol " + dt::abbreviate(proto) +
                     " is not UDP/DTLS/SCTP (data channels, RFC 8841 §4.1)"};
  if (!has_format(media, "webrtc-datachannel"))
    return dt::Error{where + " has no webrtc-datachannel format: SCTP for something other than " +
                     "data channels (RFC 8841 §4.2, RFC 8832)"};
  SctpParameters out;
  if (const gchar* port = gst_sdp_media_get_attribute_val(media, "sctp-port")) {
    auto value = number(port, "sctp-port", 1, 65535, where);
    if (!value) return value.error();
    out.port = static_cast<guint>(*value);
  }
  if (const gchar* size = gst_sdp_media_get_attribute_val(media, "max-message-size")) {
    auto value = number(size, "max-message-size", 0, G_MAXUINT64, where);
    if (!value) return value.error();
    out.max_message_size = *value;
  }
  return out;
}

void add_application_section(GstSDPMedia* media, const SctpParameters& local) {
  gst_sdp_media_set_media(media, "application");
  gst_sdp_media_set_proto(media, "UDP/DTLS/SCTP");
  gst_sdp_media_add_format(media, "webrtc-datachannel");
  gst_sdp_media_add_attribute(media, "sctp-port", std::to_string(local.port).c_str());
  gst_sdp_media_add_attribute(media, "max-message-size",
                              std::to_string(local.max_message_size).c_str());
}

}  // namespace gstdtls
