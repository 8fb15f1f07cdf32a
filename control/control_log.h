#pragma once
// sluice-control's operational log on stderr, in the proxy's format:
// "2026-11-21T10:00:00.123Z info: message". One write(2) per line, so lines
// from different threads (the ADS server's, the admin server's) never
// interleave. Lines below the level set with --log-level are dropped.

#include <optional>
#include <string_view>

namespace sluice::control::log {

enum class Level { Debug, Info, Warn, Error };

// "debug", "info", "warn", "error"; nullopt for anything else.
std::optional<Level> parseLevel(std::string_view name);
void setLevel(Level level);

void debug(std::string_view message);
void info(std::string_view message);
void warn(std::string_view message);
void error(std::string_view message);

}  // namespace sluice::control::log
