#include "proxy/overload/overload_manager.h"

namespace sluice::overload {

OverloadManager::OverloadManager(event::Loop& loop, Samplers samplers, OnChange on_change)
    : loop_(loop), samplers_(std::move(samplers)), on_change_(std::move(on_change)) {
  timer_ = loop_.createTimer([this] {
    refresh();
    timer_->enable(spec_.refresh_interval);
  });
}

void OverloadManager::configure(const config::OverloadSpec& spec) {
  spec_ = spec;
  used_ = {};
  pressure_ = {};
  refresh();
  if (spec_.enabled()) {
    timer_->enable(spec_.refresh_interval);
  } else {
    timer_->disable();
  }
}

uint32_t OverloadManager::evaluate(const config::OverloadSpec& spec, const Pressures& pressure, uint32_t before) {
  uint32_t after = 0;
  for (const auto& t : spec.triggers) {
    const uint32_t bit = OverloadState::bit(t.action);
    const double p = pressure[static_cast<size_t>(t.resource)];
    // Below `at` but above `release_at` an action keeps the state it had:
    // one connection closing at the limit must not flap it.
    if ((before & bit) != 0 ? p > t.release_at : p >= t.at) after |= bit;
  }
  return after;
}

void OverloadManager::refresh() {
  for (size_t i = 0; i < config::kOverloadResources; ++i) {
    // An unwatched resource is not sampled: the heap walk takes the allocator's locks.
    if (spec_.max[i] == 0 || !samplers_[i]) continue;
    used_[i] = samplers_[i]();
    pressure_[i] = static_cast<double>(used_[i]) / static_cast<double>(spec_.max[i]);
  }
  const uint32_t before = state_.bits();
  const uint32_t after = evaluate(spec_, pressure_, before);
  if (after == before) return;
  for (size_t a = 0; a < config::kOverloadActions; ++a) {
    const uint32_t bit = OverloadState::bit(static_cast<config::OverloadAction>(a));
    if ((after & bit) != 0 && (before & bit) == 0) ++activations_[a];
  }
  state_.publish(after);
  if (on_change_) on_change_(before, after);
}

std::vector<OverloadManager::ResourceView> OverloadManager::resources() const {
  std::vector<ResourceView> out;
  for (size_t i = 0; i < config::kOverloadResources; ++i)
    if (spec_.max[i] > 0)
      out.push_back({static_cast<config::OverloadResource>(i), used_[i], spec_.max[i], pressure_[i]});
  return out;
}

}  // namespace sluice::overload
