// STUN and TURN server URLs as the stun-server and turn-server properties and add-turn-server take
// them: "stun://host[:port]" (RFC 7064) and "turn://user:password@host[:port][?transport=udp|tcp]"
// or "turns://…" (RFC 7065; the credentials in the userinfo, as GStreamer's webrtcbin takes them).
#pragma once

#include <string>
#include <string_view>

#include "result.hpp"

namespace gstdtls {

enum class IceServerKind { Stun, Turn };

// How a TURN client reaches its server (RFC 7065 §3.1 "?transport="): UDP, or TCP (turns:// is
// always TCP, with TLS on top). The relayed address is UDP either way (RFC 8656 §3.1).
enum class TurnTransport { Udp, Tcp };

struct IceServerUrl {
  std::string host;   // as written: a name or an IP address
  unsigned port = 0;  // the default when absent: 3478, or 5349 for turns (RFC 7065 §3)
  bool tls = false;   // turns://
  TurnTransport transport = TurnTransport::Udp;  // TURN only: ?transport=, TCP for turns://
  std::string username, password;                // TURN only, percent-decoded
};

// Splits `text` into its parts; an error says what is missing or wrong ("scheme must be
// stun://"). Does not look the host up (see resolve_ice_server_host). Parses with GstUri, so
// gst_init() must have run.
dtlstransport::Result<IceServerUrl> parse_ice_server_url(std::string_view text, IceServerKind kind);

// `text` as a message may show it: any userinfo (user name and password) replaced by
// "(credentials not shown)", abbreviated (text.hpp). For messages about a URL that was refused.
std::string printable_ice_server_url(std::string_view text);

// The IP address libnice needs for `host`: an IP address is returned as it is, a name is looked
// up (blocking: call it off the streaming threads) and its first address is returned.
dtlstransport::Result<std::string> resolve_ice_server_host(const std::string& host);

}  // namespace gstdtls
