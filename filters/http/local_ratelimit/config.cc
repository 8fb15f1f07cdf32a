#include "filters/http/local_ratelimit/config.h"

#include "config/yaml_reader.h"

namespace sluice::filters::local_ratelimit {
namespace {

class Reader final : public config::HttpFilterReader {
 public:
  std::string_view name() const override { return kFilterName; }

  std::shared_ptr<const config::FilterSpec> read(config::MapReader& r) const override {
    auto spec = std::make_shared<Spec>();
    r.string("stat_prefix", spec->stat_prefix, /*required=*/true);
    if (r.has("stat_prefix") && spec->stat_prefix.empty())
      r.ctx().error(r.locOf("stat_prefix"), r.childPath("stat_prefix"), "must not be empty");
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
