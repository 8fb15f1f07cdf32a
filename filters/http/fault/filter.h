#pragma once
// The fault filter's runtime half (its YAML and spec: config.h): one per
// stream, in the decoder chain. It rolls the dice per request and holds the
// request on a timer of the stream's loop, or answers it locally.

#include <memory>

#include "filters/http/fault/config.h"
#include "proxy/event/timer.h"
#include "proxy/http/filter.h"

namespace sluice::filters::fault {

// Returns a number in [0, 100); injected for tests.
using PercentRoll = uint32_t (*)();

class FaultFilter final : public sluice::http::PassThroughDecoderFilter {
 public:
  FaultFilter(const Spec& spec, PercentRoll roll);
  sluice::http::FilterHeadersStatus decodeHeaders(sluice::http::HeaderMap& headers, bool end_stream) override;
  void onDestroy() override;

 private:
  bool maybeAbort();

  const Spec& spec_;
  PercentRoll roll_;
  std::unique_ptr<event::Timer> delay_timer_;
};

// A fault has no state shared between streams: its runtime config is its spec.
const sluice::http::HttpFilterFactory& factory();

}  // namespace sluice::filters::fault
