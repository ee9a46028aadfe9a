#include "ice_candidate.h"

#include <glib.h>

#include <algorithm>
#include <iterator>

#include "text.hpp"

namespace gstdtls {

using dtlstransport::Error;

dtlstransport::Result<std::string> normalize_remote_candidate(std::string_view input) {
  // candidate-attribute = "candidate" ":" foundation SP component-id SP transport SP priority SP
  //   connection-address SP port SP cand-type [SP rel-addr] [SP rel-port] *(SP extension-att)
  std::string line = without_attribute_prefix(dtlstransport::trim(input));
  if (line.rfind("candidate:", 0) != 0) return Error{"does not start with 'candidate:'"};
  auto fields = dtlstransport::split_list(std::string_view(line).substr(10), ' ');
  if (fields.size() < 8 || g_ascii_strcasecmp(fields[6].c_str(), "typ") != 0)
    return Error{
        "expected '<foundation> <component> <transport> <priority> <address> <port> typ "
        "<type>'"};
  const std::string& component = fields[1];
  const std::string& transport = fields[2];
  const std::string& priority = fields[3];
  const std::string& address = fields[4];
  const std::string& port = fields[5];
  const std::string& type = fields[7];
  if (component != "1")
    return Error{"component " + component +
                 " is not used (RTP and RTCP share component 1, RFC 5761)"};
  if (g_ascii_strcasecmp(transport.c_str(), "udp") != 0)
    return Error{"transport " + transport + " is not supported (UDP only)"};
  if (g_str_has_suffix(address.c_str(), ".local"))
    return Error{"mDNS address " + address +
                 " cannot be resolved (.local names are not supported)"};
  if (!g_hostname_is_ip_address(address.c_str()))
    return Error{"address " + address + " is not an IP address"};
  guint64 number = 0;
  if (!g_ascii_string_to_unsigned(priority.c_str(), 10, 0, G_MAXUINT32, &number, nullptr))
    return Error{"priority " + priority + " is not a 32-bit number"};
  if (!g_ascii_string_to_unsigned(port.c_str(), 10, 1, 65535, &number, nullptr))
    return Error{"port " + port + " is not a number in 1..65535"};
  static const char* const kTypes[] = {"host", "srflx", "prflx", "relay"};
  if (std::none_of(std::begin(kTypes), std::end(kTypes),
                   [&](const char* known) { return g_ascii_strcasecmp(type.c_str(), known) == 0; }))
    return Error{"candidate type " + type + " is not host, srflx, prflx or relay"};
  std::vector<std::string> kept(fields.begin(), fields.begin() + 8);
  for (size_t i = 8; i + 1 < fields.size(); i += 2) {
    if (fields[i] == "raddr" || fields[i] == "rport") {
      kept.push_back(fields[i]);
      kept.push_back(fields[i + 1]);
    }
  }
  return "a=candidate:" + dtlstransport::join_list(kept, " ");
}

std::vector<std::string> split_candidate_list(std::string_view text) {
  return dtlstransport::split_list(text, ';');
}

std::string join_candidate_list(const std::vector<std::string>& lines) {
  std::vector<std::string> bare;
  bare.reserve(lines.size());
  for (const auto& line : lines) bare.push_back(without_attribute_prefix(line));
  return dtlstransport::join_list(bare, ";");
}

std::string without_attribute_prefix(std::string_view line) {
  if (line.rfind("a=", 0) == 0) line.remove_prefix(2);
  return std::string(line);
}

}  // namespace gstdtls
