// Remote ICE candidates as applications signal them (RFC 8839 §5.1): checked here, before
// libnice sees them, so a bad line is refused with a reason instead of being misread (libnice
// reads a non-numeric port as 0 without complaint).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "result.hpp"

namespace gstdtls {

// Accepts "candidate:…" or "a=candidate:…", surrounding white space, and extra fields after the
// type (generation, network-id, ufrag… as browsers send them). Only UDP candidates of component 1
// (RTP and RTCP share it, RFC 5761) with an IP address (mDNS ".local" names cannot be resolved)
// are usable. Returns the "a=candidate:…" line libnice parses, holding the eight mandatory fields
// and raddr/rport; else an error saying which field is wrong and why.
dtlstransport::Result<std::string> normalize_remote_candidate(std::string_view line);

// The lines of the remote-candidates property: separated by ';', trimmed, empty ones dropped.
std::vector<std::string> split_candidate_list(std::string_view text);

// The remote-candidates property's value: the lines, each without "a=", separated by ';'.
std::string join_candidate_list(const std::vector<std::string>& lines);

// "a=candidate:…" → "candidate:…", the form of local-candidates and on-local-candidate (what
// RTCIceCandidate.candidate holds); a line without "a=" is returned as it is.
std::string without_attribute_prefix(std::string_view line);

}  // namespace gstdtls
