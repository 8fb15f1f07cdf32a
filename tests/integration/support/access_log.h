#pragma once
// Reading the proxy's access log files from a test. The proxy writes them
// from a background thread (every ~100 ms), so every read here polls with a
// bound.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/integration/support/net.h"

namespace sluice::itest {

// The complete ('\n'-terminated) lines of `path`; empty when it is missing.
std::vector<std::string> readLines(const std::string& path);
// Polls until `path` holds at least n complete lines; returns what it has then.
std::vector<std::string> waitLines(const std::string& path, size_t n, Millis timeout = Millis(5000));

struct JsonLines {
  std::vector<nlohmann::json> entries;
  std::vector<std::string> bad;  // lines that did not parse as a JSON object
};
// waitLines, then parses every line as one JSON object.
JsonLines waitJsonLines(const std::string& path, size_t n, Millis timeout = Millis(5000));

// Polls until an entry whose `key` equals `value` appears; nullopt at the timeout.
std::optional<nlohmann::json> waitJsonEntry(const std::string& path, const std::string& key, const std::string& value,
                                            Millis timeout = Millis(5000));

// A string field of an access log entry ("" when absent or not a string);
// numbers are rendered in decimal, so `status` reads the same either way.
std::string field(const nlohmann::json& entry, const std::string& key);

}  // namespace sluice::itest
