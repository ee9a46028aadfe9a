// Property values that carry lists ("10.0.0.1, 10.0.0.2", "candidate:…;candidate:…") and the
// space-separated fields of a candidate line: split into trimmed items, joined back.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gstdtls {

// `text` without leading and trailing spaces, tabs, CRs and LFs.
std::string trim(std::string_view text);

// The items of `text` between `separator`s, each trimmed; empty items are dropped, so
// "a,,b, " gives {"a", "b"} and runs of spaces count as one separator.
std::vector<std::string> split_list(std::string_view text, char separator);

// The items with `separator` between them.
std::string join_list(const std::vector<std::string>& items, std::string_view separator);

}  // namespace gstdtls
