#include "filters/http/header_mutation/config.h"

#include "config/yaml_reader.h"

namespace sluice::filters::header_mutation {
namespace {

class Reader final : public config::HttpFilterReader {
 public:
  std::string_view name() const override { return "header_mutation"; }
  std::shared_ptr<const config::FilterSpec> read(config::MapReader& r) const override {
    auto spec = std::make_shared<Spec>();
    config::readHeaderMutation(r, spec->mutation);
    r.finish();
    return spec;
  }
};

}  // namespace

nlohmann::json Spec::toJson() const { return config::headerMutationJson(mutation); }

const config::HttpFilterReader& reader() {
  static const Reader r;
  return r;
}

}  // namespace sluice::filters::header_mutation
