#include "ice_server_url.h"

#include <gio/gio.h>
#include <gst/gst.h>

#include <memory>
#include <string>

#include "text.hpp"

namespace gstdtls {
namespace {

using dtlstransport::Error;

constexpr unsigned kDefaultPort = 3478;     // RFC 7064 §3.1, RFC 7065 §3.1
constexpr unsigned kDefaultTlsPort = 5349;  // RFC 7065 §3.1 (turns)

struct UriUnref {
  void operator()(GstUri* uri) const { gst_uri_unref(uri); }
};

std::string unescape(const char* text) {
  gchar* unescaped = g_uri_unescape_string(text, nullptr);
  std::string out = unescaped ? unescaped : "";
  g_free(unescaped);
  return out;
}

}  // namespace

namespace {

// Where the authority ("user:password@host:port") of `text` is, after "scheme://"; npos when
// there is no "://".
struct Authority {
  size_t begin = std::string_view::npos, end = std::string_view::npos;
  size_t at = std::string_view::npos;  // the '@' ending the userinfo, if any
};

Authority find_authority(std::string_view text) {
  Authority a;
  const size_t separator = text.find("://");
  if (separator == std::string_view::npos) return a;
  a.begin = separator + 3;
  a.end = text.find_first_of("/?#", a.begin);
  if (a.end == std::string_view::npos) a.end = text.size();
  a.at = text.substr(a.begin, a.end - a.begin).rfind('@');
  if (a.at != std::string_view::npos) a.at += a.begin;
  return a;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = g_ascii_tolower(c);
  return out;
}

}  // namespace

dtlstransport::Result<IceServerUrl> parse_ice_server_url(std::string_view text,
                                                         IceServerKind kind) {
  // The userinfo (a TURN server's credentials) is split off here, before GstUri sees the text:
  // GstUri logs a URI it cannot parse whole (GST_URI debug category), and no error below echoes
  // any part of the text, so a password reaches no message and no log, however malformed the URL.
  const bool turn = kind == IceServerKind::Turn;
  const char* const wrong_scheme =
      turn ? "scheme must be turn:// or turns://" : "scheme must be stun://";
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return Error{wrong_scheme};
  const std::string scheme = lower(text.substr(0, colon));
  if (turn ? !(scheme == "turn" || scheme == "turns") : scheme != "stun")
    return Error{wrong_scheme};
  const Authority authority = find_authority(text);
  if (authority.begin == std::string_view::npos || authority.begin != colon + 3)
    return Error{"no host"};  // "stun:host" has a path, not a host
  const std::string_view after_scheme = text.substr(authority.begin);
  for (const char* again : {"stun:", "turn:", "turns:"}) {
    if (lower(after_scheme.substr(0, std::char_traits<char>::length(again))) == again)
      return Error{"the scheme is written twice"};
  }
  // "turn://alice:S3cret" (no '@host'): the authority would be read as host and port, and the
  // password would reach GstUri as a port.
  if (turn && authority.at == std::string_view::npos) return Error{"needs user:password@"};
  std::string_view userinfo;
  if (authority.at != std::string_view::npos) {
    userinfo = text.substr(authority.begin, authority.at - authority.begin);
    if (userinfo.find('@') != std::string_view::npos)
      return Error{
          "more than one '@' before the host (write '@' in a user name or password as "
          "%40)"};
  }
  std::string without_userinfo(text.substr(0, authority.begin));
  without_userinfo +=
      text.substr(authority.at == std::string_view::npos ? authority.begin : authority.at + 1);

  // GstUri (not GUri): the parser these properties have always used, so the same URLs work.
  std::unique_ptr<GstUri, UriUnref> uri(gst_uri_from_string_escaped(without_userinfo.c_str()));
  if (!uri) return Error{"not a URI"};
  IceServerUrl url;
  url.tls = scheme == "turns";
  const gchar* host = gst_uri_get_host(uri.get());
  if (!host || !*host) return Error{"no host"};
  url.host = host;
  url.port = gst_uri_get_port(uri.get());
  if (url.port == GST_URI_NO_PORT) url.port = url.tls ? kDefaultTlsPort : kDefaultPort;
  if (url.port > 65535) return Error{"port must be 1-65535"};
  // RFC 7065 §3.1: a TURN URI may end in "?transport=udp" or "?transport=tcp"; nothing else
  // takes a query.
  gchar* query_text = gst_uri_get_query_string(uri.get());
  const bool query = query_text != nullptr;
  const std::string transport = query ? lower(query_text) : "";
  g_free(query_text);
  if (query && !turn) return Error{"a stun:// URL takes no '?' query"};
  if (turn && query) {
    if (transport == "transport=tcp") {
      url.transport = TurnTransport::Tcp;
    } else if (transport == "transport=udp" && !url.tls) {
      url.transport = TurnTransport::Udp;
    } else if (transport == "transport=udp") {
      return Error{"turns:// runs over TCP (TLS): ?transport=udp cannot be used with it"};
    } else {
      return Error{"the query must be ?transport=udp or ?transport=tcp"};
    }
  } else if (url.tls) {
    url.transport = TurnTransport::Tcp;
  }
  if (turn) {
    // Split at the first ':' of the escaped form, so an encoded ':' ("%3A") stays in the user
    // name; each part is unescaped once.
    const size_t split = userinfo.find(':');
    if (authority.at == std::string_view::npos || split == std::string_view::npos)
      return Error{"needs user:password@"};
    url.username = unescape(std::string(userinfo.substr(0, split)).c_str());
    url.password = unescape(std::string(userinfo.substr(split + 1)).c_str());
  }
  return url;
}

std::string printable_ice_server_url(std::string_view text) {
  const Authority authority = find_authority(text);
  std::string out(text);
  if (authority.at != std::string_view::npos) {
    out = std::string(text.substr(0, authority.begin)) + "(credentials not shown)@" +
          std::string(text.substr(authority.at + 1));
  } else if (text.find('@') != std::string_view::npos) {
    // No "scheme://": whatever precedes the last '@' may be a credential.
    out = "(not shown)@" + std::string(text.substr(text.rfind('@') + 1));
  } else if (authority.begin != std::string_view::npos) {
    // No '@': shown when it reads as host[:port]; "turn://alice:S3cret" does not.
    const std::string_view hostport = text.substr(authority.begin, authority.end - authority.begin);
    const size_t last_colon = hostport.rfind(':');
    bool plausible = last_colon == std::string_view::npos || hostport.back() == ']';
    if (!plausible) {
      const std::string_view port = hostport.substr(last_colon + 1);
      plausible = !port.empty();
      for (char c : port) plausible = plausible && g_ascii_isdigit(c);
    }
    if (!plausible) out = std::string(text.substr(0, authority.begin)) + "(not shown)";
  }
  return dtlstransport::abbreviate(out);
}

dtlstransport::Result<std::string> resolve_ice_server_host(const std::string& host) {
  if (g_hostname_is_ip_address(host.c_str())) return host;
  GResolver* resolver = g_resolver_get_default();
  GError* error = nullptr;
  GList* addresses = g_resolver_lookup_by_name(resolver, host.c_str(), nullptr, &error);
  g_object_unref(resolver);
  if (!addresses) {
    std::string why = "cannot resolve " + host + ": " + (error ? error->message : "?");
    g_clear_error(&error);
    return Error{why};
  }
  gchar* text = g_inet_address_to_string(G_INET_ADDRESS(addresses->data));
  std::string ip = text;
  g_free(text);
  g_resolver_free_addresses(addresses);
  return ip;
}

}  // namespace gstdtls
