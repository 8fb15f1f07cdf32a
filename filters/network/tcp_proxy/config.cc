#include "filters/network/tcp_proxy/config.h"

#include "config/config_json.h"
#include "config/yaml_reader.h"

namespace sluice::filters::tcp_proxy {
namespace {

class Reader final : public config::NetworkFilterReader {
 public:
  std::string_view name() const override { return "tcp_proxy"; }
  bool terminal() const override { return true; }

  std::shared_ptr<const config::FilterSpec> read(config::MapReader& r) const override {
    auto spec = std::make_shared<Spec>();
    r.string("cluster", spec->cluster, /*required=*/true);
    spec->cluster_loc = r.locOf("cluster");
    r.duration("idle_timeout", spec->idle_timeout);
    r.uint32("max_connect_attempts", spec->max_connect_attempts, 1, 16);
    r.finish();
    return spec;
  }

  void validate(const config::FilterSpec& base, const config::Config& whole, std::string_view path,
                config::ParseContext& ctx) const override {
    const auto& spec = static_cast<const Spec&>(base);
    if (!spec.cluster.empty() && whole.findCluster(spec.cluster) == nullptr)
      ctx.missingReference(spec.cluster_loc, std::string(path) + ".cluster", "unknown cluster '" + spec.cluster + "'");
  }
};

}  // namespace

nlohmann::json Spec::toJson() const {
  return {{"cluster", cluster},
          {"idle_timeout", config::durationString(idle_timeout)},
          {"max_connect_attempts", max_connect_attempts}};
}

const config::NetworkFilterReader& reader() {
  static const Reader r;
  return r;
}

}  // namespace sluice::filters::tcp_proxy
