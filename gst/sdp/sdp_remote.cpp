#include "sdp_remote.h"

#include <string>

#include "ice/ice_candidate.h"
#include "ice/ice_credentials.h"
#include "text.hpp"

namespace dt = dtlstransport;

namespace gstdtls {
namespace {

// The m= section whose transport the peer uses: the BUNDLE group's first (RFC 8843 §7: the
// offerer-tagged section) if it is there with a port, else the first section with a port.
dt::Result<guint> transport_section(const GstSDPMessage* message,
                                    const std::vector<std::string>& bundle) {
  const guint n = gst_sdp_message_medias_len(message);
  if (!bundle.empty()) {
    for (guint i = 0; i < n; ++i) {
      const GstSDPMedia* media = gst_sdp_message_get_media(message, i);
      const gchar* mid = gst_sdp_media_get_attribute_val(media, "mid");
      if (mid && bundle.front() == mid) return i;
    }
  }
  for (guint i = 0; i < n; ++i)
    if (gst_sdp_media_get_port(gst_sdp_message_get_media(message, i)) != 0) return i;
  return dt::Error{"every m= section has port 0 (all rejected): nothing to connect"};
}

std::vector<std::string> bundle_group(const GstSDPMessage* message) {
  for (guint i = 0;; ++i) {
    const gchar* group = gst_sdp_message_get_attribute_val_n(message, "group", i);
    if (!group) return {};
    std::vector<std::string> words = dt::split_list(group, ' ');
    if (!words.empty() && words.front() == "BUNDLE")
      return std::vector<std::string>(words.begin() + 1, words.end());
  }
}

// Every a=fingerprint of the section, else of the session (RFC 8122 §5: one or more).
dt::Result<std::vector<dt::Fingerprint>> fingerprints(const GstSDPMessage* message,
                                                      const GstSDPMedia* media,
                                                      const std::string& where) {
  std::vector<dt::Fingerprint> out;
  std::vector<std::string> refused;
  auto collect = [&](auto get) {
    for (guint i = 0;; ++i) {
      const gchar* text = get(i);
      if (!text) break;
      auto parsed = dt::Fingerprint::parse(text);
      if (parsed)
        out.push_back(std::move(parsed).value());
      else
        refused.push_back(parsed.error().message);
    }
  };
  collect([&](guint i) { return gst_sdp_media_get_attribute_val_n(media, "fingerprint", i); });
  if (out.empty() && refused.empty())
    collect(
        [&](guint i) { return gst_sdp_message_get_attribute_val_n(message, "fingerprint", i); });
  if (!out.empty()) return out;
  if (refused.empty())
    return dt::Error{"no a=fingerprint in " + where +
                     " nor at session level: the peer's DTLS certificate could not be verified "
                     "(RFC 8122 §5, RFC 8842 §5)"};
  return dt::Error{"no usable a=fingerprint in " + where + ": " + dt::join_list(refused, "; ")};
}

dt::Result<SdpSetup> setup_of(const GstSDPMessage* message, const GstSDPMedia* media,
                              const std::string& where) {
  const gchar* text = media_or_session_attribute(message, media, "setup");
  if (!text) return SdpSetup::Active;  // RFC 4145 §4
  const std::string value(dt::trim(text));
  if (value == "actpass") return SdpSetup::ActPass;
  if (value == "active") return SdpSetup::Active;
  if (value == "passive") return SdpSetup::Passive;
  if (value == "holdconn")
    return dt::Error{"a=setup:holdconn in " + where +
                     ": the peer holds the connection (RFC 4145 §4), no DTLS handshake can start; "
                     "it must say actpass, active or passive (RFC 8842 §5)"};
  return dt::Error{"a=setup:" + dt::abbreviate(value) + " in " + where +
                   " is not actpass, active, passive or holdconn"};
}

bool is_tcp_candidate(const std::string& value) {
  std::vector<std::string> fields = dt::split_list(value, ' ');
  return fields.size() > 2 && g_ascii_strcasecmp(fields[2].c_str(), "tcp") == 0;
}

// RFC 8445 runs over UDP here (libnice is configured for UDP only): a section whose candidates
// are all TCP (RFC 6544) cannot connect.
dt::Status check_not_tcp_only(const GstSDPMedia* media, guint index) {
  guint tcp = 0, total = 0;
  for (guint i = 0;; ++i) {
    const gchar* value = gst_sdp_media_get_attribute_val_n(media, "candidate", i);
    if (!value) break;
    ++total;
    if (is_tcp_candidate(value)) ++tcp;
  }
  if (total > 0 && tcp == total)
    return dt::Error{describe_media(media, index) + " has only TCP candidates (" +
                     std::to_string(tcp) +
                     "): this transport connects over UDP only (RFC 8445; ICE-TCP, RFC 6544, is "
                     "not supported)"};
  return {};
}

}  // namespace

const char* sdp_setup_name(SdpSetup setup) {
  switch (setup) {
    case SdpSetup::ActPass:
      return "actpass";
    case SdpSetup::Active:
      return "active";
    default:
      return "passive";
  }
}

const gchar* media_or_session_attribute(const GstSDPMessage* message, const GstSDPMedia* media,
                                        const char* key) {
  const gchar* value = gst_sdp_media_get_attribute_val(media, key);
  return value ? value : gst_sdp_message_get_attribute_val(message, key);
}

std::string describe_media(const GstSDPMedia* media, guint index) {
  const gchar* kind = gst_sdp_media_get_media(media);
  const gchar* mid = gst_sdp_media_get_attribute_val(media, "mid");
  return std::string("m=") + (kind ? kind : "?") +
         (mid ? " (mid " + dt::abbreviate(mid, 32) + ")"
              : " (section " + std::to_string(index + 1) + ")");
}

std::string media_direction(const GstSDPMessage* message, const GstSDPMedia* media) {
  for (const char* direction : {"sendrecv", "sendonly", "recvonly", "inactive"})
    if (gst_sdp_media_get_attribute_val(media, direction)) return direction;
  for (const char* direction : {"sendrecv", "sendonly", "recvonly", "inactive"})
    if (gst_sdp_message_get_attribute_val(message, direction)) return direction;
  return "sendrecv";
}

dt::Result<RemoteDescription> parse_remote_description(std::string_view text) {
  if (dt::trim(text).empty()) return dt::Error{"the SDP is empty"};
  GstSDPMessage* raw = nullptr;
  const std::string copy(text);
  if (gst_sdp_message_new_from_text(copy.c_str(), &raw) != GST_SDP_OK || !raw)
    return dt::Error{"not an SDP message (RFC 8866)"};
  RemoteDescription out;
  out.message.reset(raw);
  const GstSDPMessage* message = raw;
  if (gst_sdp_message_medias_len(message) == 0)
    return dt::Error{"no m= section: nothing to send or receive"};
  out.bundle = bundle_group(message);

  auto index = transport_section(message, out.bundle);
  if (!index) return index.error();
  RemoteTransport& t = out.transport;
  t.media_index = *index;
  const GstSDPMedia* media = gst_sdp_message_get_media(message, t.media_index);
  const std::string where = describe_media(media, t.media_index);

  const gchar* ufrag = media_or_session_attribute(message, media, "ice-ufrag");
  const gchar* pwd = media_or_session_attribute(message, media, "ice-pwd");
  if (!ufrag || !pwd)
    return dt::Error{std::string("no a=") + (ufrag ? "ice-pwd" : "ice-ufrag") + " in " + where +
                     " nor at session level: ICE needs the peer's credentials (RFC 8839 §5.4)"};
  t.ufrag = dt::trim(ufrag);
  t.pwd = dt::trim(pwd);
  if (dt::Status ok = check_ice_ufrag(t.ufrag); !ok)
    return dt::Error{"a=ice-ufrag in " + where + ": " + ok.error().message};
  if (dt::Status ok = check_ice_pwd(t.pwd); !ok)
    return dt::Error{"a=ice-pwd in " + where + ": " + ok.error().message};

  auto fps = fingerprints(message, media, where);
  if (!fps) return fps.error();
  t.fingerprints = std::move(fps).value();
  auto setup = setup_of(message, media, where);
  if (!setup) return setup.error();
  t.setup = *setup;
  t.ice_lite = gst_sdp_message_get_attribute_val(message, "ice-lite") != nullptr;

  for (guint i = 0; i < gst_sdp_message_medias_len(message); ++i) {
    const GstSDPMedia* m = gst_sdp_message_get_media(message, i);
    if (gst_sdp_media_get_port(m) == 0) continue;
    if (dt::Status ok = check_not_tcp_only(m, i); !ok) return ok.error();
  }
  for (guint i = 0;; ++i) {
    const gchar* value = gst_sdp_media_get_attribute_val_n(media, "candidate", i);
    if (!value) break;
    const std::string line = std::string("candidate:") + value;
    auto normalized = normalize_remote_candidate(line);
    if (normalized)
      t.candidates.push_back(std::move(normalized).value());
    else
      t.refused_candidates.push_back(dt::abbreviate(line, 128) + ": " + normalized.error().message);
  }
  t.end_of_candidates = gst_sdp_media_get_attribute_val(media, "end-of-candidates") != nullptr ||
                        gst_sdp_message_get_attribute_val(message, "end-of-candidates") != nullptr;
  return out;
}

}  // namespace gstdtls
