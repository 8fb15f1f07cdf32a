#pragma once
// String, header and query parameter matchers as plain data: how route
// matches, retry policies and authz rules say which values they accept.
// A regex is kept as its pattern (checked when read); the proxy compiles it
// when it builds the runtime matcher (proxy/http/matchers.h).
//
//   headers:
//     - {name: x-canary, exact: "1"}         # or prefix, suffix, contains, regex (full match)
//     - {name: x-debug, present: true}
//     - {name: x-tag, prefix: a, invert: true}

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::config {

class MapReader;

struct StringMatcher {
  enum class Kind { Exact, Prefix, Suffix, Contains, Regex, Present };
  Kind kind = Kind::Exact;
  std::string value;  // the pattern for Kind::Regex (case-sensitive, full match)
  // Absent values match no kind; `invert` then flips the result, so an
  // inverted matcher accepts an absent value.
  bool invert = false;
};

struct HeaderMatcher {
  std::string name;  // matched against the first field of that name
  StringMatcher matcher;
};

struct QueryParameterMatcher {
  std::string name;  // case-sensitive; the first occurrence counts; "a" alone has value ""
  StringMatcher matcher;  // Present: the parameter exists (any value)
};

// One mapping of exact | prefix | suffix | contains | regex | present (plus
// invert), without finish(): the caller's mapping may hold more keys.
void readStringMatcher(MapReader& r, StringMatcher& out);
// The list under `key` of {name, <matcher>}. Header names may be pseudo-headers (":path").
void readHeaderMatchers(MapReader& r, std::string_view key, std::vector<HeaderMatcher>& out);
void readQueryParameterMatchers(MapReader& r, std::string_view key, std::vector<QueryParameterMatcher>& out);

nlohmann::json stringMatcherJson(const StringMatcher& m);
nlohmann::json headerMatcherJson(const HeaderMatcher& m);
nlohmann::json queryParameterMatcherJson(const QueryParameterMatcher& m);

}  // namespace sluice::config
