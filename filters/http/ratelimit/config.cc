// ratelimit: YAML -> Spec, and the config dump.
#include "filters/http/ratelimit/config.h"

#include <cctype>

#include "config/config_json.h"
#include "config/field_reader.h"
#include "config/yaml_reader.h"

namespace sluice::filters::global_ratelimit {
namespace {

constexpr std::string_view kUnits[] = {"second", "minute", "hour"};
constexpr std::string_view kKinds[] = {"client_ip", "header", "path", "generic"};

// Index of `text` in `names`, or -1.
template <size_t N>
int indexOf(const std::string_view (&names)[N], std::string_view text) {
  for (size_t i = 0; i < N; ++i)
    if (names[i] == text) return static_cast<int>(i);
  return -1;
}

template <size_t N>
std::string choices(const std::string_view (&names)[N]) {
  std::string out;
  for (size_t i = 0; i < N; ++i) {
    if (i) out += i + 1 == N ? " or " : ", ";
    out += names[i];
  }
  return out;
}

void readRedis(config::MapReader& parent, Spec& cfg) {
  if (!parent.has("redis")) {
    parent.ctx().error(parent.node(), parent.childPath("redis"), "missing required field");
    return;
  }
  config::MapReader r(parent.ctx(), parent.child("redis"), parent.childPath("redis"));
  if (!r.isMap()) return;
  r.address("address", cfg.redis_address, /*required=*/true);
  if (r.has("timeout")) {
    r.duration("timeout", cfg.redis_timeout);
    if (cfg.redis_timeout.count() <= 0 || cfg.redis_timeout > std::chrono::seconds(10))
      r.ctx().error(r.child("timeout"), r.childPath("timeout"), "must be between 1ms and 10s");
  }
  r.finish();
}

void readLimit(config::MapReader& parent, Spec& cfg) {
  if (!parent.has("limit")) {
    parent.ctx().error(parent.node(), parent.childPath("limit"), "missing required field");
    return;
  }
  config::MapReader r(parent.ctx(), parent.child("limit"), parent.childPath("limit"));
  if (!r.isMap()) return;
  r.uint32("requests_per_unit", cfg.requests_per_unit, 1, 1000000000, /*required=*/true);
  std::string unit = "second";
  r.string("unit", unit);
  if (const int u = indexOf(kUnits, unit); u >= 0) {
    cfg.unit = static_cast<Spec::Unit>(u);
  } else if (r.has("unit")) {
    r.ctx().error(r.child("unit"), r.childPath("unit"), "expected " + choices(kUnits) + ", got '" + unit + "'");
  }
  r.uint32("burst", cfg.burst, 0, 1000000000);
  r.finish();
}

void readDescriptor(config::ParseContext& ctx, const YAML::Node& node, const std::string& path, Spec& cfg) {
  config::MapReader r(ctx, node, path);
  if (!r.isMap()) {
    ctx.error(node, path, "expected a mapping like {key: client_ip}");
    return;
  }
  std::string key;
  r.string("key", key, /*required=*/true);
  const int k = indexOf(kKinds, key);
  if (k < 0 && r.has("key")) ctx.error(r.child("key"), r.childPath("key"), "expected " + choices(kKinds) + ", got '" + key + "'");
  Descriptor d;
  d.kind = static_cast<Descriptor::Kind>(k < 0 ? 0 : k);
  if (k == static_cast<int>(Descriptor::Kind::Header)) {
    r.string("header", d.header, /*required=*/true);
    if (r.has("header") && d.header.empty()) ctx.error(r.child("header"), r.childPath("header"), "must not be empty");
    for (char& c : d.header) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  } else if (k == static_cast<int>(Descriptor::Kind::Generic)) {
    r.string("value", d.value, /*required=*/true);
    if (r.has("value") && d.value.empty()) ctx.error(r.child("value"), r.childPath("value"), "must not be empty");
  }
  r.finish();  // `header` on a non-header descriptor (or `value` on a non-generic one) is an unknown field
  cfg.descriptors.push_back(std::move(d));
}

std::shared_ptr<Spec> readSpec(config::MapReader& r, bool per_route) {
  auto cfg = std::make_shared<Spec>();
  if (per_route && r.has("disabled")) {
    r.boolean("disabled", cfg->disabled);
    if (cfg->disabled) {
      r.finish();  // `disabled: true` stands alone: anything beside it is an unknown field
      return cfg;
    }
  }
  config::readStatPrefix(r, cfg->stat_prefix);
  readRedis(r, *cfg);
  r.string("domain", cfg->domain, /*required=*/true);
  if (r.has("domain") && cfg->domain.empty()) r.ctx().error(r.child("domain"), r.childPath("domain"), "must not be empty");
  readLimit(r, *cfg);
  if (!r.has("descriptors")) r.ctx().error(r.node(), r.childPath("descriptors"), "missing required field");
  r.forEachItem("descriptors", [&](const YAML::Node& item, const std::string& path) {
    readDescriptor(r.ctx(), item, path, *cfg);
  });
  if (r.has("descriptors") && r.child("descriptors").IsSequence() && cfg->descriptors.empty())
    r.ctx().error(r.child("descriptors"), r.childPath("descriptors"), "needs at least one descriptor");
  std::string mode = "allow";
  r.string("failure_mode", mode);
  if (mode == "deny") {
    cfg->failure_mode = Spec::FailureMode::Deny;
  } else if (mode != "allow") {
    r.ctx().error(r.child("failure_mode"), r.childPath("failure_mode"), "expected allow or deny, got '" + mode + "'");
  }
  r.finish();
  return cfg;
}

class Reader final : public config::HttpFilterReader {
 public:
  std::string_view name() const override { return kFilterName; }
  std::shared_ptr<const config::FilterSpec> read(config::MapReader& r) const override {
    return readSpec(r, /*per_route=*/false);
  }
  std::shared_ptr<const config::FilterSpec> readPerRoute(config::MapReader& r) const override {
    return readSpec(r, /*per_route=*/true);
  }
};

}  // namespace

std::string_view kindName(Descriptor::Kind kind) { return kKinds[static_cast<int>(kind)]; }

nlohmann::json Spec::toJson() const {
  if (disabled) return {{"disabled", true}};
  nlohmann::json descs = nlohmann::json::array();
  for (const auto& d : descriptors) {
    nlohmann::json j = {{"key", std::string(kindName(d.kind))}};
    if (d.kind == Descriptor::Kind::Header) j["header"] = d.header;
    if (d.kind == Descriptor::Kind::Generic) j["value"] = d.value;
    descs.push_back(std::move(j));
  }
  return {
      {"stat_prefix", stat_prefix},
      {"redis", {{"address", redis_address.str()}, {"timeout", config::durationString(redis_timeout)}}},
      {"domain", domain},
      {"limit",
       {{"requests_per_unit", requests_per_unit},
        {"unit", std::string(kUnits[static_cast<int>(unit)])},
        {"burst", burst}}},
      {"descriptors", descs},
      {"failure_mode", failure_mode == FailureMode::Deny ? "deny" : "allow"},
  };
}

const config::HttpFilterReader& reader() {
  static const Reader r;
  return r;
}

}  // namespace sluice::filters::global_ratelimit
