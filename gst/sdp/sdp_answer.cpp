#include "sdp_answer.h"

#include <string>
#include <utility>

#include "sdp_application.h"
#include "sdp_codecs.h"
#include "text.hpp"

namespace dt = dtlstransport;

namespace gstdtls {
namespace {

bool is_dtls_srtp(const GstSDPMedia* media) {
  const gchar* proto = gst_sdp_media_get_proto(media);
  return g_strcmp0(proto, "UDP/TLS/RTP/SAVPF") == 0 || g_strcmp0(proto, "UDP/TLS/RTP/SAVP") == 0;
}

bool has_attribute(const GstSDPMedia* media, const char* key) {
  for (guint i = 0; i < gst_sdp_media_attributes_len(media); ++i)
    if (g_strcmp0(gst_sdp_media_get_attribute(media, i)->key, key) == 0) return true;
  return false;
}

bool in_bundle(const RemoteDescription& offer, const GstSDPMedia* media) {
  const gchar* mid = gst_sdp_media_get_attribute_val(media, "mid");
  if (!mid) return false;
  for (const auto& tag : offer.bundle)
    if (tag == mid) return true;
  return false;
}

const char* answer_direction(const std::string& offered) {
  if (offered == "sendonly") return "recvonly";
  if (offered == "recvonly") return "sendonly";
  if (offered == "inactive") return "inactive";
  return "sendrecv";
}

// The a=rtpmap, a=fmtp and a=rtcp-fb lines of the offer for payload type `pt` (and the
// rtcp-fb:* ones), copied as they are: the answer keeps the offer's parameters (RFC 3264 §6.1).
void copy_format_attributes(const GstSDPMedia* from, GstSDPMedia* to, gint pt) {
  const std::string prefix = std::to_string(pt);
  for (guint i = 0; i < gst_sdp_media_attributes_len(from); ++i) {
    const GstSDPAttribute* a = gst_sdp_media_get_attribute(from, i);
    if (g_strcmp0(a->key, "rtpmap") != 0 && g_strcmp0(a->key, "fmtp") != 0 &&
        g_strcmp0(a->key, "rtcp-fb") != 0)
      continue;
    const std::string value = a->value ? a->value : "";
    const std::string first = value.substr(0, value.find(' '));
    if (first == prefix) gst_sdp_media_add_attribute(to, a->key, a->value);
  }
}

void add_wildcard_feedback(const GstSDPMedia* from, GstSDPMedia* to) {
  for (guint i = 0; i < gst_sdp_media_attributes_len(from); ++i) {
    const GstSDPAttribute* a = gst_sdp_media_get_attribute(from, i);
    if (g_strcmp0(a->key, "rtcp-fb") == 0 && a->value && g_str_has_prefix(a->value, "* "))
      gst_sdp_media_add_attribute(to, a->key, a->value);
  }
}

// A rejected section (RFC 3264 §6, RFC 8843 §7.3.3): port 0, the offer's media, proto and first
// format, its mid, a=inactive, and our transport attributes without candidates, as browsers
// write them: webrtcbin (1.22) refuses a description with any m= section lacking a=fingerprint,
// a rejected one included ("No fingerprint lines in sdp for media 1").
void add_rejected(GstSDPMessage* answer, const GstSDPMedia* offered, const LocalParameters& local) {
  GstSDPMedia* media = nullptr;
  gst_sdp_media_new(&media);
  gst_sdp_media_set_media(media, gst_sdp_media_get_media(offered));
  gst_sdp_media_set_proto(media, gst_sdp_media_get_proto(offered));
  gst_sdp_media_set_port_info(media, 0, 1);
  const gchar* format =
      gst_sdp_media_formats_len(offered) > 0 ? gst_sdp_media_get_format(offered, 0) : "0";
  gst_sdp_media_add_format(media, format);
  gst_sdp_media_add_connection(media, "IN", "IP4", "0.0.0.0", 0, 0);
  if (const gchar* mid = gst_sdp_media_get_attribute_val(offered, "mid"))
    gst_sdp_media_add_attribute(media, "mid", mid);
  add_local_transport(media, local, false);
  gst_sdp_media_add_attribute(media, "inactive", "");
  gst_sdp_message_add_media(answer, media);
  gst_sdp_media_free(media);
}

}  // namespace

Answer::Answer(Answer&& other) noexcept
    : text(std::move(other.text)),
      pt_map(std::exchange(other.pt_map, nullptr)),
      rejected(std::move(other.rejected)),
      remote_sctp(other.remote_sctp) {}

Answer& Answer::operator=(Answer&& other) noexcept {
  if (this != &other) {
    if (pt_map) gst_caps_unref(pt_map);
    text = std::move(other.text);
    pt_map = std::exchange(other.pt_map, nullptr);
    rejected = std::move(other.rejected);
    remote_sctp = other.remote_sctp;
  }
  return *this;
}

Answer::~Answer() {
  if (pt_map) gst_caps_unref(pt_map);
}

dt::Result<Answer> make_answer(const RemoteDescription& offer, const GstCaps* codecs,
                               const LocalParameters& local) {
  // No codecs is a data-only answer; codecs given must be right.
  const dt::Status codecs_ok = check_codec_list(codecs, false);
  const bool no_codecs = !codecs || gst_caps_is_empty(codecs);
  if (!codecs_ok && !no_codecs) return codecs_ok.error();
  const GstSDPMessage* remote = offer.message.get();
  SdpMessagePtr message = new_local_message();
  Answer out;
  out.pt_map = gst_caps_new_empty();
  std::vector<std::string> taken_mids;
  std::vector<std::string> offered_codecs;  // for the no-common-codec error
  bool transport_written = false;
  bool any_taken = false;
  bool rtp_offered = false;

  const guint n = gst_sdp_message_medias_len(remote);
  for (guint i = 0; i < n; ++i) {
    const GstSDPMedia* offered = gst_sdp_message_get_media(remote, i);
    const std::string where = describe_media(offered, i);
    auto reject = [&](const std::string& why) {
      out.rejected.push_back(where + ": " + why);
      add_rejected(message.get(), offered, local);
    };
    if (gst_sdp_media_get_port(offered) == 0 && !has_attribute(offered, "bundle-only")) {
      reject("rejected in the offer (port 0)");
      continue;
    }
    if (any_taken && !in_bundle(offer, offered)) {
      reject("not in the offer's BUNDLE group, and this transport carries one 5-tuple");
      continue;
    }
    if (is_application_section(offered)) {
      if (out.remote_sctp) {
        reject("a second m=application section: data channels share one SCTP association");
        continue;
      }
      auto sctp = read_application_section(offered, where);
      if (!sctp) {
        out.rejected.push_back(sctp.error().message);
        add_rejected(message.get(), offered, local);
        continue;
      }
      out.remote_sctp = *sctp;
      // RFC 8841 §5, §6: our own SCTP port and the largest message we accept.
      GstSDPMedia* media = nullptr;
      gst_sdp_media_new(&media);
      set_default_address(media, local);
      add_application_section(media, local.sctp);
      if (const gchar* mid = gst_sdp_media_get_attribute_val(offered, "mid")) {
        gst_sdp_media_add_attribute(media, "mid", mid);
        taken_mids.emplace_back(mid);
      }
      add_local_transport(media, local, !transport_written, false);
      transport_written = true;
      gst_sdp_message_add_media(message.get(), media);
      gst_sdp_media_free(media);
      any_taken = true;
      continue;
    }
    if (!is_dtls_srtp(offered)) {
      reject(std::string("protocol ") + dt::abbreviate(gst_sdp_media_get_proto(offered)) +
             " is neither RTP over DTLS-SRTP (UDP/TLS/RTP/SAVPF) nor data channels "
             "(UDP/DTLS/SCTP)");
      continue;
    }
    rtp_offered = true;
    if (no_codecs) {
      reject("no codecs given (codecs NULL and pt-map empty): media is not taken");
      continue;
    }
    // The offered formats we take, in the offer's order (its preference, RFC 3264 §6.1).
    std::vector<GstCaps*> taken;
    for (guint f = 0; f < gst_sdp_media_formats_len(offered); ++f) {
      guint64 pt = 0;
      if (!g_ascii_string_to_unsigned(gst_sdp_media_get_format(offered, f), 10, 0, 127, &pt,
                                      nullptr))
        continue;
      GstCaps* caps = codec_caps(offered, static_cast<guint>(pt));
      if (!caps) continue;
      const GstStructure* s = gst_caps_get_structure(caps, 0);
      offered_codecs.push_back(codec_name(s));
      bool accepted = false;
      for (guint c = 0; c < gst_caps_get_size(codecs) && !accepted; ++c)
        accepted = codec_accepts(gst_caps_get_structure(codecs, c), s);
      if (accepted)
        taken.push_back(caps);
      else
        gst_caps_unref(caps);
    }
    if (taken.empty()) {
      reject("no codec in common with the ones given");
      continue;
    }
    auto release = [&] {
      for (GstCaps* caps : taken) gst_caps_unref(caps);
    };
    if (!has_attribute(offered, "rtcp-mux")) {
      release();
      return dt::Error{where +
                       " has no a=rtcp-mux: this transport multiplexes RTP and RTCP on one "
                       "component (RFC 5761, RFC 8843 §9); a peer that needs a separate RTCP "
                       "port cannot be answered"};
    }
    for (GstCaps* caps : taken) {
      const GstStructure* s = gst_caps_get_structure(caps, 0);
      gint pt = -1;
      gst_structure_get_int(s, "payload", &pt);
      if (const GstStructure* before = find_payload(out.pt_map, pt)) {
        if (!codec_is(before, s)) {
          release();
          return dt::Error{"payload type " + std::to_string(pt) +
                           " means two different codecs in two m= sections (" + where +
                           " and an earlier one): this transport demultiplexes received RTP by "
                           "payload type"};
        }
        continue;
      }
      gst_caps_append_structure(out.pt_map, gst_structure_copy(s));
    }

    GstSDPMedia* media = nullptr;
    gst_sdp_media_new(&media);
    gst_sdp_media_set_media(media, gst_sdp_media_get_media(offered));
    gst_sdp_media_set_proto(media, gst_sdp_media_get_proto(offered));
    set_default_address(media, local);
    for (GstCaps* caps : taken) {
      gint pt = -1;
      gst_structure_get_int(gst_caps_get_structure(caps, 0), "payload", &pt);
      gst_sdp_media_add_format(media, std::to_string(pt).c_str());
    }
    if (const gchar* mid = gst_sdp_media_get_attribute_val(offered, "mid")) {
      gst_sdp_media_add_attribute(media, "mid", mid);
      taken_mids.emplace_back(mid);
    }
    add_local_transport(media, local, !transport_written);
    transport_written = true;
    gst_sdp_media_add_attribute(media, answer_direction(media_direction(remote, offered)), "");
    for (GstCaps* caps : taken) {
      gint pt = -1;
      gst_structure_get_int(gst_caps_get_structure(caps, 0), "payload", &pt);
      copy_format_attributes(offered, media, pt);
    }
    add_wildcard_feedback(offered, media);
    release();
    gst_sdp_message_add_media(message.get(), media);
    gst_sdp_media_free(media);
    any_taken = true;
  }
  if (!any_taken) {
    if (!rtp_offered)
      return dt::Error{"nothing we can take: " +
                       dt::abbreviate(dt::join_list(out.rejected, "; "), 512)};
    if (no_codecs) return codecs_ok.error();
    std::vector<std::string> wanted;
    for (guint c = 0; c < gst_caps_get_size(codecs); ++c)
      wanted.push_back(codec_name(gst_caps_get_structure(codecs, c)));
    return dt::Error{"no common codec: the offer has " +
                     (offered_codecs.empty()
                          ? std::string("no RTP codec")
                          : dt::abbreviate(dt::join_list(offered_codecs, ", "), 256)) +
                     "; we send and accept " + dt::join_list(wanted, ", ") + " (" +
                     dt::abbreviate(dt::join_list(out.rejected, "; "), 512) + ")"};
  }
  if (!taken_mids.empty()) {
    std::string group = "BUNDLE";
    for (const auto& mid : taken_mids) group += " " + mid;
    gst_sdp_message_add_attribute(message.get(), "group", group.c_str());
  }
  out.text = message_text(message.get());
  return out;
}

}  // namespace gstdtls
