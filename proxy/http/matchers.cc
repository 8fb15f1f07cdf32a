#include "proxy/http/matchers.h"

#include <re2/re2.h>

#include <cassert>

namespace sluice::http {
std::shared_ptr<const re2::RE2> compileRegex(const std::string& pattern, bool case_sensitive) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_case_sensitive(case_sensitive);
  auto re = std::make_shared<const re2::RE2>(pattern, opts);
  // A bad pattern was reported when read, and that config never gets built.
  return re->ok() ? re : nullptr;
}

StringMatcher StringMatcher::build(const config::StringMatcher& spec) {
  StringMatcher m{spec.kind, spec.value, nullptr, spec.invert};
  if (spec.kind == Kind::Regex) m.regex = compileRegex(spec.value, /*case_sensitive=*/true);
  return m;
}

bool StringMatcher::matches(std::optional<std::string_view> v) const {
  bool hit = false;
  if (v) {
    switch (kind) {
      case Kind::Exact: hit = *v == value; break;
      case Kind::Prefix: hit = v->starts_with(value); break;
      case Kind::Suffix: hit = v->ends_with(value); break;
      case Kind::Contains: hit = v->find(value) != std::string_view::npos; break;
      case Kind::Regex:
        assert(regex != nullptr);
        hit = regex != nullptr && re2::RE2::FullMatch(*v, *regex);
        break;
      case Kind::Present: hit = true; break;
    }
  }
  return hit != invert;
}

}  // namespace sluice::http
