#include "filters/http/fault/fault.h"

#include "config/config_json.h"
#include "config/yaml_reader.h"
#include "proxy/event/loop.h"
#include "proxy/util/random.h"
#include "proxy/util/thread_pool_alloc.h"

namespace sluice::filters::fault {

using sluice::http::FilterHeadersStatus;
using sluice::http::ResponseFlag;

namespace {

uint32_t randomPercent() { return static_cast<uint32_t>(util::threadRandom() % 100); }

class Factory final : public legacy::HttpFactory {
 public:
  std::string_view name() const override { return "fault"; }

  std::shared_ptr<const sluice::http::HttpFilterConfig> parse(config::MapReader& r) const override {
    auto cfg = std::make_shared<FaultConfig>();
    if (r.has("delay")) {
      config::MapReader d(r.ctx(), r.child("delay"), r.childPath("delay"));
      if (d.isMap()) {
        d.duration("fixed_delay", cfg->delay, /*required=*/true);
        d.uint32("percentage", cfg->delay_percentage, 0, 100, /*required=*/true);
        d.finish();
      }
    }
    if (r.has("abort")) {
      config::MapReader a(r.ctx(), r.child("abort"), r.childPath("abort"));
      if (a.isMap()) {
        a.uint32("http_status", cfg->abort_status, 200, 599, /*required=*/true);
        a.uint32("percentage", cfg->abort_percentage, 0, 100, /*required=*/true);
        a.finish();
      }
    }
    if (!r.has("delay") && !r.has("abort")) r.ctx().error(r.node(), r.path(), "fault needs a delay, an abort, or both");
    r.finish();
    return cfg;
  }

  void createFilters(const sluice::http::HttpFilterConfig& cfg, sluice::http::FilterChainBuilder& chain) const override {
    chain.addDecoderFilter(util::makePooledShared<FaultFilter>(static_cast<const FaultConfig&>(cfg), &randomPercent));
  }
};

}  // namespace

nlohmann::json FaultConfig::toJson() const {
  nlohmann::json j = nlohmann::json::object();
  if (delay_percentage > 0 || delay.count() > 0)
    j["delay"] = {{"fixed_delay", config::durationString(delay)}, {"percentage", delay_percentage}};
  if (abort_status != 0) j["abort"] = {{"http_status", abort_status}, {"percentage", abort_percentage}};
  return j;
}

FaultFilter::FaultFilter(const FaultConfig& config, PercentRoll roll) : config_(config), roll_(roll) {}

bool FaultFilter::maybeAbort() {
  if (config_.abort_status == 0 || roll_() >= config_.abort_percentage) return false;
  decoder_callbacks_->sendLocalReply(static_cast<int>(config_.abort_status), "fault filter abort\n",
                                     ResponseFlag::FaultInjected, "fault_filter_abort");
  return true;
}

FilterHeadersStatus FaultFilter::decodeHeaders(sluice::http::HeaderMap&, bool) {
  if (config_.delay.count() > 0 && roll_() < config_.delay_percentage) {
    decoder_callbacks_->streamInfo().setFlag(ResponseFlag::DelayInjected);
    delay_timer_ = decoder_callbacks_->loop().createTimer([this] {
      if (!maybeAbort()) decoder_callbacks_->continueDecoding();
    });
    delay_timer_->enable(config_.delay);
    return FilterHeadersStatus::StopIteration;
  }
  return maybeAbort() ? FilterHeadersStatus::StopIteration : FilterHeadersStatus::Continue;
}

void FaultFilter::onDestroy() { delay_timer_.reset(); }

const legacy::HttpFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::fault
