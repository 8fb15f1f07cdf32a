#pragma once
// The fault filter's runtime half (its YAML and spec: config.h): one per
// stream, in the decoder chain. It rolls the dice per request and holds the
// request on a timer of the stream's loop, or answers it locally. A route's
// `per_filter_config.fault` replaces the listener's fault for its requests
// (a mesh's route rules put their faults there, behind an inert `fault: {}`).

#include <memory>

#include "filters/http/fault/config.h"
#include "proxy/event/timer.h"
#include "proxy/http/filter.h"

namespace sluice::filters::fault {

// Returns a number in [0, 100); injected for tests.
using PercentRoll = uint32_t (*)();

// A fault has no state shared between streams: its runtime config, at the
// listener or on a route, is its spec.
struct RuntimeConfig final : sluice::http::HttpFilterConfig {
  explicit RuntimeConfig(const Spec& s) : spec(s) {}
  const Spec spec;
};

class FaultFilter final : public sluice::http::PassThroughDecoderFilter {
 public:
  // `listener_spec`: what applies where the route names no fault of its own.
  FaultFilter(const Spec& listener_spec, PercentRoll roll);
  sluice::http::FilterHeadersStatus decodeHeaders(sluice::http::HeaderMap& headers, bool end_stream) override;
  void onDestroy() override;

 private:
  bool maybeAbort();

  const Spec* spec_;  // the listener's, or the route's from decodeHeaders on
  PercentRoll roll_;
  std::unique_ptr<event::Timer> delay_timer_;
};

const sluice::http::HttpFilterFactory& factory();

}  // namespace sluice::filters::fault
