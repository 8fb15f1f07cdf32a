#include "config/yaml_reader.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace sluice::config {
namespace {

std::string formatNumber(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

constexpr std::string_view kNonScalarKey = "<non-scalar key>";

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The closest known key, if it is close enough to be a plausible typo.
std::string suggest(std::string_view key, const std::unordered_set<std::string>& known) {
  std::string best;
  size_t best_d = std::max<size_t>(1, key.size() / 3) + 1;
  for (const auto& k : known) {
    const size_t d = editDistance(key, k);
    if (d < best_d || (d == best_d && k < best)) {
      best_d = d;
      best = k;
    }
  }
  return best;
}

bool parseUint(std::string_view text, uint64_t& out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

std::string ConfigError::str() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
  s += ": ";
  if (!path.empty()) s += path + ": ";
  return s + message;
}

void ParseContext::error(const YAML::Node& at, std::string_view path, std::string message) {
  error(locOf(at), path, std::move(message));
}

void ParseContext::error(SourceLoc at, std::string_view path, std::string message) {
  // A resource checked from each place that uses it (a route table shared
  // by two listeners) reports each problem once.
  for (const auto& e : errors_)
    if (e.line == at.line && e.column == at.column && e.path == path && e.message == message) return;
  errors_.push_back(ConfigError{file_, at.line, at.column, std::string(path), std::move(message)});
}

void ParseContext::missingReference(SourceLoc at, std::string_view path, std::string message) {
  if (refs_ == References::Strict) {
    error(at, path, std::move(message));
    return;
  }
  for (const auto& w : warnings_)
    if (w.line == at.line && w.column == at.column && w.path == path && w.message == message) return;
  warnings_.push_back(ConfigError{file_, at.line, at.column, std::string(path), std::move(message)});
}

std::string ParseContext::str() const {
  std::string s;
  for (const auto& e : errors_) s += e.str() + "\n";
  return s;
}

SourceLoc locOf(const YAML::Node& n) {
  // Undefined nodes have no mark (and invalid ones throw on Mark()).
  if (!n.IsDefined()) return {};
  const YAML::Mark m = n.Mark();
  if (m.is_null()) return {};
  return {m.line + 1, m.column + 1};
}

namespace {

bool envNameChar(char c, bool first) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || (!first && c >= '0' && c <= '9');
}

// A key path as the walk goes down ("listeners[0].tls"), made into text
// only for a value that holds a '$': a generated mesh has hundreds of
// thousands of nodes and almost none of them needs its path.
struct PathStep {
  const std::string* key;  // null: a sequence index
  size_t index;
};

struct EnvWalk {
  ParseContext& ctx;
  EnvLookup lookup;
  void* arg;
  bool ok = true;
  // Nodes already rewritten: an alias shares its anchor's node, and a second
  // pass would expand a `$${` escape the first one produced.
  std::vector<YAML::Node> done;
  std::vector<PathStep> steps;

  std::string path() const {
    std::string out;
    for (const PathStep& s : steps) {
      if (s.key == nullptr)
        out += "[" + std::to_string(s.index) + "]";
      else
        out += (out.empty() ? "" : ".") + *s.key;
    }
    return out;
  }

  void scalar(YAML::Node n) {
    const std::string& in = n.Scalar();
    if (in.find('$') == std::string::npos) return;
    for (const auto& d : done)
      if (d.is(n)) return;
    std::string out;
    out.reserve(in.size());
    bool changed = false;
    for (size_t i = 0; i < in.size();) {
      if (in.compare(i, 3, "$${") == 0) {
        out += "${";
        i += 3;
        changed = true;
        continue;
      }
      if (in.compare(i, 2, "${") != 0) {
        out += in[i++];
        continue;
      }
      const size_t close = in.find('}', i + 2);
      const std::string name = in.substr(i + 2, close == std::string::npos ? std::string::npos : close - i - 2);
      bool valid = close != std::string::npos && !name.empty();
      for (size_t k = 0; valid && k < name.size(); ++k) valid = envNameChar(name[k], k == 0);
      if (!valid) {
        ctx.error(n, path(), "malformed environment reference (expected ${NAME}; write $${ for a literal ${)");
        ok = false;
        return;
      }
      const char* value = lookup ? lookup(name.c_str(), arg) : std::getenv(name.c_str());
      if (value == nullptr) {
        ctx.error(n, path(), "environment variable '" + name + "' is not set");
        ok = false;
        // Keep scanning: report every unset variable of this value.
        out += in.substr(i, close + 1 - i);
      } else {
        out += value;
      }
      i = close + 1;
      changed = true;
    }
    if (!changed) return;
    // Assigning a string to a scalar node keeps its mark (line/column) and tag.
    n = out;
    done.push_back(n);
  }

  void node(const YAML::Node& n) {
    switch (n.Type()) {
      case YAML::NodeType::Scalar:
        scalar(n);
        break;
      case YAML::NodeType::Sequence: {
        size_t i = 0;
        for (auto it = n.begin(); it != n.end(); ++it, ++i) {
          steps.push_back({nullptr, i});
          node(*it);
          steps.pop_back();
        }
        break;
      }
      case YAML::NodeType::Map: {
        static const std::string kNotAScalar = "?";
        for (auto it = n.begin(); it != n.end(); ++it) {
          steps.push_back({it->first.IsScalar() ? &it->first.Scalar() : &kNotAScalar, 0});
          node(it->second);
          steps.pop_back();
        }
        break;
      }
      default:
        break;
    }
  }
};

}  // namespace

bool mayReferToEnv(std::string_view text) {
  // YAML's double-quoted escapes for '$': \x24, \u0024, \U00000024.
  return text.find('$') != std::string_view::npos || text.find("\\x24") != std::string_view::npos ||
         text.find("\\u0024") != std::string_view::npos || text.find("\\U00000024") != std::string_view::npos;
}

bool substituteEnv(YAML::Node root, ParseContext& ctx, EnvLookup lookup, void* arg) {
  EnvWalk walk{ctx, lookup, arg, true, {}, {}};
  walk.node(root);
  return walk.ok;
}

bool parseDuration(std::string_view text, Duration& out) {
  if (text == "0") {
    out = Duration::zero();
    return true;
  }
  const size_t digits = text.find_first_not_of("0123456789");
  if (digits == 0 || digits == std::string_view::npos) return false;
  const std::string_view unit = text.substr(digits);
  uint64_t scale;
  if (unit == "ms")
    scale = 1;
  else if (unit == "s")
    scale = 1000;
  else if (unit == "m")
    scale = 60 * 1000;
  else if (unit == "h")
    scale = 60 * 60 * 1000;
  else
    return false;
  uint64_t n = 0;
  if (!parseUint(text.substr(0, digits), n)) return false;  // also rejects overflow of n itself
  constexpr uint64_t kMax = std::numeric_limits<Duration::rep>::max();
  if (n > kMax / scale) return false;
  out = Duration(static_cast<Duration::rep>(n * scale));
  return true;
}

MapReader::MapReader(ParseContext& ctx, const YAML::Node& node, std::string path)
    : ctx_(ctx), node_(node), path_(std::move(path)), is_map_(node.IsMap()) {
  if (!is_map_) {
    ctx_.error(node, path_, "expected a mapping");
    return;
  }
  fields_.reserve(node.size());
  // A config's mappings have a few keys each: a scan finds an earlier
  // duplicate. A set, only for a long one.
  std::unordered_set<std::string_view> seen;
  const bool long_map = node.size() > 32;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const auto& kv = *it;
    const bool scalar = kv.first.IsScalar();
    // The key's text lives in the document, which node_ holds.
    const std::string_view key = scalar ? std::string_view(kv.first.Scalar()) : kNonScalarKey;
    // yaml-cpp silently keeps both of a duplicated key; one would be ignored.
    if (scalar && (long_map ? !seen.insert(key).second : find(key) != nullptr))
      ctx_.error(kv.first, path_, "duplicate field '" + std::string(key) + "'");
    fields_.push_back(Field{key, scalar, false, kv.second});
  }
}

const MapReader::Field* MapReader::find(std::string_view key) const {
  // The first of duplicate keys wins (the duplicates themselves are
  // reported by the constructor).
  for (const Field& f : fields_)
    if (f.scalar_key && f.key == key) return &f;
  return nullptr;
}

const MapReader::Field* MapReader::lookup(std::string_view key) {
  const Field* first = nullptr;
  bool named = false;
  for (Field& f : fields_) {
    if (f.key != key) continue;
    f.known = true;
    named = true;
    if (first == nullptr && f.scalar_key) first = &f;
  }
  if (!named && std::find(absent_known_.begin(), absent_known_.end(), key) == absent_known_.end())
    absent_known_.emplace_back(key);
  return first;
}

std::string MapReader::childPath(std::string_view key) const {
  if (path_.empty()) return std::string(key);
  return path_ + "." + std::string(key);
}

bool MapReader::has(std::string_view key) const { return find(key) != nullptr; }

YAML::Node MapReader::child(std::string_view key) {
  const Field* f = lookup(key);
  return f != nullptr ? f->value : YAML::Node(YAML::NodeType::Undefined);
}

void MapReader::string(std::string_view key, std::string& out, bool required) {
  const YAML::Node n = child(key);
  if (!n.IsDefined()) {
    if (required) ctx_.error(node_, childPath(key), "missing required field");
    return;
  }
  if (!n.IsScalar()) {
    ctx_.error(n, childPath(key), "expected a string");
    return;
  }
  out = n.Scalar();
}

void MapReader::address(std::string_view key, ip::Address& out, bool required) {
  const YAML::Node n = child(key);
  if (!n.IsDefined()) {
    if (required) ctx_.error(node_, childPath(key), "missing required field");
    return;
  }
  if (!n.IsScalar()) {
    // An unquoted "[::1]:80" reads as a YAML list.
    ctx_.error(n, childPath(key),
               n.IsSequence() ? "expected a string (quote IPv6 addresses: \"[::1]:80\")" : "expected a string");
    return;
  }
  std::string why;
  if (auto a = ip::Address::parse(n.Scalar(), &why))
    out = *a;
  else
    ctx_.error(n, childPath(key), why);
}

void MapReader::duration(std::string_view key, Duration& out, bool required) {
  const YAML::Node n = child(key);
  if (!n.IsDefined()) {
    if (required) ctx_.error(node_, childPath(key), "missing required field");
    return;
  }
  Duration d;
  if (!n.IsScalar() || !parseDuration(n.Scalar(), d)) {
    ctx_.error(n, childPath(key), "expected a duration like 250ms, 5s, 2m, 1h");
    return;
  }
  out = d;
}

void MapReader::uint32(std::string_view key, uint32_t& out, uint32_t min, uint32_t max, bool required) {
  const YAML::Node n = child(key);
  if (!n.IsDefined()) {
    if (required) ctx_.error(node_, childPath(key), "missing required field");
    return;
  }
  uint64_t v = 0;
  if (!n.IsScalar() || !parseUint(n.Scalar(), v) || v < min || v > max) {
    ctx_.error(n, childPath(key), "expected an integer between " + std::to_string(min) + " and " + std::to_string(max));
    return;
  }
  out = static_cast<uint32_t>(v);
}

void MapReader::number(std::string_view key, double& out, double min, double max, bool required) {
  const YAML::Node n = child(key);
  if (!n.IsDefined()) {
    if (required) ctx_.error(node_, childPath(key), "missing required field");
    return;
  }
  const std::string s = n.IsScalar() ? n.Scalar() : "";
  char* end = nullptr;
  const double v = s.empty() ? 0 : std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !(v >= min && v <= max)) {
    ctx_.error(n, childPath(key), "expected a number between " + formatNumber(min) + " and " + formatNumber(max));
    return;
  }
  out = v;
}

void MapReader::boolean(std::string_view key, bool& out, bool required) {
  const YAML::Node n = child(key);
  if (!n.IsDefined()) {
    if (required) ctx_.error(node_, childPath(key), "missing required field");
    return;
  }
  // Only true/false: YAML 1.1's yes/no/on/off are a classic source of surprises.
  const std::string s = n.IsScalar() ? n.Scalar() : "";
  if (s == "true")
    out = true;
  else if (s == "false")
    out = false;
  else
    ctx_.error(n, childPath(key), "expected true or false");
}

SourceLoc MapReader::locOf(std::string_view key) const {
  const Field* f = find(key);
  return config::locOf(f != nullptr ? f->value : node_);
}

void MapReader::finish() {
  if (!is_map_) return;
  if (std::all_of(fields_.begin(), fields_.end(), [](const Field& f) { return f.known; })) return;
  std::unordered_set<std::string> known(absent_known_.begin(), absent_known_.end());
  for (const Field& f : fields_)
    if (f.known) known.emplace(f.key);
  // The pairs again, in the same order as fields_, for the keys' positions.
  size_t i = 0;
  for (auto it = node_.begin(); it != node_.end() && i < fields_.size(); ++it, ++i) {
    const Field& f = fields_[i];
    // A key named by any accessor is known, whichever of its duplicates this is.
    if (f.known || known.count(std::string(f.key))) continue;
    std::string msg = "unknown field '" + std::string(f.key) + "'";
    if (const std::string s = suggest(f.key, known); !s.empty()) msg += "; did you mean '" + s + "'?";
    ctx_.error(it->first, path_, std::move(msg));
  }
}

}  // namespace sluice::config
