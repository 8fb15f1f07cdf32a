#include "config/field_reader.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>

#include "config/yaml_reader.h"

namespace sluice::config {
namespace {

bool isTokenChar(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string list(std::initializer_list<std::string_view> keys) {
  std::string s;
  for (auto k : keys) s += (s.empty() ? "" : ", ") + std::string(k);
  return s;
}

}  // namespace

bool isHttpToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return isTokenChar(c); });
}

bool readString(MapReader& r, std::string_view key, std::string& out, bool required) {
  r.string(key, out, required);
  return r.child(key).IsScalar();
}

bool readOptional(MapReader& r, std::string_view key, std::optional<std::string>& out) {
  std::string s;
  if (!readString(r, key, s)) return false;
  out = std::move(s);
  return true;
}

std::vector<StringItem> readStrings(MapReader& r, std::string_view key) {
  std::vector<StringItem> out;
  r.forEachItem(key, [&](const YAML::Node& n, const std::string& path) {
    if (n.IsScalar()) out.push_back({n.Scalar(), n, path});
    else r.ctx().error(n, path, "expected a string");
  });
  return out;
}

void checkNotEmpty(MapReader& r, std::string_view key, const std::string& value) {
  if (value.empty()) r.ctx().error(r.locOf(key), r.childPath(key), "must not be empty");
}

void checkListNotEmpty(MapReader& r, std::string_view key) {
  const YAML::Node n = r.child(key);
  if (n.IsSequence() && n.size() == 0) r.ctx().error(n, r.childPath(key), "must not be empty");
}

void checkAbsolutePath(MapReader& r, std::string_view key, const std::string& value) {
  if (value.empty() || value.front() != '/') r.ctx().error(r.locOf(key), r.childPath(key), "must start with '/'");
}

void checkHeaderName(MapReader& r, std::string_view key, std::string_view name, bool allow_pseudo) {
  const std::string_view bare = allow_pseudo && name.starts_with(':') ? name.substr(1) : name;
  if (!isHttpToken(bare))
    r.ctx().error(r.locOf(key), r.childPath(key), "invalid header name '" + std::string(name) + "'");
}

int oneOf(MapReader& r, std::initializer_list<std::string_view> keys, bool required) {
  int first = -1;
  int i = 0;
  for (auto k : keys) {
    if (r.child(k).IsDefined()) {
      if (first < 0) first = i;
      else r.ctx().error(r.locOf(k), r.childPath(k), "only one of " + list(keys) + " may be set");
    }
    ++i;
  }
  if (first < 0 && required) r.ctx().error(r.node(), r.path(), "one of " + list(keys) + " is required");
  return first;
}

bool checkRegex(MapReader& r, std::string_view key, const std::string& pattern, bool case_sensitive) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);  // the error goes into the config error instead
  opts.set_case_sensitive(case_sensitive);
  const re2::RE2 re(pattern, opts);
  if (re.ok()) return true;
  r.ctx().error(r.locOf(key), r.childPath(key), "invalid regex: " + re.error());
  return false;
}

void readStatPrefix(MapReader& r, std::string& out) {
  if (readString(r, "stat_prefix", out, /*required=*/true) && out.empty())
    r.ctx().error(r.locOf("stat_prefix"), r.childPath("stat_prefix"), "must not be empty");
}

}  // namespace sluice::config
