// Our ICE username fragment and password (a=ice-ufrag, a=ice-pwd): generated at random unless the
// application sets them, and checked when it does.
#pragma once

#include <string>
#include <string_view>

#include "result.hpp"

namespace gstdtls {

// RFC 8445 §5.3 asks for ≥ 24 random bits in the ufrag and ≥ 128 in the password, drawn from
// ice-char (RFC 8839 §5.4: ALPHA / DIGIT / "+" / "/", 6 bits a character).
std::string random_ice_ufrag();  // 8 characters, 48 bits
std::string random_ice_pwd();    // 24 characters, 144 bits

// RFC 8839 §5.4: a ufrag is 4 to 256 ice-chars, a password 22 to 256. The error says what is
// needed, never the value (it is a credential).
dtlstransport::Status check_ice_ufrag(std::string_view ufrag);
dtlstransport::Status check_ice_pwd(std::string_view pwd);

}  // namespace gstdtls
