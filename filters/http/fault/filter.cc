#include "filters/http/fault/filter.h"

#include "proxy/event/loop.h"

namespace sluice::filters::fault {

using sluice::http::FilterHeadersStatus;
using sluice::http::ResponseFlag;

FaultFilter::FaultFilter(const Spec& spec, PercentRoll roll) : spec_(spec), roll_(roll) {}

bool FaultFilter::maybeAbort() {
  if (spec_.abort_status == 0 || roll_() >= spec_.abort_percentage) return false;
  decoder_callbacks_->sendLocalReply(static_cast<int>(spec_.abort_status), "fault filter abort\n",
                                     ResponseFlag::FaultInjected, "fault_filter_abort");
  return true;
}

FilterHeadersStatus FaultFilter::decodeHeaders(sluice::http::HeaderMap&, bool) {
  if (spec_.delay.count() > 0 && roll_() < spec_.delay_percentage) {
    decoder_callbacks_->streamInfo().setFlag(ResponseFlag::DelayInjected);
    delay_timer_ = decoder_callbacks_->loop().createTimer([this] {
      if (!maybeAbort()) decoder_callbacks_->continueDecoding();
    });
    delay_timer_->enable(spec_.delay);
    return FilterHeadersStatus::StopIteration;
  }
  return maybeAbort() ? FilterHeadersStatus::StopIteration : FilterHeadersStatus::Continue;
}

void FaultFilter::onDestroy() { delay_timer_.reset(); }

}  // namespace sluice::filters::fault
