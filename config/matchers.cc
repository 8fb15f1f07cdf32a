#include "config/matchers.h"

#include "config/field_reader.h"
#include "config/yaml_reader.h"

namespace sluice::config {
namespace {

const char* kindName(StringMatcher::Kind k) {
  switch (k) {
    case StringMatcher::Kind::Exact: return "exact";
    case StringMatcher::Kind::Prefix: return "prefix";
    case StringMatcher::Kind::Suffix: return "suffix";
    case StringMatcher::Kind::Contains: return "contains";
    case StringMatcher::Kind::Regex: return "regex";
    case StringMatcher::Kind::Present: return "present";
  }
  return "?";
}

nlohmann::json namedJson(const std::string& name, const StringMatcher& m) {
  nlohmann::json j = stringMatcherJson(m);
  j["name"] = name;
  return j;
}

template <class Matcher>
void readNamed(MapReader& r, std::string_view key, bool headers, std::vector<Matcher>& out) {
  r.forEachItem(key, [&](const YAML::Node& item, const std::string& path) {
    MapReader mr(r.ctx(), item, path);
    if (!mr.isMap()) return;
    Matcher m;
    if (readString(mr, "name", m.name, /*required=*/true)) {
      if (headers) checkHeaderName(mr, "name", m.name, /*allow_pseudo=*/true);
      else checkNotEmpty(mr, "name", m.name);
    }
    readStringMatcher(mr, m.matcher);
    mr.finish();
    out.push_back(std::move(m));
  });
}

}  // namespace

void readStringMatcher(MapReader& r, StringMatcher& m) {
  using Kind = StringMatcher::Kind;
  const int k = oneOf(r, {"exact", "prefix", "suffix", "contains", "regex", "present"}, /*required=*/true);
  r.boolean("invert", m.invert);
  if (k < 0) return;
  static constexpr std::string_view kKeys[] = {"exact", "prefix", "suffix", "contains", "regex"};
  static constexpr Kind kKinds[] = {Kind::Exact, Kind::Prefix, Kind::Suffix, Kind::Contains, Kind::Regex};
  if (k < 5) {
    m.kind = kKinds[k];
    if (readString(r, kKeys[k], m.value, true) && m.kind == Kind::Regex)
      checkRegex(r, "regex", m.value, /*case_sensitive=*/true);
    return;
  }
  m.kind = Kind::Present;
  bool present = true;
  r.boolean("present", present);
  // "present: false" next to "invert" would be a double negative; one spelling.
  if (!present)
    r.ctx().error(r.locOf("present"), r.childPath("present"), "must be true (to match absence, add invert: true)");
}

void readHeaderMatchers(MapReader& r, std::string_view key, std::vector<HeaderMatcher>& out) {
  readNamed(r, key, /*headers=*/true, out);
}

void readQueryParameterMatchers(MapReader& r, std::string_view key, std::vector<QueryParameterMatcher>& out) {
  readNamed(r, key, /*headers=*/false, out);
}

nlohmann::json stringMatcherJson(const StringMatcher& m) {
  nlohmann::json j = {{"invert", m.invert}};
  if (m.kind == StringMatcher::Kind::Present) j["present"] = true;
  else j[kindName(m.kind)] = m.value;
  return j;
}

nlohmann::json headerMatcherJson(const HeaderMatcher& m) { return namedJson(m.name, m.matcher); }
nlohmann::json queryParameterMatcherJson(const QueryParameterMatcher& m) { return namedJson(m.name, m.matcher); }

}  // namespace sluice::config
