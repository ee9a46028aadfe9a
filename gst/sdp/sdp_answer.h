// Our answer to a remote offer (RFC 8829 §5.3, RFC 3264 §6): one m= section per offered one, in
// the offer's order with its mids; every section we take is BUNDLEd on our one transport
// (RFC 8843 §7.3) with a=rtcp-mux; a section we cannot take is rejected with port 0.
#pragma once

#include <gst/gst.h>

#include <optional>
#include <string>
#include <vector>

#include "sdp_local.h"
#include "sdp_remote.h"

namespace gstdtls {

struct Answer {
  std::string text;
  // What the peer will send us (the taken codecs of every taken section, the offer's payload
  // types, with its a=fmtp and a=rtcp-fb as fields): the new pt-map. Owned.
  GstCaps* pt_map = nullptr;
  // "<section>: <why>" for each section answered with port 0.
  std::vector<std::string> rejected;
  // The peer's a=sctp-port and a=max-message-size when we take its m=application section.
  std::optional<SctpParameters> remote_sctp;

  Answer() = default;
  Answer(Answer&& other) noexcept;
  Answer& operator=(Answer&& other) noexcept;
  ~Answer();
};

// The answer to `offer` from `local` and `codecs` (what the application sends and accepts,
// sdp_codecs.h; their payload fields are not used: the offer's payload types are; NULL or empty
// for a data-only answer). A section is rejected (port 0) when it is already rejected, is neither
// RTP over DTLS-SRTP (UDP/TLS/RTP/SAVP(F)) nor data channels (UDP/DTLS/SCTP
// webrtc-datachannel, sdp_application.h), is not in the BUNDLE group while another section is
// taken, has no codec in `codecs`, or is a second m=application section (one SCTP association).
// Errors: no section left (no common codec), a section we take without a=rtcp-mux (RFC 8843
// §9), one payload type that means different codecs in two sections (the bin demultiplexes by
// payload type).
dtlstransport::Result<Answer> make_answer(const RemoteDescription& offer, const GstCaps* codecs,
                                          const LocalParameters& local);

}  // namespace gstdtls
