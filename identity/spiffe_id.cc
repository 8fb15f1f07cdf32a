#include "identity/spiffe_id.h"

namespace sluice::identity {
namespace {

constexpr std::string_view kScheme = "spiffe://";
constexpr size_t kMaxIdLength = 2048;

bool fail(std::string* why, const char* msg) {
  if (why) *why = msg;
  return false;
}

bool validTrustDomain(std::string_view td, std::string* why) {
  if (td.empty()) return fail(why, "empty trust domain");
  for (const char c : td) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) {
      if (c == ':') return fail(why, "trust domain must not carry a port");
      if (c == '@') return fail(why, "trust domain must not carry user info");
      if (c >= 'A' && c <= 'Z') return fail(why, "trust domain must be lower case");
      return fail(why, "invalid character in trust domain");
    }
  }
  return true;
}

bool validPath(std::string_view path, std::string* why) {
  // path starts with '/'; each segment between slashes is checked.
  size_t i = 0;
  while (i < path.size()) {
    const size_t start = i + 1;  // skip '/'
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view seg = path.substr(start, end - start);
    if (seg.empty()) return fail(why, end == path.size() ? "trailing slash" : "empty path segment");
    if (seg == "." || seg == "..") return fail(why, "'.' or '..' path segment");
    for (const char c : seg) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '-' || c == '_';
      if (!ok) {
        if (c == '?' || c == '#') return fail(why, "query or fragment not allowed");
        return fail(why, "invalid character in path");
      }
    }
    i = end;
  }
  return true;
}

}  // namespace

std::optional<SpiffeId> parseSpiffeId(std::string_view uri, std::string* why, bool allow_bare_trust_domain) {
  if (uri.size() > kMaxIdLength) {
    fail(why, "longer than 2048 bytes");
    return std::nullopt;
  }
  // The scheme is case-sensitive in the spec ("spiffe", lower case).
  if (uri.substr(0, kScheme.size()) != kScheme) {
    fail(why, "scheme must be spiffe://");
    return std::nullopt;
  }
  const std::string_view rest = uri.substr(kScheme.size());
  const size_t slash = rest.find('/');
  const std::string_view td = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (td.find_first_of("?#") != std::string_view::npos) {
    fail(why, "query or fragment not allowed");
    return std::nullopt;
  }
  if (!validTrustDomain(td, why)) return std::nullopt;
  if (path.empty() && !allow_bare_trust_domain) {
    fail(why, "missing workload path");
    return std::nullopt;
  }
  if (!path.empty() && !validPath(path, why)) return std::nullopt;
  return SpiffeId{std::string(td), std::string(path)};
}

std::optional<SpiffeIdMatcher> SpiffeIdMatcher::parse(std::string_view pattern, std::string* why) {
  SpiffeIdMatcher m;
  m.pattern_ = std::string(pattern);
  std::string_view id = pattern;
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == "/*") {
    m.is_prefix_ = true;
    id = pattern.substr(0, pattern.size() - 2);
  }
  if (id.find('*') != std::string_view::npos) {
    fail(why, "'*' is only allowed as a final path segment");
    return std::nullopt;
  }
  if (!parseSpiffeId(id, why, /*allow_bare_trust_domain=*/m.is_prefix_)) return std::nullopt;
  m.prefix_ = std::string(id);
  if (m.is_prefix_) m.prefix_ += '/';
  return m;
}

bool SpiffeIdMatcher::matches(std::string_view spiffe_id) const {
  if (!is_prefix_) return spiffe_id == prefix_;
  return spiffe_id.size() > prefix_.size() && spiffe_id.substr(0, prefix_.size()) == prefix_;
}

bool anyMatches(const std::vector<SpiffeIdMatcher>& matchers, std::string_view spiffe_id) {
  for (const auto& m : matchers)
    if (m.matches(spiffe_id)) return true;
  return false;
}

}  // namespace sluice::identity
