#include "filters/http/authz/config.h"

#include "config/yaml_reader.h"

namespace sluice::filters::authz {
namespace {

class Reader final : public config::HttpFilterReader {
 public:
  std::string_view name() const override { return kFilterName; }

  std::shared_ptr<const config::FilterSpec> read(config::MapReader& r) const override {
    auto spec = std::make_shared<Spec>();
    r.string("stat_prefix", spec->stat_prefix, /*required=*/true);
    if (r.child("stat_prefix").IsScalar() && spec->stat_prefix.empty())
      r.ctx().error(r.locOf("stat_prefix"), r.childPath("stat_prefix"), "must not be empty");
    spec->policy = config::readAuthzPolicy(r, config::AuthzLayer::Http);
    r.finish();
    return spec;
  }
};

}  // namespace

nlohmann::json Spec::toJson() const {
  nlohmann::json j = config::authzPolicyJson(policy);
  j["stat_prefix"] = stat_prefix;
  return j;
}

const config::HttpFilterReader& reader() {
  static const Reader r;
  return r;
}

}  // namespace sluice::filters::authz
