#include "ice_server_url.h"

#include <gio/gio.h>
#include <gst/gst.h>

#include <memory>

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

dtlstransport::Result<IceServerUrl> parse_ice_server_url(std::string_view text,
                                                         IceServerKind kind) {
  // GstUri (not GUri): the parser these properties have always used, so the same URLs work.
  // The escaped form keeps "%3A" in the userinfo as it is, so a ':' inside a percent-encoded
  // user name does not split it; each part is unescaped once below.
  std::unique_ptr<GstUri, UriUnref> uri(gst_uri_from_string_escaped(std::string(text).c_str()));
  if (!uri) return Error{"not a URI"};
  const gchar* scheme = gst_uri_get_scheme(uri.get());
  const bool turn = kind == IceServerKind::Turn;
  if (turn ? !(g_strcmp0(scheme, "turn") == 0 || g_strcmp0(scheme, "turns") == 0)
           : g_strcmp0(scheme, "stun") != 0)
    return Error{turn ? "scheme must be turn:// or turns://" : "scheme must be stun://"};
  IceServerUrl url;
  url.tls = g_strcmp0(scheme, "turns") == 0;
  const gchar* host = gst_uri_get_host(uri.get());
  if (!host) return Error{"no host"};
  url.host = host;
  url.port = gst_uri_get_port(uri.get());
  if (url.port == GST_URI_NO_PORT) url.port = url.tls ? kDefaultTlsPort : kDefaultPort;
  if (url.port > 65535) return Error{"port must be 1-65535"};
  if (turn) {
    const gchar* userinfo = gst_uri_get_userinfo(uri.get());
    gchar** parts = g_strsplit(userinfo ? userinfo : "", ":", 2);
    const bool complete = parts[0] && parts[1];
    if (complete) {
      url.username = unescape(parts[0]);
      url.password = unescape(parts[1]);
    }
    g_strfreev(parts);
    if (!complete) return Error{"needs user:password@"};
  }
  return url;
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
