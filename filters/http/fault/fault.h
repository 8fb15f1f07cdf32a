#pragma once
// fault: injects delays and aborts into a share of requests, to exercise
// timeouts, retries and outlier detection under controlled failure.
//
//   fault:
//     delay: {fixed_delay: 200ms, percentage: 10}   # hold 10% of requests for 200ms
//     abort: {http_status: 503, percentage: 5}      # answer 5% locally with 503
//
// A request may be both delayed and then aborted. Percentages are whole
// numbers 0..100; each request rolls independently.

#include <memory>

#include "config/model.h"
#include "proxy/event/timer.h"
#include "proxy/http/filter.h"
#include "filters/legacy.h"

namespace sluice::filters::fault {

struct FaultConfig final : sluice::http::HttpFilterConfig {
  config::Duration delay{0};
  uint32_t delay_percentage = 0;
  uint32_t abort_status = 0;  // 0: no abort configured
  uint32_t abort_percentage = 0;
  nlohmann::json toJson() const override;
};

// Returns a number in [0, 100); injected for tests.
using PercentRoll = uint32_t (*)();

class FaultFilter final : public sluice::http::PassThroughDecoderFilter {
 public:
  FaultFilter(const FaultConfig& config, PercentRoll roll);
  sluice::http::FilterHeadersStatus decodeHeaders(sluice::http::HeaderMap& headers, bool end_stream) override;
  void onDestroy() override;

 private:
  bool maybeAbort();

  const FaultConfig& config_;
  PercentRoll roll_;
  std::unique_ptr<event::Timer> delay_timer_;
};

const legacy::HttpFactory& factory();

}  // namespace sluice::filters::fault
