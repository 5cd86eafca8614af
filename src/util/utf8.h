// UTF-8 checks for text that goes into JSON output.
//
// Messages quote what a client sent, and a client can send any bytes. JSON
// must be valid UTF-8, so such text passes through here before it is written.
#pragma once

#include <string>
#include <string_view>

namespace cmfd {

// True when `text` is well-formed UTF-8 (no overlong forms, no surrogates,
// nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Returns `text` with every ill-formed byte sequence replaced by U+FFFD.
std::string ToValidUtf8(std::string_view text);

}  // namespace cmfd
