#pragma once
// Operational log lines on stderr: "2026-11-21T10:00:00.123Z info: message".
// One write(2) per line, so lines from different threads never interleave.
// Not for the per-request path (access logs come with the HTTP layer).

#include <string_view>

namespace sluice::log {

void info(std::string_view message);
void warn(std::string_view message);
void error(std::string_view message);

}  // namespace sluice::log
