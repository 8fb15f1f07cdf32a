#pragma once
#include <string_view>

namespace sluice::http {

// The standard reason phrase ("Not Found"); "Unknown" for unlisted codes.
std::string_view reasonPhrase(int status);

}  // namespace sluice::http
