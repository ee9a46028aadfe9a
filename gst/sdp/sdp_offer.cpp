#include "sdp_offer.h"

#include <algorithm>
#include <string>
#include <vector>

#include "sdp_application.h"
#include "sdp_codecs.h"
#include "text.hpp"

namespace dt = dtlstransport;

namespace gstdtls {
namespace {

bool has_attribute(const GstSDPMedia* media, const char* key) {
  for (guint i = 0; i < gst_sdp_media_attributes_len(media); ++i)
    if (g_strcmp0(gst_sdp_media_get_attribute(media, i)->key, key) == 0) return true;
  return false;
}

std::vector<GstCaps*> section_codecs(const GstSDPMedia* media) {
  std::vector<GstCaps*> out;
  for (guint f = 0; f < gst_sdp_media_formats_len(media); ++f) {
    guint64 pt = 0;
    if (!g_ascii_string_to_unsigned(gst_sdp_media_get_format(media, f), 10, 0, 127, &pt, nullptr))
      continue;
    if (GstCaps* caps = codec_caps(media, static_cast<guint>(pt))) out.push_back(caps);
  }
  return out;
}

void release(std::vector<GstCaps*>& list) {
  for (GstCaps* caps : list) gst_caps_unref(caps);
  list.clear();
}

}  // namespace

dt::Result<std::string> make_offer(const GstCaps* codecs, const LocalParameters& local) {
  const bool data_only = local.data_channels && (!codecs || gst_caps_is_empty(codecs));
  if (data_only) codecs = nullptr;
  if (dt::Status ok = data_only ? dt::Status{} : check_codec_list(codecs, true); !ok)
    return ok.error();
  const guint n_codecs = codecs ? gst_caps_get_size(codecs) : 0;
  // Payload types are unique across the offer: received RTP is demultiplexed by them.
  for (guint i = 0; i < n_codecs; ++i) {
    gint pt = -1;
    gst_structure_get_int(gst_caps_get_structure(codecs, i), "payload", &pt);
    for (guint j = 0; j < i; ++j) {
      gint other = -1;
      gst_structure_get_int(gst_caps_get_structure(codecs, j), "payload", &other);
      if (pt == other)
        return dt::Error{"codecs " + std::to_string(j + 1) + " and " + std::to_string(i + 1) +
                         " both use payload type " + std::to_string(pt) +
                         ": received RTP is demultiplexed by payload type"};
    }
  }
  std::vector<std::string> kinds;
  for (guint i = 0; i < n_codecs; ++i) {
    const std::string kind = gst_structure_get_string(gst_caps_get_structure(codecs, i), "media");
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
  }
  SdpMessagePtr message = new_local_message();
  std::string group = "BUNDLE";
  for (size_t k = 0; k < kinds.size(); ++k) {
    const std::string mid = std::to_string(k);
    group += " " + mid;
    GstSDPMedia* media = nullptr;
    gst_sdp_media_new(&media);
    for (guint i = 0; i < n_codecs; ++i) {
      const GstStructure* s = gst_caps_get_structure(codecs, i);
      if (kinds[k] == gst_structure_get_string(s, "media")) add_codec(media, s);
    }
    gst_sdp_media_set_media(media, kinds[k].c_str());
    gst_sdp_media_set_proto(media, "UDP/TLS/RTP/SAVPF");
    set_default_address(media, local);
    gst_sdp_media_add_attribute(media, "mid", mid.c_str());
    add_local_transport(media, local, k == 0);
    gst_sdp_media_add_attribute(media, "sendrecv", "");
    gst_sdp_message_add_media(message.get(), media);
    gst_sdp_media_free(media);
  }
  if (local.data_channels) {
    // RFC 8841 §5, §6; RFC 8829 §5.2.1: after the media, BUNDLEd, no a=rtcp-mux nor direction.
    const std::string mid = std::to_string(kinds.size());
    group += " " + mid;
    GstSDPMedia* media = nullptr;
    gst_sdp_media_new(&media);
    set_default_address(media, local);
    add_application_section(media, local.sctp);
    gst_sdp_media_add_attribute(media, "mid", mid.c_str());
    add_local_transport(media, local, kinds.empty(), false);
    gst_sdp_message_add_media(message.get(), media);
    gst_sdp_media_free(media);
  }
  gst_sdp_message_add_attribute(message.get(), "group", group.c_str());
  return message_text(message.get());
}

dt::Result<GstCaps*> read_answer(const std::string& offer_text, const RemoteDescription& answer,
                                 std::optional<SctpParameters>* sctp) {
  sctp->reset();
  auto parsed = parse_remote_description(offer_text);
  if (!parsed) return dt::Error{"our offer no longer parses: " + parsed.error().message};
  const GstSDPMessage* offer = parsed->message.get();
  const GstSDPMessage* remote = answer.message.get();
  const guint n = gst_sdp_message_medias_len(offer);
  if (gst_sdp_message_medias_len(remote) != n)
    return dt::Error{"the answer has " + std::to_string(gst_sdp_message_medias_len(remote)) +
                     " m= sections, our offer " + std::to_string(n) +
                     " (RFC 3264 §6: one for each, in order)"};
  GstCaps* pt_map = gst_caps_new_empty();
  auto fail = [&](std::string why) -> dt::Result<GstCaps*> {
    gst_caps_unref(pt_map);
    return dt::Error{std::move(why)};
  };
  for (guint i = 0; i < n; ++i) {
    const GstSDPMedia* ours = gst_sdp_message_get_media(offer, i);
    const GstSDPMedia* theirs = gst_sdp_message_get_media(remote, i);
    const std::string where = describe_media(theirs, i);
    const gchar* our_mid = gst_sdp_media_get_attribute_val(ours, "mid");
    const gchar* their_mid = gst_sdp_media_get_attribute_val(theirs, "mid");
    if (g_strcmp0(our_mid, their_mid) != 0 && their_mid)
      return fail(where + " answers our mid " + (our_mid ? our_mid : "(none)") +
                  " (RFC 3264 §6: the sections answer ours in order)");
    if (gst_sdp_media_get_port(theirs) == 0 && !has_attribute(theirs, "bundle-only")) continue;
    if (is_application_section(ours)) {
      if (!is_application_section(theirs))
        return fail(where + " answers our m=application section (RFC 3264 §6: same media)");
      auto parameters = read_application_section(theirs, where);
      if (!parameters) return fail(parameters.error().message);
      *sctp = *parameters;
      continue;
    }
    if (!has_attribute(theirs, "rtcp-mux"))
      return fail(where +
                  " has no a=rtcp-mux: this transport multiplexes RTP and RTCP on one component "
                  "(RFC 5761, RFC 8843 §9)");
    std::vector<GstCaps*> offered = section_codecs(ours);
    std::vector<GstCaps*> answered = section_codecs(theirs);
    bool any = false;
    for (GstCaps* caps : answered) {
      const GstStructure* s = gst_caps_get_structure(caps, 0);
      bool known = false;
      for (GstCaps* mine : offered) known = known || codec_is(gst_caps_get_structure(mine, 0), s);
      if (!known) continue;
      any = true;
      gint pt = -1;
      gst_structure_get_int(s, "payload", &pt);
      if (!find_payload(pt_map, pt)) gst_caps_append_structure(pt_map, gst_structure_copy(s));
    }
    release(offered);
    release(answered);
    if (!any) return fail(where + " takes no codec we offered (no common codec; RFC 3264 §6.1)");
  }
  if (gst_caps_is_empty(pt_map) && !*sctp)
    return fail("the answer rejects every m= section (port 0): no common codec");
  return pt_map;
}

}  // namespace gstdtls
