#include "tests/integration/support/access_log.h"

#include <sstream>

#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {

std::vector<std::string> readLines(const std::string& path) {
  std::string text = readFile(path);
  std::vector<std::string> out;
  size_t pos = 0;
  for (;;) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) break;  // a partial last line is not a line yet
    out.push_back(text.substr(pos, eol - pos));
    pos = eol + 1;
  }
  return out;
}

std::vector<std::string> waitLines(const std::string& path, size_t n, Millis timeout) {
  std::vector<std::string> lines;
  waitUntil(
      [&] {
        lines = readLines(path);
        return lines.size() >= n;
      },
      timeout);
  return lines;
}

JsonLines waitJsonLines(const std::string& path, size_t n, Millis timeout) {
  JsonLines out;
  for (const auto& line : waitLines(path, n, timeout)) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
      out.entries.push_back(std::move(j));
    } else {
      out.bad.push_back(line);
    }
  }
  return out;
}

std::optional<nlohmann::json> waitJsonEntry(const std::string& path, const std::string& key, const std::string& value,
                                            Millis timeout) {
  std::optional<nlohmann::json> found;
  waitUntil(
      [&] {
        for (const auto& line : readLines(path)) {
          auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
          if (j.is_object() && field(j, key) == value) {
            found = std::move(j);
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

std::string field(const nlohmann::json& entry, const std::string& key) {
  auto it = entry.find(key);
  if (it == entry.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<long long>());
  if (it->is_number()) {
    std::ostringstream s;
    s << it->get<double>();
    return s.str();
  }
  if (it->is_null()) return "";
  return it->dump();
}

}  // namespace sluice::itest
