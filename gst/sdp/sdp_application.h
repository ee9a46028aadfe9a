// Data channels in SDP (RFC 8841: SCTP over DTLS; RFC 8832's DCEP runs on that association): the
// m=application section "UDP/DTLS/SCTP webrtc-datachannel" with a=sctp-port and
// a=max-message-size, read from a peer's description and written into ours. The section shares
// the BUNDLE transport with the media (RFC 8843); the SCTP association itself is the bin's
// (sctp-port, remote-sctp-port, max-message-size).
#pragma once

#include <gst/sdp/sdp.h>

#include <string>

#include "result.hpp"

namespace gstdtls {

// RFC 8841 §5: the SCTP port when a=sctp-port is absent (and webrtcbin's, browsers' usual one).
inline constexpr guint kDefaultSctpPort = 5000;
// RFC 8841 §6.1: a peer that says no a=max-message-size accepts messages of 64 KiB.
inline constexpr guint64 kDefaultMaxMessageSize = 65536;
// What we say we accept (our a=max-message-size): 64 KiB. A larger message would reach the
// application in pieces: gst-plugins-bad 1.22's sctpdec drops usrsctp's end-of-record flag, and
// usrsctp delivers a message in parts from its 64 KiB partial-delivery point on (docs/element.md,
// Message size).
inline constexpr guint64 kLocalMaxMessageSize = 65536;

// One side's SCTP parameters as SDP carries them.
struct SctpParameters {
  guint port = kDefaultSctpPort;  // a=sctp-port, 1-65535
  // a=max-message-size: the largest message this side accepts; 0 = any size (RFC 8841 §6.1).
  guint64 max_message_size = kDefaultMaxMessageSize;
};

// Whether `media` is an m=application section (data channels, or something we do not know).
bool is_application_section(const GstSDPMedia* media);

// The peer's SCTP parameters from its m=application section `where` names. Errors say why the
// section cannot carry our data channels: another protocol than UDP/DTLS/SCTP (the pre-RFC 8841
// "DTLS/SCTP 5000" + a=sctpmap form, TCP/DTLS/SCTP, anything else), no webrtc-datachannel
// format, an a=sctp-port or a=max-message-size that is not a number in range.
dtlstransport::Result<SctpParameters> read_application_section(const GstSDPMedia* media,
                                                               const std::string& where);

// Fills `media` with our side of the section: m=application <port set by the caller>
// UDP/DTLS/SCTP webrtc-datachannel, a=sctp-port, a=max-message-size.
void add_application_section(GstSDPMedia* media, const SctpParameters& local);

}  // namespace gstdtls
