// The SDP tests' fixture (test_element_sdp.cpp, test_element_sdp_data.cpp): one dtlstransportbin
// gathering on loopback, the three SDP actions called as an application calls them, the
// element's WARNINGs read off the bus, and small helpers to read descriptions back with
// GstSDPMessage.
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "one_bin.h"

namespace sdp_fixture {

inline constexpr GstClockTime kWait = 10 * GST_SECOND;

// SDP lines end in CRLF (RFC 8866 §5); the fixtures are written with '\n'.
inline std::string crlf(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "fixture has no '" << from << "'";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

inline constexpr const char* kAudioVideoCodecs =
    "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,encoding-params=(string)2;"
    "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000";

inline std::string string_property(GstElement* bin, const char* name) {
  gchar* value = nullptr;
  g_object_get(bin, name, &value, nullptr);
  std::string out = value ? value : "";
  g_free(value);
  return out;
}

inline std::string enum_nick(GstElement* bin, const char* name) {
  gint value = 0;
  g_object_get(bin, name, &value, nullptr);
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(bin), name);
  GEnumClass* klass = G_ENUM_CLASS(g_type_class_ref(spec->value_type));
  std::string nick = g_enum_get_value(klass, value)->value_nick;
  g_type_class_unref(klass);
  return nick;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A message's m= sections, each as its lines.
struct Parsed {
  GstSDPMessage* message = nullptr;
  explicit Parsed(const std::string& text) {
    EXPECT_EQ(gst_sdp_message_new_from_text(text.c_str(), &message), GST_SDP_OK) << text;
  }
  ~Parsed() {
    if (message) gst_sdp_message_free(message);
  }
  const GstSDPMedia* media(guint i) const { return gst_sdp_message_get_media(message, i); }
  guint count() const { return gst_sdp_message_medias_len(message); }
  std::string attribute(guint i, const char* key) const {
    const gchar* value = gst_sdp_media_get_attribute_val(media(i), key);
    return value ? value : "(absent)";
  }
  std::string formats(guint i) const {
    std::string out;
    for (guint f = 0; f < gst_sdp_media_formats_len(media(i)); ++f)
      out += (f ? " " : "") + std::string(gst_sdp_media_get_format(media(i), f));
    return out;
  }
  guint count_attribute(guint i, const char* key) const {
    guint n = 0;
    while (gst_sdp_media_get_attribute_val_n(media(i), key, n)) ++n;
    return n;
  }
};

// One dtlstransportbin in a pipeline, gathering on loopback, taken to READY with gathering
// complete (so descriptions carry its candidates).
class OneBin : public LoopbackBin {
 public:
  void ready() {
    ASSERT_EQ(gst_element_set_state(pipeline(), GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
    const GstClockTime deadline = gst_util_get_timestamp() + kWait;
    while (enum_nick(bin(), "ice-gathering-state") != "complete" &&
           gst_util_get_timestamp() < deadline)
      g_usleep(10000);
    ASSERT_EQ(enum_nick(bin(), "ice-gathering-state"), "complete");
  }
  // answer-sdp-offer; "" for NULL.
  std::string answer(const std::string& offer, const char* codecs = kAudioVideoCodecs) {
    GstCaps* caps = codecs ? gst_caps_from_string(codecs) : nullptr;
    gchar* answer = nullptr;
    g_signal_emit_by_name(bin(), "answer-sdp-offer", offer.c_str(), caps, &answer);
    if (caps) gst_caps_unref(caps);
    std::string out = answer ? answer : "";
    g_free(answer);
    return out;
  }
  std::string offer(const char* codecs) {
    GstCaps* caps = codecs ? gst_caps_from_string(codecs) : nullptr;
    gchar* offer = nullptr;
    g_signal_emit_by_name(bin(), "create-sdp-offer", caps, &offer);
    if (caps) gst_caps_unref(caps);
    std::string out = offer ? offer : "";
    g_free(offer);
    return out;
  }
  bool apply_answer(const std::string& answer) {
    gboolean ok = FALSE;
    g_signal_emit_by_name(bin(), "apply-sdp-answer", answer.c_str(), &ok);
    return ok;
  }
  // The texts of the WARNING messages posted so far (taken off the bus).
  std::vector<std::string> warnings() {
    std::vector<std::string> out;
    GstBus* bus = gst_element_get_bus(pipeline());
    while (GstMessage* message = gst_bus_pop_filtered(bus, GST_MESSAGE_WARNING)) {
      GError* error = nullptr;
      gst_message_parse_warning(message, &error, nullptr);
      out.emplace_back(error->message);
      g_error_free(error);
      gst_message_unref(message);
    }
    gst_object_unref(bus);
    return out;
  }
  std::string warnings_text() {
    std::string out;
    for (const auto& text : warnings()) out += text + "\n";
    return out;
  }
  GstCaps* pt_map() {
    GstCaps* caps = nullptr;
    g_object_get(bin(), "pt-map", &caps, nullptr);
    return caps;
  }
};

inline const GstStructure* pt_entry(GstCaps* caps, gint pt) {
  for (guint i = 0; caps && i < gst_caps_get_size(caps); ++i) {
    gint payload = -1;
    if (gst_structure_get_int(gst_caps_get_structure(caps, i), "payload", &payload) &&
        payload == pt)
      return gst_caps_get_structure(caps, i);
  }
  return nullptr;
}

inline bool wait_connected(GstElement* bin) {
  const GstClockTime deadline = gst_util_get_timestamp() + kWait;
  while (gst_util_get_timestamp() < deadline) {
    if (enum_nick(bin, "state") == "connected") return true;
    g_usleep(20000);
  }
  return false;
}

}  // namespace sdp_fixture
