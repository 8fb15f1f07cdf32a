#include "proxy/http/matchers.h"

#include <re2/re2.h>

#include <cassert>

namespace sluice::http {
namespace {

config::StringMatcher specOf(const StringMatcher& m) { return {m.kind, m.value, m.invert}; }

}  // namespace

std::shared_ptr<const re2::RE2> compileRegex(const std::string& pattern, bool case_sensitive) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_case_sensitive(case_sensitive);
  auto re = std::make_shared<const re2::RE2>(pattern, opts);
  // A bad pattern was reported when read, and that config never gets built;
  // only the transitional readers below build from one.
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

void parseStringMatcher(config::MapReader& reader, StringMatcher& out) {
  config::StringMatcher spec;
  config::readStringMatcher(reader, spec);
  out = StringMatcher::build(spec);
}

void parseHeaderMatchers(config::MapReader& reader, std::string_view key, std::vector<HeaderMatcher>& out) {
  std::vector<config::HeaderMatcher> specs;
  config::readHeaderMatchers(reader, key, specs);
  for (auto& m : buildAll<HeaderMatcher>(specs)) out.push_back(std::move(m));
}

nlohmann::json stringMatcherJson(const StringMatcher& m) { return config::stringMatcherJson(specOf(m)); }

nlohmann::json headerMatcherJson(const HeaderMatcher& m) {
  return config::headerMatcherJson({m.name, specOf(m.matcher)});
}

}  // namespace sluice::http
