#pragma once
// Helpers that read YAML into the typed model while collecting errors that
// name file:line:column and the field path, e.g.
//   demo.yaml:12:18: clusters[1].endpoints[0].address: port out of range
// Readers never throw; a bad value records an error and leaves the default.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "config/model.h"

namespace sluice::config {

struct ConfigError {
  std::string file;
  int line = 0;    // 1-based, 0 when unknown
  int column = 0;  // 1-based
  std::string path;  // "clusters[1].endpoints[0].address"
  std::string message;
  // "file:line:col: path: message"
  std::string str() const;
};

// What a reference to a resource that is not there (a route naming an
// unknown cluster, a listener naming an unknown route table) is. A file is
// written whole by one hand: an error. Resources that arrive over xDS come
// one at a time and a reference may arrive before its target: a warning, and
// the data path answers for the gap (503 NC, 404 NR) until it is filled.
enum class References { Strict, WarnAndServe };

class ParseContext {
 public:
  explicit ParseContext(std::string file, References refs = References::Strict)
      : file_(std::move(file)), refs_(refs) {}
  const std::string& file() const { return file_; }
  // Records an error at the node's position.
  void error(const YAML::Node& at, std::string_view path, std::string message);
  void error(SourceLoc at, std::string_view path, std::string message);
  // A reference to a resource that is missing: an error or a warning, by References.
  void missingReference(SourceLoc at, std::string_view path, std::string message);
  const std::vector<ConfigError>& errors() const { return errors_; }
  const std::vector<ConfigError>& warnings() const { return warnings_; }
  bool ok() const { return errors_.empty(); }
  // All errors, one per line.
  std::string str() const;

  // Named resources a reader found inline (an HTTP listener's route_config,
  // a TLS block's paths), lifted into the config's named resources after the
  // whole file is read.
  std::vector<RouteConfigEntry>& inlineRouteConfigs() { return inline_route_configs_; }
  std::vector<SecretSpec>& inlineSecrets() { return inline_secrets_; }
  // The name that resources defined inline default to: the listener being
  // read ("web"), or its chain ("web.1" for filter_chains[1]).
  const std::string& scopeName() const { return scope_name_; }
  void setScopeName(std::string name) { scope_name_ = std::move(name); }

 private:
  std::string file_;
  References refs_;
  std::vector<ConfigError> errors_;
  std::vector<ConfigError> warnings_;
  std::vector<RouteConfigEntry> inline_route_configs_;
  std::vector<SecretSpec> inline_secrets_;
  std::string scope_name_;
};

SourceLoc locOf(const YAML::Node& n);

// Environment references in config values: replaces every `${NAME}` inside
// scalar values (never keys) under `root`, in place, before any field is
// read. NAME is [A-Za-z_][A-Za-z0-9_]*; `$${` is a literal `${`. An unset
// variable, or a malformed reference, is an error at that scalar naming the
// variable and the field path. Runs on the parsed tree, so a value can
// never inject YAML structure. `lookup` replaces getenv (tests); it returns
// null for an unset name. Returns false when an error was recorded.
using EnvLookup = const char* (*)(const char* name, void* arg);
bool substituteEnv(YAML::Node root, ParseContext& ctx, EnvLookup lookup = nullptr, void* arg = nullptr);
// False when no scalar of the YAML `text` can hold a '$' (none is written,
// nor a double-quoted escape that makes one): substituteEnv would change
// nothing, and its walk over a large document can be skipped.
bool mayReferToEnv(std::string_view text);

// Parses "250ms", "5s", "2m", "1h", "0" into milliseconds; false on bad input.
bool parseDuration(std::string_view text, Duration& out);

// Reads one YAML mapping. Each accessor marks its key as known; finish()
// reports every other key as "unknown field" so typos never pass silently.
// The mapping's keys are read once, when the reader is made: a lookup scans
// that short list, not yaml-cpp's pairs (each visit of which makes and drops
// several reference-counted handles), so the mapping must not change while
// its reader is in use.
class MapReader {
 public:
  MapReader(ParseContext& ctx, const YAML::Node& node, std::string path);
  bool isMap() const { return is_map_; }
  ParseContext& ctx() { return ctx_; }
  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  std::string childPath(std::string_view key) const;
  bool has(std::string_view key) const;
  // The raw child (marked known); an undefined node when absent.
  YAML::Node child(std::string_view key);

  // Typed fields. Absent: keep `out` (error if required). Bad: error, keep `out`.
  void string(std::string_view key, std::string& out, bool required = false);
  void address(std::string_view key, ip::Address& out, bool required = false);
  void duration(std::string_view key, Duration& out, bool required = false);
  void uint32(std::string_view key, uint32_t& out, uint32_t min, uint32_t max, bool required = false);
  void boolean(std::string_view key, bool& out, bool required = false);
  void number(std::string_view key, double& out, double min, double max, bool required = false);
  // Position of a key's value (or of the map when absent), for later cross-reference errors.
  SourceLoc locOf(std::string_view key) const;
  // Calls fn(item, "path.key[i]") for each element of the list under `key`.
  // Absent is fine; anything but a list is an error. A member rather than a
  // free function so a file-local helper of the same name never collides via ADL.
  template <class Fn>
  void forEachItem(std::string_view key, Fn&& fn) {
    const YAML::Node list = child(key);
    if (!list.IsDefined()) return;
    const std::string path = childPath(key);
    if (!list.IsSequence()) {
      ctx_.error(list, path, "expected a list");
      return;
    }
    size_t i = 0;
    for (auto it = list.begin(); it != list.end(); ++it, ++i) fn(*it, path + "[" + std::to_string(i) + "]");
  }

  void finish();

 private:
  struct Field {
    std::string_view key;  // the key's text (held by the document), or "<non-scalar key>"
    bool scalar_key;       // only these are found by a lookup
    bool known;            // asked for by an accessor
    YAML::Node value;
  };
  // The first field with a scalar key `key`, or null; marks every field
  // named `key` as known, and remembers a key that is absent.
  const Field* lookup(std::string_view key);
  const Field* find(std::string_view key) const;

  ParseContext& ctx_;
  YAML::Node node_;
  std::string path_;
  bool is_map_ = false;
  std::vector<Field> fields_;  // in the mapping's order
  // Keys asked for and absent: known too, for finish()'s suggestions.
  std::vector<std::string> absent_known_;
};

}  // namespace sluice::config
