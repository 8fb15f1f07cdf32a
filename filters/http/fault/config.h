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
//
// A route's `per_filter_config: {fault: {...}}` takes the same keys and
// replaces the listener's fault for that route. A listener's `fault: {}`
// (neither key) injects nothing itself: it is there for its routes' faults,
// as Envoy's empty HTTPFault. A route's fault must say what it injects.

#include <cstdint>

#include "config/filter_spec.h"
#include "config/model.h"

namespace sluice::filters::fault {

inline constexpr std::string_view kFilterName = "fault";

struct Spec final : config::FilterSpec {
  config::Duration delay{0};
  uint32_t delay_percentage = 0;
  uint32_t abort_status = 0;  // 0: no abort configured
  uint32_t abort_percentage = 0;
  nlohmann::json toJson() const override;
};

const config::HttpFilterReader& reader();

}  // namespace sluice::filters::fault
