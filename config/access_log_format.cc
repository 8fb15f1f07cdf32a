#include "config/access_log_format.h"

#include <algorithm>
#include <iterator>

namespace sluice::config {

std::optional<AccessLogFormat> parseAccessLogFormat(const std::string& format, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<AccessLogFormat> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  AccessLogFormat f;
  if (format == "json") {
    f.json = true;
    return f;
  }
  // The writer adds the newline; a format copied from Envoy usually ends in one.
  std::string_view fmt = format;
  while (!fmt.empty() && fmt.back() == '\n') fmt.remove_suffix(1);
  if (fmt.empty()) return fail("access log format is empty");

  std::string literal;
  auto flushLiteral = [&] {
    if (literal.empty()) return;
    f.pieces.push_back({true, std::move(literal), 0});
    literal.clear();
  };
  size_t i = 0;
  while (i < fmt.size()) {
    const size_t pct = fmt.find('%', i);
    if (pct == std::string_view::npos) {
      literal.append(fmt.substr(i));
      break;
    }
    literal.append(fmt.substr(i, pct - i));
    if (pct + 1 < fmt.size() && fmt[pct + 1] == '%') {
      literal.push_back('%');
      i = pct + 2;
      continue;
    }
    const size_t close = fmt.find('%', pct + 1);
    if (close == std::string_view::npos) {
      return fail("unterminated access log token '" + std::string(fmt.substr(pct)) + "'");
    }
    const std::string_view name = fmt.substr(pct + 1, close - pct - 1);
    const auto* it = std::find(std::begin(kAccessLogTokens), std::end(kAccessLogTokens), name);
    if (it == std::end(kAccessLogTokens)) return fail("unknown access log token '%" + std::string(name) + "%'");
    flushLiteral();
    f.pieces.push_back({false, std::string(name), static_cast<size_t>(it - std::begin(kAccessLogTokens))});
    i = close + 1;
  }
  flushLiteral();
  return f;
}

}  // namespace sluice::config
