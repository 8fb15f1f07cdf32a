#include "filters/network/local_ratelimit/config.h"

#include "config/field_reader.h"
#include "config/yaml_reader.h"

namespace sluice::filters::l4_ratelimit {
namespace {

class Reader final : public config::NetworkFilterReader {
 public:
  std::string_view name() const override { return "local_ratelimit"; }
  bool terminal() const override { return false; }

  std::shared_ptr<const config::FilterSpec> read(config::MapReader& r) const override {
    auto spec = std::make_shared<Spec>();
    config::readStatPrefix(r, spec->stat_prefix);
    config::readLocalLimitSpec(r, spec->limit, /*request_keys=*/false);
    if (!r.has("token_bucket")) r.ctx().error(r.node(), r.childPath("token_bucket"), "missing required field");
    r.boolean("shadow", spec->shadow);
    r.finish();
    return spec;
  }
};

}  // namespace

nlohmann::json Spec::toJson() const {
  nlohmann::json j = {{"stat_prefix", stat_prefix}, {"shadow", shadow}};
  config::addLocalLimitJson(limit, j);
  return j;
}

const config::NetworkFilterReader& reader() {
  static const Reader r;
  return r;
}

}  // namespace sluice::filters::l4_ratelimit
