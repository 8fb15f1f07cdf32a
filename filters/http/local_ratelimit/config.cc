#include "filters/http/local_ratelimit/config.h"

#include "config/field_reader.h"
#include "config/yaml_reader.h"

namespace sluice::filters::local_ratelimit {
namespace {

class Reader final : public config::HttpFilterReader {
 public:
  std::string_view name() const override { return kFilterName; }

  std::shared_ptr<const config::FilterSpec> read(config::MapReader& r) const override {
    auto spec = std::make_shared<Spec>();
    config::readStatPrefix(r, spec->stat_prefix);
    config::readLocalLimitSpec(r, spec->limit, /*request_keys=*/true);
    r.boolean("shadow", spec->shadow);
    r.boolean("response_headers", spec->response_headers);
    r.finish();
    return spec;
  }
};

}  // namespace

nlohmann::json Spec::toJson() const {
  nlohmann::json j = {{"stat_prefix", stat_prefix}, {"shadow", shadow}, {"response_headers", response_headers}};
  config::addLocalLimitJson(limit, j);
  return j;
}

const config::HttpFilterReader& reader() {
  static const Reader r;
  return r;
}

}  // namespace sluice::filters::local_ratelimit
