// The glue's plain helpers: remote candidate lines, STUN/TURN URLs, ICE credentials, lists.
// No element, no network: resolve_ice_server_host is only given IP addresses.
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "ice_candidate.h"
#include "ice_credentials.h"
#include "ice_server_url.h"

namespace {

using gstdtls::IceServerKind;

// parse_ice_server_url parses with GstUri, which needs GStreamer initialized (the plugin always
// is).
class GstEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { gst_init(nullptr, nullptr); }
};
const auto* const kGstEnvironment = ::testing::AddGlobalTestEnvironment(new GstEnvironment);

// --- remote candidates --------------------------------------------------------------------------

constexpr const char* kHost = "candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host";

std::string normalized(const std::string& line) {
  auto result = gstdtls::normalize_remote_candidate(line);
  EXPECT_TRUE(result.ok()) << line << ": " << (result.ok() ? "" : result.error().message);
  return result.ok() ? result.value() : "";
}

// The reason for refusing `line`, or "" if it was accepted.
std::string refusal(const std::string& line) {
  auto result = gstdtls::normalize_remote_candidate(line);
  EXPECT_FALSE(result.ok()) << line << " was accepted as " << result.value();
  return result.ok() ? "" : result.error().message;
}

TEST(RemoteCandidate, HostCandidateGetsTheAttributePrefix) {
  EXPECT_EQ(normalized(kHost), std::string("a=") + kHost);
}

TEST(RemoteCandidate, AttributeFormAndWhiteSpaceAreAccepted) {
  EXPECT_EQ(normalized(std::string(" a=") + kHost + " \r\n"), std::string("a=") + kHost);
}

TEST(RemoteCandidate, BrowserExtensionFieldsAreDropped) {
  // What Chrome's RTCIceCandidate.candidate holds: generation, ufrag, network-id, network-cost.
  EXPECT_EQ(
      normalized(std::string(kHost) + " generation 0 ufrag EsAw network-id 1 network-cost 10"),
      std::string("a=") + kHost);
}

TEST(RemoteCandidate, RelatedAddressIsKeptAmongExtensions) {
  EXPECT_EQ(normalized("candidate:2 1 UDP 1686052607 203.0.113.7 61000 typ srflx raddr "
                       "192.0.2.1 rport 50000 generation 0 network-id 2"),
            "a=candidate:2 1 UDP 1686052607 203.0.113.7 61000 typ srflx raddr 192.0.2.1 rport "
            "50000");
}

TEST(RemoteCandidate, EveryTypeAndIpv6AreAccepted) {
  for (const char* type : {"host", "srflx", "prflx", "relay", "HOST"}) {
    std::string line = std::string("candidate:1 1 udp 1 2001:db8::1 9 typ ") + type;
    EXPECT_EQ(normalized(line), "a=" + line);
  }
}

TEST(RemoteCandidate, MaximumPriorityAndPortAreAccepted) {
  std::string line = "candidate:1 1 udp 4294967295 192.0.2.1 65535 typ host";
  EXPECT_EQ(normalized(line), "a=" + line);
}

TEST(RemoteCandidate, OtherLinesAreRefused) {
  EXPECT_EQ(refusal(""), "does not start with 'candidate:'");
  EXPECT_EQ(refusal("a=ice-ufrag:abcd"), "does not start with 'candidate:'");
  EXPECT_EQ(refusal("candidate 1 1 udp 1 192.0.2.1 9 typ host"),
            "does not start with 'candidate:'");
}

TEST(RemoteCandidate, MissingFieldsAreRefused) {
  EXPECT_NE(refusal("candidate:1 1 udp 2122260223 192.0.2.1 50000 typ").find("expected"),
            std::string::npos);
  EXPECT_NE(refusal("candidate:1 1 udp 2122260223 192.0.2.1 50000 type host").find("typ"),
            std::string::npos);
}

TEST(RemoteCandidate, RtcpComponentIsRefused) {
  EXPECT_EQ(refusal("candidate:1 2 udp 2122260223 192.0.2.1 50001 typ host"),
            "component 2 is not used (RTP and RTCP share component 1, RFC 5761)");
}

TEST(RemoteCandidate, TcpCandidatesAreRefused) {
  EXPECT_EQ(refusal("candidate:3 1 tcp 1518280447 192.0.2.1 9 typ host tcptype active"),
            "transport tcp is not supported (UDP only)");
  EXPECT_EQ(refusal("candidate:3 1 TCP 1518280447 192.0.2.1 9 typ host tcptype passive"),
            "transport TCP is not supported (UDP only)");
}

TEST(RemoteCandidate, MdnsNamesAreRefusedWithTheirOwnReason) {
  EXPECT_EQ(refusal("candidate:1 1 udp 2122260223 0d3c2d6e-0b5f-4b52.local 50000 typ host"),
            "mDNS address 0d3c2d6e-0b5f-4b52.local cannot be resolved (.local names are not "
            "supported)");
}

TEST(RemoteCandidate, HostNamesAreRefused) {
  EXPECT_EQ(refusal("candidate:1 1 udp 2122260223 example.org 50000 typ host"),
            "address example.org is not an IP address");
  EXPECT_EQ(refusal("candidate:1 1 udp 2122260223 192.0.2.300 50000 typ host"),
            "address 192.0.2.300 is not an IP address");
}

TEST(RemoteCandidate, BadPrioritiesAreRefused) {
  EXPECT_EQ(refusal("candidate:1 1 udp 4294967296 192.0.2.1 50000 typ host"),
            "priority 4294967296 is not a 32-bit number");
  EXPECT_EQ(refusal("candidate:1 1 udp -1 192.0.2.1 50000 typ host"),
            "priority -1 is not a 32-bit number");
}

TEST(RemoteCandidate, BadPortsAreRefused) {
  for (const char* port : {"0", "65536", "http", "-5", "5x"}) {
    EXPECT_EQ(refusal(std::string("candidate:1 1 udp 2122260223 192.0.2.1 ") + port + " typ host"),
              std::string("port ") + port + " is not a number in 1..65535");
  }
}

TEST(RemoteCandidate, UnknownTypesAreRefused) {
  EXPECT_EQ(refusal("candidate:1 1 udp 2122260223 192.0.2.1 50000 typ relayed"),
            "candidate type relayed is not host, srflx, prflx or relay");
}

TEST(RemoteCandidate, ListSplitsOnSemicolons) {
  EXPECT_EQ(gstdtls::split_candidate_list(std::string(kHost) + " ; ;a=" + kHost + ";"),
            (std::vector<std::string>{kHost, std::string("a=") + kHost}));
}

TEST(RemoteCandidate, ListIsJoinedWithoutAttributePrefix) {
  std::string other = "candidate:2 1 udp 1 192.0.2.2 9 typ host";
  EXPECT_EQ(gstdtls::join_candidate_list({std::string("a=") + kHost, "a=" + other}),
            std::string(kHost) + ";" + other);
  EXPECT_EQ(gstdtls::join_candidate_list({}), "");
}

TEST(RemoteCandidate, AttributePrefixIsRemovedOnlyWhenPresent) {
  EXPECT_EQ(gstdtls::without_attribute_prefix(std::string("a=") + kHost), kHost);
  EXPECT_EQ(gstdtls::without_attribute_prefix(kHost), kHost);
  EXPECT_EQ(gstdtls::without_attribute_prefix(""), "");
}

// --- STUN / TURN server URLs --------------------------------------------------------------------

gstdtls::IceServerUrl parsed(const std::string& text, IceServerKind kind) {
  auto result = gstdtls::parse_ice_server_url(text, kind);
  EXPECT_TRUE(result.ok()) << text << ": " << (result.ok() ? "" : result.error().message);
  return result.ok() ? result.value() : gstdtls::IceServerUrl{};
}

std::string url_refusal(const std::string& text, IceServerKind kind) {
  auto result = gstdtls::parse_ice_server_url(text, kind);
  EXPECT_FALSE(result.ok()) << text << " was accepted";
  return result.ok() ? "" : result.error().message;
}

TEST(IceServerUrl, StunWithPort) {
  auto url = parsed("stun://192.0.2.10:19302", IceServerKind::Stun);
  EXPECT_EQ(url.host, "192.0.2.10");
  EXPECT_EQ(url.port, 19302u);
  EXPECT_FALSE(url.tls);
  EXPECT_EQ(url.username, "");
}

TEST(IceServerUrl, StunNameWithDefaultPort) {
  auto url = parsed("stun://stun.example.org", IceServerKind::Stun);
  EXPECT_EQ(url.host, "stun.example.org");
  EXPECT_EQ(url.port, 3478u);
}

TEST(IceServerUrl, TurnWithCredentials) {
  auto url = parsed("turn://alice:s3cret@192.0.2.20:3479", IceServerKind::Turn);
  EXPECT_EQ(url.host, "192.0.2.20");
  EXPECT_EQ(url.port, 3479u);
  EXPECT_FALSE(url.tls);
  EXPECT_EQ(url.username, "alice");
  EXPECT_EQ(url.password, "s3cret");
}

TEST(IceServerUrl, TurnDefaultPortAndPasswordWithColon) {
  auto url = parsed("turn://bob:pa:ss@turn.example.org", IceServerKind::Turn);
  EXPECT_EQ(url.port, 3478u);
  EXPECT_EQ(url.username, "bob");
  EXPECT_EQ(url.password, "pa:ss");  // only the first ':' separates
}

TEST(IceServerUrl, TurnsIsTlsOnPort5349) {
  auto url = parsed("turns://carol:pw@turn.example.org", IceServerKind::Turn);
  EXPECT_TRUE(url.tls);
  EXPECT_EQ(url.port, 5349u);
  EXPECT_EQ(url.username, "carol");
  EXPECT_EQ(url.transport, gstdtls::TurnTransport::Tcp);
}

TEST(IceServerUrl, TurnTransportComesFromTheQuery) {
  using gstdtls::TurnTransport;
  EXPECT_EQ(parsed("turn://u:p@192.0.2.20", IceServerKind::Turn).transport, TurnTransport::Udp);
  auto tcp = parsed("turn://u:p@192.0.2.20:3479?transport=tcp", IceServerKind::Turn);
  EXPECT_EQ(tcp.transport, TurnTransport::Tcp);
  EXPECT_EQ(tcp.port, 3479u);
  EXPECT_EQ(tcp.host, "192.0.2.20");
  EXPECT_EQ(tcp.password, "p");
  EXPECT_EQ(parsed("turn://u:p@192.0.2.20?transport=udp", IceServerKind::Turn).transport,
            TurnTransport::Udp);
  EXPECT_EQ(parsed("turns://u:p@192.0.2.20?transport=tcp", IceServerKind::Turn).transport,
            TurnTransport::Tcp);
}

TEST(IceServerUrl, OtherQueriesAreRefused) {
  EXPECT_EQ(url_refusal("turn://u:p@192.0.2.20?transport=sctp", IceServerKind::Turn),
            "the query must be ?transport=udp or ?transport=tcp");
  EXPECT_EQ(url_refusal("turn://u:p@192.0.2.20?foo=bar", IceServerKind::Turn),
            "the query must be ?transport=udp or ?transport=tcp");
  EXPECT_EQ(url_refusal("turns://u:p@192.0.2.20?transport=udp", IceServerKind::Turn),
            "turns:// runs over TCP (TLS): ?transport=udp cannot be used with it");
  EXPECT_EQ(url_refusal("stun://192.0.2.20?transport=udp", IceServerKind::Stun),
            "a stun:// URL takes no '?' query");
}

TEST(IceServerUrl, TurnEmptyPasswordIsAccepted) {
  auto url = parsed("turn://dave:@192.0.2.20", IceServerKind::Turn);
  EXPECT_EQ(url.username, "dave");
  EXPECT_EQ(url.password, "");
}

TEST(IceServerUrl, PercentEncodedCredentialsAreDecodedOnce) {
  auto url = parsed("turn://u%3Ax:p%2540w@192.0.2.20", IceServerKind::Turn);
  EXPECT_EQ(url.username, "u:x");  // an encoded ':' stays inside the user name
  EXPECT_EQ(url.password, "p%40w");
}

TEST(IceServerUrl, PortsOutsideTheRangeAreRefused) {
  // ":0" cannot be told from no port at all (GST_URI_NO_PORT is 0): it means the default.
  EXPECT_EQ(url_refusal("stun://192.0.2.10:99999", IceServerKind::Stun), "port must be 1-65535");
}

TEST(IceServerUrl, WrongSchemesAreRefused) {
  EXPECT_EQ(url_refusal("turn://u:p@192.0.2.1", IceServerKind::Stun), "scheme must be stun://");
  EXPECT_EQ(url_refusal("http://192.0.2.1", IceServerKind::Stun), "scheme must be stun://");
  EXPECT_EQ(url_refusal("stun://192.0.2.1", IceServerKind::Turn),
            "scheme must be turn:// or turns://");
  EXPECT_EQ(url_refusal("stuns://192.0.2.1", IceServerKind::Stun), "scheme must be stun://");
}

TEST(IceServerUrl, MissingHostIsRefused) {
  EXPECT_EQ(url_refusal("stun://", IceServerKind::Stun), "no host");
  // Without "//" the rest is a path, not a host.
  EXPECT_EQ(url_refusal("stun:192.0.2.1:3478", IceServerKind::Stun), "no host");
}

TEST(IceServerUrl, TurnWithoutCredentialsIsRefused) {
  EXPECT_EQ(url_refusal("turn://192.0.2.20:3478", IceServerKind::Turn), "needs user:password@");
  EXPECT_EQ(url_refusal("turn://alice@192.0.2.20:3478", IceServerKind::Turn),
            "needs user:password@");
}

TEST(IceServerUrl, UnparsableUrisAreRefused) {
  EXPECT_EQ(url_refusal("stun://192.0.2.1:port", IceServerKind::Stun), "not a URI");
  EXPECT_EQ(url_refusal("stun://[2001:db8::1", IceServerKind::Stun), "not a URI");
}

TEST(IceServerUrl, TextWithoutSchemeIsRefused) {
  EXPECT_EQ(url_refusal("", IceServerKind::Stun), "scheme must be stun://");
  EXPECT_EQ(url_refusal("192.0.2.1:3478", IceServerKind::Turn),
            "scheme must be turn:// or turns://");
}

// Malformed TURN URLs with a password in them: the refusal, the printable form and every
// GStreamer log line (all categories at LOG level) are free of the password.
std::vector<std::string>& captured_log() {
  static std::vector<std::string> lines;
  return lines;
}

void capture(GstDebugCategory*, GstDebugLevel, const gchar*, const gchar*, gint, GObject*,
             GstDebugMessage* message, gpointer) {
  captured_log().push_back(gst_debug_message_get(message));
}

TEST(IceServerUrl, MalformedTurnUrlsNeverShowTheirPassword) {
  const char* const malformed[] = {
      "turn://turn://alice:S3cret@192.0.2.20",  // the scheme twice
      "turn://alice:S3cret@192.0.2.20:port",    // GstUri cannot parse the port
      "turn://alice:S3cret@[2001:db8::1",       // nor an unclosed IPv6 address
      "turn://alice:S3cret",                    // no '@': the whole authority is "host:port"
      "turn://@alice:S3cret@192.0.2.20",        // two '@'
      "turn://alice:S3cret@@192.0.2.20",
      "turn://alice:S3cret@",                           // no host
      "turn://alice:S3cret@192.0.2.20:99999",           // port out of range
      "turn:alice:S3cret@192.0.2.20",                   // no "//"
      "turn:///alice:S3cret@192.0.2.20",                // empty authority, credentials in the path
      "stun://alice:S3cret@192.0.2.20:port",            // credentials where none belong
      "turn://alice:S3cret@192.0.2.20?transport=sctp",  // a transport libnice has not
  };
  gst_debug_set_default_threshold(GST_LEVEL_LOG);
  (gst_debug_add_log_function)(capture, nullptr, nullptr);  // the function, not the macro
  std::string leaks;
  for (const char* text : malformed) {
    for (IceServerKind kind : {IceServerKind::Turn, IceServerKind::Stun}) {
      auto result = gstdtls::parse_ice_server_url(text, kind);
      if (result.ok() && kind == IceServerKind::Turn && result->password == "S3cret") continue;
      if (!result.ok() && result.error().message.find("S3cret") != std::string::npos)
        leaks += std::string("\n  refusal of ") + text + ": " + result.error().message;
    }
    const std::string printable = gstdtls::printable_ice_server_url(text);
    if (printable.find("S3cret") != std::string::npos)
      leaks += std::string("\n  printable form of ") + text + ": " + printable;
  }
  (gst_debug_remove_log_function)(capture);
  gst_debug_set_default_threshold(GST_LEVEL_NONE);
  for (const auto& line : captured_log())
    if (line.find("S3cret") != std::string::npos) leaks += "\n  log: " + line;
  EXPECT_TRUE(leaks.empty()) << leaks;
}

TEST(IceServerUrl, MalformedTurnUrlsAreRefusedSayingWhy) {
  EXPECT_EQ(url_refusal("turn://turn://alice:S3cret@192.0.2.20", IceServerKind::Turn),
            "the scheme is written twice");
  EXPECT_EQ(url_refusal("turn://@alice:S3cret@192.0.2.20", IceServerKind::Turn),
            "more than one '@' before the host (write '@' in a user name or password as %40)");
  EXPECT_EQ(url_refusal("turn://alice:S3cret@", IceServerKind::Turn), "no host");
  EXPECT_EQ(url_refusal("turn://alice:S3cret@192.0.2.20:port", IceServerKind::Turn), "not a URI");
}

TEST(IceServerUrl, PrintableFormHidesCredentialsOnly) {
  EXPECT_EQ(gstdtls::printable_ice_server_url("turn://alice:S3cret@192.0.2.20:3478"),
            "turn://(credentials not shown)@192.0.2.20:3478");
  EXPECT_EQ(gstdtls::printable_ice_server_url("stun://192.0.2.10:19302"),
            "stun://192.0.2.10:19302");
  EXPECT_EQ(gstdtls::printable_ice_server_url("turn:alice:S3cret@192.0.2.20"),
            "(not shown)@192.0.2.20");
}

TEST(IceServerUrl, Ipv6HostLosesItsBrackets) {
  auto url = parsed("stun://[2001:db8::1]:3478", IceServerKind::Stun);
  EXPECT_EQ(url.host, "2001:db8::1");
  EXPECT_EQ(url.port, 3478u);
}

TEST(IceServerUrl, IpAddressesResolveToThemselves) {
  for (const char* ip : {"192.0.2.1", "2001:db8::1"}) {
    auto resolved = gstdtls::resolve_ice_server_host(ip);
    ASSERT_TRUE(resolved.ok()) << resolved.error().message;
    EXPECT_EQ(resolved.value(), ip);
  }
}

// --- ICE credentials ----------------------------------------------------------------------------

bool all_ice_chars(const std::string& text) {
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

TEST(IceCredentials, RandomValuesHaveTheRfcSizesAndAlphabet) {
  std::string ufrag = gstdtls::random_ice_ufrag(), pwd = gstdtls::random_ice_pwd();
  EXPECT_EQ(ufrag.size(), 8u);  // 48 bits ≥ 24 (RFC 8445 §5.3)
  EXPECT_EQ(pwd.size(), 24u);   // 144 bits ≥ 128
  EXPECT_TRUE(all_ice_chars(ufrag)) << ufrag;
  EXPECT_TRUE(all_ice_chars(pwd)) << pwd;
  EXPECT_TRUE(gstdtls::check_ice_ufrag(ufrag).ok());
  EXPECT_TRUE(gstdtls::check_ice_pwd(pwd).ok());
}

TEST(IceCredentials, RandomValuesDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 32; i++) seen.insert(gstdtls::random_ice_pwd());
  EXPECT_EQ(seen.size(), 32u);
}

TEST(IceCredentials, UfragLengthLimits) {
  EXPECT_TRUE(gstdtls::check_ice_ufrag("abcd").ok());
  EXPECT_TRUE(gstdtls::check_ice_ufrag(std::string(256, 'x')).ok());
  auto short_one = gstdtls::check_ice_ufrag("abc");
  ASSERT_FALSE(short_one.ok());
  EXPECT_EQ(short_one.error().message, "needs 4 to 256 characters of [A-Za-z0-9+/] (RFC 8839)");
  EXPECT_FALSE(gstdtls::check_ice_ufrag(std::string(257, 'x')).ok());
  EXPECT_FALSE(gstdtls::check_ice_ufrag("").ok());
}

TEST(IceCredentials, PasswordLengthLimits) {
  EXPECT_TRUE(gstdtls::check_ice_pwd(std::string(22, 'P')).ok());
  auto short_one = gstdtls::check_ice_pwd(std::string(21, 'P'));
  ASSERT_FALSE(short_one.ok());
  EXPECT_EQ(short_one.error().message, "needs 22 to 256 characters of [A-Za-z0-9+/] (RFC 8839)");
  EXPECT_FALSE(gstdtls::check_ice_pwd(std::string(257, 'P')).ok());
}

TEST(IceCredentials, CharactersOutsideIceCharAreRefused) {
  EXPECT_TRUE(gstdtls::check_ice_ufrag("Ab9+/").ok());
  for (const char* bad : {"abc-d", "abc d", "abcd=",
                          "ab\xc3\xa9"
                          "d"})
    EXPECT_FALSE(gstdtls::check_ice_ufrag(bad).ok()) << bad;
}

}  // namespace
