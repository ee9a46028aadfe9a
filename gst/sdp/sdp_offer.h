// Our offer (RFC 8829 §5.2): one m= section per media kind of the application's codecs (in the
// order they come), then an m=application section for data channels when `local.data_channels`
// (RFC 8841), mids "0", "1", …, all in one BUNDLE group on our one transport, RTP with
// a=rtcp-mux; and reading the peer's answer against it (RFC 3264 §6, §7).
#pragma once

#include <gst/gst.h>

#include <optional>
#include <string>

#include "sdp_local.h"
#include "sdp_remote.h"

namespace gstdtls {

// The offer's text; `codecs` as check_codec_list(…, true) wants them (with payload types), or
// NULL / empty for a data-only offer (then `local.data_channels` must be set).
dtlstransport::Result<std::string> make_offer(const GstCaps* codecs, const LocalParameters& local);

// What the answer to `offer` (our offer's text) says we will receive: its taken sections' codecs
// that we offered, with the answer's payload types and a=fmtp / a=rtcp-fb as fields (a new
// pt-map; the caller owns it), and in `sctp` the peer's a=sctp-port and a=max-message-size when
// it takes our m=application section (left empty when it rejects it). Errors: a different number
// of m= sections or another mid at a place (RFC 3264 §6), a taken section without a=rtcp-mux, a
// taken section with no codec we offered, an m=application section answered with something
// other than UDP/DTLS/SCTP webrtc-datachannel, every section rejected.
dtlstransport::Result<GstCaps*> read_answer(const std::string& offer,
                                            const RemoteDescription& answer,
                                            std::optional<SctpParameters>* sctp);

}  // namespace gstdtls
