#pragma once
// Field-level reading and checks shared by the readers of HTTP settings
// (route tables, matchers, header mutations, the filters that reuse them):
// each reports into the reader's ParseContext at the field's position, so
// every reader words the same mistake the same way.

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::config {

class MapReader;

// An HTTP token (RFC 9110): what header names and methods are made of.
bool isHttpToken(std::string_view s);

// Like MapReader::string, but says whether a string was read, so follow-up
// checks run only on real values (absence and bad types are reported already).
bool readString(MapReader& r, std::string_view key, std::string& out, bool required = false);
bool readOptional(MapReader& r, std::string_view key, std::optional<std::string>& out);
// A filter's required `stat_prefix` (its metrics label): present and not empty.
void readStatPrefix(MapReader& r, std::string& out);

struct StringItem {
  std::string value;
  YAML::Node node;
  std::string path;
};
// The strings of the list under `key`; other items are reported.
std::vector<StringItem> readStrings(MapReader& r, std::string_view key);

void checkNotEmpty(MapReader& r, std::string_view key, const std::string& value);
void checkListNotEmpty(MapReader& r, std::string_view key);
void checkAbsolutePath(MapReader& r, std::string_view key, const std::string& value);
// Pseudo-headers may be matched on but never added or removed: they carry
// the request line.
void checkHeaderName(MapReader& r, std::string_view key, std::string_view name, bool allow_pseudo);

// Index of the present key among `keys` (marking all of them known), or -1.
// Reports none (when required) and more than one.
int oneOf(MapReader& r, std::initializer_list<std::string_view> keys, bool required);

// Whether `pattern` compiles as an RE2 regex; reports RE2's message at `key`
// when not. The compiled object is dropped: the proxy compiles its own when
// it builds the runtime config.
bool checkRegex(MapReader& r, std::string_view key, const std::string& pattern, bool case_sensitive);

}  // namespace sluice::config
