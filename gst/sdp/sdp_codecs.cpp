#include "sdp_codecs.h"

#include <string>

#include "text.hpp"

namespace dt = dtlstransport;

namespace gstdtls {
namespace {

struct StaticType {
  guint pt;
  const char* name;
  gint clock_rate;
};
// RFC 3551 §6: the static audio types a peer may list without a=rtpmap.
constexpr StaticType kStaticTypes[] = {{0, "PCMU", 8000}, {8, "PCMA", 8000}, {9, "G722", 8000}};

bool is_rtcp_fb(const char* field) { return g_str_has_prefix(field, "rtcp-fb-"); }

// Fields that say what the codec is (compared by codec_accepts itself) or how it is signalled.
bool is_identity_field(const char* field) {
  static const char* const kFields[] = {"payload", "media", "encoding-name", "clock-rate",
                                        "encoding-params"};
  for (const char* known : kFields)
    if (g_strcmp0(field, known) == 0) return true;
  return is_rtcp_fb(field);
}

gint channels(const GstStructure* s) {
  const gchar* text = gst_structure_get_string(s, "encoding-params");
  if (text) return static_cast<gint>(g_ascii_strtoll(text, nullptr, 10));
  gint value = 1;
  if (gst_structure_get_int(s, "encoding-params", &value)) return value;
  return 1;
}

}  // namespace

GstCaps* codec_caps(const GstSDPMedia* media, guint pt) {
  GstCaps* caps = gst_sdp_media_get_caps_from_media(media, static_cast<gint>(pt));
  if (!caps) return nullptr;
  caps = gst_caps_make_writable(caps);
  GstStructure* s = gst_caps_get_structure(caps, 0);
  gst_structure_set_name(s, "application/x-rtp");
  if (!gst_structure_has_field(s, "encoding-name")) {
    for (const auto& known : kStaticTypes) {
      if (known.pt != pt) continue;
      gst_structure_set(s, "encoding-name", G_TYPE_STRING, known.name, "clock-rate", G_TYPE_INT,
                        known.clock_rate, nullptr);
    }
  }
  gint clock_rate = 0;
  if (!gst_structure_has_field(s, "encoding-name") ||
      !gst_structure_get_int(s, "clock-rate", &clock_rate)) {
    gst_caps_unref(caps);
    return nullptr;
  }
  return caps;
}

bool codec_is(const GstStructure* wanted, const GstStructure* offered) {
  const gchar* wanted_media = gst_structure_get_string(wanted, "media");
  const gchar* offered_media = gst_structure_get_string(offered, "media");
  if (g_strcmp0(wanted_media, offered_media) != 0) return false;
  const gchar* wanted_name = gst_structure_get_string(wanted, "encoding-name");
  const gchar* offered_name = gst_structure_get_string(offered, "encoding-name");
  if (!wanted_name || !offered_name || g_ascii_strcasecmp(wanted_name, offered_name) != 0)
    return false;
  gint wanted_rate = 0, offered_rate = 0;
  if (!gst_structure_get_int(wanted, "clock-rate", &wanted_rate) ||
      !gst_structure_get_int(offered, "clock-rate", &offered_rate) || wanted_rate != offered_rate)
    return false;
  return channels(wanted) == channels(offered);
}

bool codec_accepts(const GstStructure* wanted, const GstStructure* offered) {
  if (!codec_is(wanted, offered)) return false;
  const gint n = gst_structure_n_fields(wanted);
  for (gint i = 0; i < n; ++i) {
    const gchar* field = gst_structure_nth_field_name(wanted, static_cast<guint>(i));
    if (is_identity_field(field)) continue;
    const GValue* value = gst_structure_get_value(offered, field);
    if (!value ||
        gst_value_compare(value, gst_structure_get_value(wanted, field)) != GST_VALUE_EQUAL)
      return false;
  }
  return true;
}

dt::Status check_codec_list(const GstCaps* codecs, bool need_payload) {
  if (!codecs || gst_caps_is_empty(codecs))
    return dt::Error{
        "no codecs: give caps listing what we send and accept (e.g. "
        "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000) or set pt-map"};
  if (gst_caps_is_any(codecs)) return dt::Error{"ANY caps do not name a codec"};
  for (guint i = 0; i < gst_caps_get_size(codecs); ++i) {
    const GstStructure* s = gst_caps_get_structure(codecs, i);
    const std::string which =
        "codec " + std::to_string(i + 1) + " (" + dt::abbreviate(gst_structure_get_name(s)) + ")";
    if (!gst_structure_has_name(s, "application/x-rtp"))
      return dt::Error{which + " is not application/x-rtp"};
    const gchar* media = gst_structure_get_string(s, "media");
    if (g_strcmp0(media, "audio") != 0 && g_strcmp0(media, "video") != 0)
      return dt::Error{which + " needs media=audio or media=video"};
    if (!gst_structure_get_string(s, "encoding-name"))
      return dt::Error{which + " needs an encoding-name (e.g. VP8, OPUS)"};
    gint value = 0;
    if (!gst_structure_get_int(s, "clock-rate", &value) || value <= 0)
      return dt::Error{which + " needs a positive integer clock-rate"};
    if (need_payload) {
      if (!gst_structure_get_int(s, "payload", &value))
        return dt::Error{which + " needs an integer payload (the payload type to offer)"};
      if (value < 0 || value > 127)
        return dt::Error{which + ": payload " + std::to_string(value) +
                         " is not an RTP payload type (0-127)"};
    }
  }
  return {};
}

void add_codec(GstSDPMedia* media, const GstStructure* codec) {
  GstCaps* caps = gst_caps_new_full(gst_structure_copy(codec), nullptr);
  gst_sdp_media_set_media_from_caps(caps, media);
  gst_caps_unref(caps);
}

std::string codec_name(const GstStructure* codec) {
  const gchar* media = gst_structure_get_string(codec, "media");
  const gchar* name = gst_structure_get_string(codec, "encoding-name");
  gint rate = 0;
  gst_structure_get_int(codec, "clock-rate", &rate);
  std::string out =
      std::string(media ? media : "?") + " " + (name ? name : "?") + "/" + std::to_string(rate);
  if (channels(codec) != 1) out += "/" + std::to_string(channels(codec));
  return out;
}

const GstStructure* find_payload(const GstCaps* map, gint pt) {
  if (!map) return nullptr;
  for (guint i = 0; i < gst_caps_get_size(map); ++i) {
    const GstStructure* s = gst_caps_get_structure(map, i);
    gint payload = -1;
    if (gst_structure_get_int(s, "payload", &payload) && payload == pt) return s;
  }
  return nullptr;
}

}  // namespace gstdtls
