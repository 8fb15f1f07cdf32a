#include "control/control_log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace sluice::control::log {
namespace {

std::atomic<Level> g_level{Level::Info};

void write(Level level, std::string_view name, std::string_view message) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[40];
  const size_t n = std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string line(stamp, n);
  char frac[8];
  std::snprintf(frac, sizeof(frac), ".%03dZ ", static_cast<int>(ms));
  line += frac;
  line += name;
  line += ": ";
  line += message;
  line += '\n';
  // Best effort: a log line that cannot be written is not worth a failure.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace

std::optional<Level> parseLevel(std::string_view name) {
  if (name == "debug") return Level::Debug;
  if (name == "info") return Level::Info;
  if (name == "warn" || name == "warning") return Level::Warn;
  if (name == "error") return Level::Error;
  return std::nullopt;
}

void setLevel(Level level) { g_level.store(level, std::memory_order_relaxed); }

void debug(std::string_view message) { write(Level::Debug, "debug", message); }
void info(std::string_view message) { write(Level::Info, "info", message); }
void warn(std::string_view message) { write(Level::Warn, "warn", message); }
void error(std::string_view message) { write(Level::Error, "error", message); }

}  // namespace sluice::control::log
