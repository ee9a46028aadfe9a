// A remote session description (an offer or an answer, RFC 8829 JSEP): parsed with GStreamer's
// GstSDPMessage and read into what this transport uses — ICE credentials and candidates
// (RFC 8839), DTLS fingerprints and a=setup (RFC 8122, RFC 8842), the BUNDLE group (RFC 8843) —
// with the checks that apply to the whole description. Per-m= section decisions (codecs,
// rtcp-mux) are the answer's and the offer's (sdp_answer.h, sdp_offer.h).
#pragma once

#include <gst/sdp/sdp.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fingerprint.hpp"
#include "result.hpp"

namespace gstdtls {

struct SdpMessageDeleter {
  void operator()(GstSDPMessage* message) const { gst_sdp_message_free(message); }
};
using SdpMessagePtr = std::unique_ptr<GstSDPMessage, SdpMessageDeleter>;

// a=setup (RFC 4145 §4, RFC 8842 §5); holdconn is refused when parsing.
enum class SdpSetup { ActPass, Active, Passive };
const char* sdp_setup_name(SdpSetup setup);

// The transport the peer describes, from the m= section it is carried in (the first of the
// BUNDLE group, else the first m= section with a port; attributes there or at session level).
struct RemoteTransport {
  guint media_index = 0;  // the m= section
  std::string ufrag, pwd;
  std::vector<dtlstransport::Fingerprint> fingerprints;
  SdpSetup setup = SdpSetup::Active;  // RFC 4145 §4: absent means active
  bool ice_lite = false;
  // "a=candidate:…" lines normalized for libnice (ice_candidate.h), and those refused, each
  // "<line>: <why>" (mDNS names, component 2, TCP when UDP ones exist).
  std::vector<std::string> candidates;
  std::vector<std::string> refused_candidates;
  bool end_of_candidates = false;
};

struct RemoteDescription {
  SdpMessagePtr message;
  RemoteTransport transport;
  std::vector<std::string> bundle;  // mids of the first a=group:BUNDLE, in order
};

// Parses `text` and checks what every use needs: at least one m= section, ICE ufrag and
// password, one usable a=fingerprint (any hash fingerprint.hpp knows; others are skipped while
// one is usable), a=setup other than holdconn, and candidates of the transport's m= section that
// are not TCP only. The error says what is missing or wrong, where, and why.
dtlstransport::Result<RemoteDescription> parse_remote_description(std::string_view text);

// The value of attribute `key` in m= section `media`, else at session level; NULL if neither.
const gchar* media_or_session_attribute(const GstSDPMessage* message, const GstSDPMedia* media,
                                        const char* key);

// "m=video (mid 0)" or "m=video (section 2)": where an error is.
std::string describe_media(const GstSDPMedia* media, guint index);

// The direction attribute of an m= section (sendrecv when absent, RFC 3264 §5.1).
std::string media_direction(const GstSDPMessage* message, const GstSDPMedia* media);

}  // namespace gstdtls
