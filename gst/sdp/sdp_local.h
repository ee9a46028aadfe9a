// What we say about ourselves in an offer or an answer (RFC 8829 §5.2, §5.3): the session lines
// and, in each m= section we use, our ICE credentials, candidates gathered so far (RFC 8840
// trickle: more follow through on-local-candidate), a=end-of-candidates once gathering is
// complete, our certificate's fingerprint, a=setup and a=rtcp-mux.
#pragma once

#include <gst/sdp/sdp.h>

#include <string>
#include <vector>

#include "sdp_application.h"
#include "sdp_remote.h"

namespace gstdtls {

struct LocalParameters {
  std::string ufrag, pwd;
  std::string fingerprint;              // "sha-256 AB:CD:…"
  std::vector<std::string> candidates;  // "candidate:…"
  bool gathering_complete = false;
  SdpSetup setup = SdpSetup::ActPass;
  // Data channels: our a=sctp-port and a=max-message-size, and whether an offer has an
  // m=application section (sdp_application.h).
  SctpParameters sctp;
  bool data_channels = false;
};

// A new message with v=, o= (a random session id, RFC 8829 §5.2.1), s=- and t=0 0.
SdpMessagePtr new_local_message();

// The m= port and c= address: our first candidate's (the default candidate, RFC 8839 §4.2.1.2),
// else 9 and 0.0.0.0 (RFC 8840 §4.1.1: no candidate yet).
void set_default_address(GstSDPMedia* media, const LocalParameters& local);

// a=ice-ufrag, a=ice-pwd, a=fingerprint, a=setup, a=rtcp-mux (RTP sections only: an
// m=application section has no RTCP, RFC 8841); with `with_candidates`, the candidates and
// a=end-of-candidates (only in the BUNDLE transport's section, RFC 8843 §7).
void add_local_transport(GstSDPMedia* media, const LocalParameters& local, bool with_candidates,
                         bool rtcp_mux = true);

// The message as text, CRLF-terminated lines.
std::string message_text(const GstSDPMessage* message);

}  // namespace gstdtls
