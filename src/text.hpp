// Text helpers for values that come from configuration (SDP attributes, property strings): one
// definition of "white space" for the whole project.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dtlstransport {

// `text` without leading and trailing white space (space, tab, CR, LF, VT, FF).
std::string_view trim(std::string_view text);

// The items of `text` between `separator`s, each trimmed; empty items are dropped, so
// "a,,b, " gives {"a", "b"} and runs of spaces count as one separator.
std::vector<std::string> split_list(std::string_view text, char separator);

// The items with `separator` between them.
std::string join_list(const std::vector<std::string>& items, std::string_view separator);

// `text` as a message may echo it: whole when it has at most `limit` bytes, else its first
// `limit` bytes (cut at a UTF-8 character boundary) followed by "… (N bytes)". A user value
// echoed in a warning or error goes through this, so a megabyte of junk is not printed whole.
inline constexpr size_t kEchoLimit = 256;  // a sha-512 fingerprint (199) fits whole
std::string abbreviate(std::string_view text, size_t limit = kEchoLimit);

}  // namespace dtlstransport
