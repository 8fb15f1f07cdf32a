#include "filters/http/fault/config.h"

#include "config/config_json.h"
#include "config/yaml_reader.h"

namespace sluice::filters::fault {
namespace {

class Reader final : public config::HttpFilterReader {
 public:
  std::string_view name() const override { return kFilterName; }

  std::shared_ptr<const config::FilterSpec> read(config::MapReader& r) const override { return readSpec(r, false); }

  std::shared_ptr<const config::FilterSpec> readPerRoute(config::MapReader& r) const override {
    return readSpec(r, true);
  }

 private:
  static std::shared_ptr<const config::FilterSpec> readSpec(config::MapReader& r, bool per_route) {
    auto spec = std::make_shared<Spec>();
    if (r.has("delay")) {
      config::MapReader d(r.ctx(), r.child("delay"), r.childPath("delay"));
      if (d.isMap()) {
        d.duration("fixed_delay", spec->delay, /*required=*/true);
        d.uint32("percentage", spec->delay_percentage, 0, 100, /*required=*/true);
        d.finish();
      }
    }
    if (r.has("abort")) {
      config::MapReader a(r.ctx(), r.child("abort"), r.childPath("abort"));
      if (a.isMap()) {
        a.uint32("http_status", spec->abort_status, 200, 599, /*required=*/true);
        a.uint32("percentage", spec->abort_percentage, 0, 100, /*required=*/true);
        a.finish();
      }
    }
    if (per_route && !r.has("delay") && !r.has("abort"))
      r.ctx().error(r.node(), r.path(), "a route's fault needs a delay, an abort, or both");
    r.finish();
    return spec;
  }
};

}  // namespace

nlohmann::json Spec::toJson() const {
  nlohmann::json j = nlohmann::json::object();
  if (delay_percentage > 0 || delay.count() > 0)
    j["delay"] = {{"fixed_delay", config::durationString(delay)}, {"percentage", delay_percentage}};
  if (abort_status != 0) j["abort"] = {{"http_status", abort_status}, {"percentage", abort_percentage}};
  return j;
}

const config::HttpFilterReader& reader() {
  static const Reader r;
  return r;
}

}  // namespace sluice::filters::fault
