#include "filters/http/fault/filter.h"

#include "proxy/event/loop.h"

namespace sluice::filters::fault {

using sluice::http::FilterHeadersStatus;
using sluice::http::ResponseFlag;

FaultFilter::FaultFilter(const Spec& listener_spec, PercentRoll roll) : spec_(&listener_spec), roll_(roll) {}

bool FaultFilter::maybeAbort() {
  if (spec_->abort_status == 0 || roll_() >= spec_->abort_percentage) return false;
  decoder_callbacks_->sendLocalReply(static_cast<int>(spec_->abort_status), "fault filter abort\n",
                                     ResponseFlag::FaultInjected, "fault_filter_abort");
  return true;
}

FilterHeadersStatus FaultFilter::decodeHeaders(sluice::http::HeaderMap&, bool) {
  // The route's config lives in its route table, which the stream holds until
  // it ends: the pointer outlasts a delay.
  if (const auto* route = static_cast<const RuntimeConfig*>(decoder_callbacks_->perFilterConfig(kFilterName)))
    spec_ = &route->spec;
  if (spec_->delay.count() > 0 && roll_() < spec_->delay_percentage) {
    decoder_callbacks_->streamInfo().setFlag(ResponseFlag::DelayInjected);
    delay_timer_ = decoder_callbacks_->loop().createTimer([this] {
      if (!maybeAbort()) decoder_callbacks_->continueDecoding();
    });
    delay_timer_->enable(spec_->delay);
    return FilterHeadersStatus::StopIteration;
  }
  return maybeAbort() ? FilterHeadersStatus::StopIteration : FilterHeadersStatus::Continue;
}

void FaultFilter::onDestroy() { delay_timer_.reset(); }

}  // namespace sluice::filters::fault
