#include "config/overload.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "config/config_json.h"
#include "config/yaml_reader.h"

namespace sluice::config {
namespace {

constexpr std::string_view kResourceNames[kOverloadResources] = {"downstream_connections", "heap_bytes"};
constexpr std::string_view kActionNames[kOverloadActions] = {"stop_accepting", "disable_keepalive", "shed_requests"};
// Without release_at, an action stays on until pressure is this far below its threshold.
constexpr double kDefaultHysteresis = 0.05;

template <size_t N>
int indexOf(const std::string_view (&names)[N], std::string_view name) {
  for (size_t i = 0; i < N; ++i)
    if (names[i] == name) return static_cast<int>(i);
  return -1;
}

template <size_t N>
std::string listOf(const std::string_view (&names)[N]) {
  std::string s;
  for (size_t i = 0; i < N; ++i) s += (i ? ", " : "") + std::string(names[i]);
  return s;
}

// Resources the YAML names, valid or not: an action on one whose max was
// wrong is not reported a second time.
using Declared = std::array<bool, kOverloadResources>;

void readResources(MapReader& overload, OverloadSpec& out, Declared& declared) {
  const YAML::Node node = overload.child("resources");
  if (!node.IsDefined()) return;
  MapReader r(overload.ctx(), node, overload.childPath("resources"));
  if (!r.isMap()) return;
  for (size_t i = 0; i < kOverloadResources; ++i) {
    const YAML::Node res = r.child(kResourceNames[i]);
    if (!res.IsDefined()) continue;
    declared[i] = true;
    MapReader m(r.ctx(), res, r.childPath(kResourceNames[i]));
    if (!m.isMap()) continue;
    const YAML::Node max = m.child("max");
    uint64_t v = 0;
    if (!max.IsDefined()) {
      m.ctx().error(res, m.childPath("max"), "missing required field");
    } else if (!max.IsScalar() || !parseByteSize(max.Scalar(), v) || v == 0) {
      m.ctx().error(max, m.childPath("max"),
                    i == static_cast<size_t>(OverloadResource::HeapBytes)
                        ? "expected a size greater than 0 (bytes, or with Ki, Mi, Gi, Ti)"
                        : "expected a count greater than 0");
    } else {
      out.max[i] = v;
    }
    m.finish();
  }
  r.finish();
}

void readTrigger(MapReader& overload, const YAML::Node& item, const std::string& path, const Declared& declared,
                 OverloadSpec& out) {
  MapReader a(overload.ctx(), item, path);
  if (!a.isMap()) return;
  OverloadTrigger t;
  bool ok = true;
  std::string name;
  a.string("name", name, /*required=*/true);
  if (const int i = indexOf(kActionNames, name); i >= 0) {
    t.action = static_cast<OverloadAction>(i);
  } else {
    if (a.has("name")) a.ctx().error(a.child("name"), a.childPath("name"), "unknown action '" + name + "'; expected one of " + listOf(kActionNames));
    ok = false;
  }
  const YAML::Node when = a.child("when");
  if (!when.IsDefined()) {
    a.ctx().error(item, a.childPath("when"), "missing required field");
    ok = false;
  } else {
    MapReader w(a.ctx(), when, a.childPath("when"));
    if (!w.isMap()) return;
    std::string resource;
    w.string("resource", resource, /*required=*/true);
    if (const int i = indexOf(kResourceNames, resource); i >= 0) {
      t.resource = static_cast<OverloadResource>(i);
      if (out.max[i] == 0) {
        if (!declared[i])
          w.ctx().error(w.child("resource"), w.childPath("resource"),
                        "resource '" + resource + "' has no max under overload.resources");
        ok = false;
      }
    } else {
      if (w.has("resource"))
        w.ctx().error(w.child("resource"), w.childPath("resource"),
                      "unknown resource '" + resource + "'; expected one of " + listOf(kResourceNames));
      ok = false;
    }
    w.number("at", t.at, 0.01, 1.0, /*required=*/true);
    t.release_at = std::max(0.0, t.at - kDefaultHysteresis);
    if (w.has("release_at")) {
      double release = t.release_at;
      w.number("release_at", release, 0.0, 1.0);
      if (release >= t.at) {
        w.ctx().error(w.child("release_at"), w.childPath("release_at"), "must be below `at` (the action would never end)");
        ok = false;
      }
      t.release_at = release;
    }
    w.finish();
  }
  a.finish();
  if (ok) out.triggers.push_back(t);
}

}  // namespace

std::string_view overloadResourceName(OverloadResource r) { return kResourceNames[static_cast<size_t>(r)]; }
std::string_view overloadActionName(OverloadAction a) { return kActionNames[static_cast<size_t>(a)]; }

bool parseByteSize(std::string_view text, uint64_t& out) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end == text.data()) return false;
  const std::string_view suffix(end, static_cast<size_t>(text.data() + text.size() - end));
  int shift = 0;
  if (suffix == "Ki") shift = 10;
  else if (suffix == "Mi") shift = 20;
  else if (suffix == "Gi") shift = 30;
  else if (suffix == "Ti") shift = 40;
  else if (!suffix.empty()) return false;
  if (shift > 0 && v > (UINT64_MAX >> shift)) return false;
  out = v << shift;
  return true;
}

void readOverload(MapReader& top, OverloadSpec& out) {
  const YAML::Node node = top.child("overload");
  if (!node.IsDefined()) return;
  MapReader r(top.ctx(), node, "overload");
  if (!r.isMap()) return;
  r.duration("refresh_interval", out.refresh_interval);
  if (out.refresh_interval < std::chrono::milliseconds(10))
    r.ctx().error(r.locOf("refresh_interval"), r.childPath("refresh_interval"), "must be at least 10ms");
  Declared declared{};
  readResources(r, out, declared);  // before the actions, which name them
  r.forEachItem("actions",
                [&](const YAML::Node& item, const std::string& path) { readTrigger(r, item, path, declared, out); });
  r.finish();
}

nlohmann::json toJson(const OverloadSpec& spec) {
  nlohmann::json resources = nlohmann::json::object();
  for (size_t i = 0; i < kOverloadResources; ++i)
    if (spec.max[i] > 0) resources[std::string(kResourceNames[i])] = {{"max", spec.max[i]}};
  nlohmann::json actions = nlohmann::json::array();
  for (const auto& t : spec.triggers)
    actions.push_back({{"name", overloadActionName(t.action)},
                       {"when", {{"resource", overloadResourceName(t.resource)}, {"at", t.at}, {"release_at", t.release_at}}}});
  return {{"refresh_interval", durationString(spec.refresh_interval)}, {"resources", std::move(resources)},
          {"actions", std::move(actions)}};
}

}  // namespace sluice::config
