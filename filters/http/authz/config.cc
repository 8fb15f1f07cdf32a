#include "filters/http/authz/config.h"

#include "config/field_reader.h"
#include "config/yaml_reader.h"

namespace sluice::filters::authz {
namespace {

class Reader final : public config::HttpFilterReader {
 public:
  std::string_view name() const override { return kFilterName; }

  std::shared_ptr<const config::FilterSpec> read(config::MapReader& r) const override {
    auto spec = std::make_shared<Spec>();
    config::readStatPrefix(r, spec->stat_prefix);
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
