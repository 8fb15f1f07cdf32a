#pragma once
// String, header and query parameter matchers at run time: built from their
// specs (config/matchers.h) with any regex compiled, then matched per
// request without allocating.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/matchers.h"

namespace re2 {
class RE2;
}

namespace sluice::http {

struct StringMatcher {
  using Kind = config::StringMatcher::Kind;
  Kind kind = Kind::Exact;
  std::string value;
  std::shared_ptr<const re2::RE2> regex;  // Kind::Regex; full match
  bool invert = false;

  static StringMatcher build(const config::StringMatcher& spec);
  // nullopt = absent, which no kind matches; `invert` then flips the result,
  // so an inverted matcher accepts an absent value.
  bool matches(std::optional<std::string_view> v) const;
};

struct HeaderMatcher {
  std::string name;  // matched against the first field of that name
  StringMatcher matcher;
  static HeaderMatcher build(const config::HeaderMatcher& spec) { return {spec.name, StringMatcher::build(spec.matcher)}; }
};

struct QueryParameterMatcher {
  std::string name;
  StringMatcher matcher;
  static QueryParameterMatcher build(const config::QueryParameterMatcher& spec) {
    return {spec.name, StringMatcher::build(spec.matcher)};
  }
};

// Runtime matchers for a list of specs, in order.
template <class Runtime, class Spec>
std::vector<Runtime> buildAll(const std::vector<Spec>& specs) {
  std::vector<Runtime> out;
  out.reserve(specs.size());
  for (const auto& s : specs) out.push_back(Runtime::build(s));
  return out;
}

// A pattern the config reader already checked; null only if it does not compile.
std::shared_ptr<const re2::RE2> compileRegex(const std::string& pattern, bool case_sensitive);

}  // namespace sluice::http
