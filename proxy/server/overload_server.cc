// The main thread's side of the overload manager: what it samples, who hears
// of a change, and what /metrics and /ready show of it.
#include <cstdio>

#include "proxy/log/log.h"
#include "proxy/overload/heap_usage.h"
#include "proxy/server/server.h"

namespace sluice::server {

void Server::startOverloadManager() {
  overload::OverloadManager::Samplers samplers;
  // Every listener's open connections, as /metrics sums them: each worker's
  // gauge, read without a lock (a refresh may be a connection behind).
  samplers[static_cast<size_t>(config::OverloadResource::DownstreamConnections)] = [this] {
    int64_t open = 0;
    for (const auto& [name, per_worker] : stats_->listeners()) open += per_worker->sum(&stats::ListenerStats::downstream_cx_active);
    return static_cast<uint64_t>(std::max<int64_t>(open, 0));
  };
  samplers[static_cast<size_t>(config::OverloadResource::HeapBytes)] = [] { return overload::heapBytesInUse(); };
  overload_ = std::make_unique<overload::OverloadManager>(
      loop_, std::move(samplers), [this](uint32_t before, uint32_t after) { onOverloadChange(before, after); });
}

void Server::onOverloadChange(uint32_t before, uint32_t after) {
  for (size_t a = 0; a < config::kOverloadActions; ++a) {
    const auto action = static_cast<config::OverloadAction>(a);
    const uint32_t bit = overload::OverloadState::bit(action);
    if ((before & bit) == (after & bit)) continue;
    const std::string name(config::overloadActionName(action));
    if (after & bit) {
      log::warn("overload: " + name + " on (" + overloadReason() + ")");
    } else {
      log::info("overload: " + name + " off");
    }
  }
  // Listeners that stopped accepting come back for their queues; the other
  // actions are read per request.
  for (auto& w : workers_) w->onOverloadChanged();
}

std::string Server::overloadReason() const {
  std::string out;
  for (const auto& r : overload_->resources()) {
    char pressure[32];
    std::snprintf(pressure, sizeof(pressure), "%.2f", r.pressure);
    if (!out.empty()) out += ", ";
    out += std::string(config::overloadResourceName(r.resource)) + " " + std::to_string(r.used) + "/" +
           std::to_string(r.max) + " (pressure " + pressure + ")";
  }
  return out;
}

admin::OverloadValues Server::overloadValues() const {
  admin::OverloadValues v;
  for (const auto& r : overload_->resources())
    v.resources.push_back({std::string(config::overloadResourceName(r.resource)), r.used, r.max, r.pressure});
  for (size_t a = 0; a < config::kOverloadActions; ++a) {
    const auto action = static_cast<config::OverloadAction>(a);
    v.actions.push_back(
        {std::string(config::overloadActionName(action)), overload_->state().active(action), overload_->activations(action)});
  }
  return v;
}

}  // namespace sluice::server
