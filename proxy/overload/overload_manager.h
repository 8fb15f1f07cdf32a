#pragma once
// The overload manager, after Envoy's: every refresh_interval the main thread
// samples each watched resource, turns it into a pressure (in use / max),
// decides which actions are active and publishes them in an OverloadState
// that workers read with one relaxed load. Listeners stop accepting, the
// HTTP connection manager closes keep-alive connections or sheds requests,
// each by reading that state; the admin server shows it in /metrics and
// /ready. Main thread only, except state().

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "config/overload.h"
#include "proxy/event/loop.h"
#include "proxy/event/timer.h"
#include "proxy/overload/overload_state.h"

namespace sluice::overload {

class OverloadManager {
 public:
  // Reads a resource's use now (connections, bytes).
  using Sampler = std::function<uint64_t()>;
  using Samplers = std::array<Sampler, config::kOverloadResources>;
  using Pressures = std::array<double, config::kOverloadResources>;
  // Runs after a refresh changed the active actions, with the bits before and after.
  using OnChange = std::function<void(uint32_t before, uint32_t after)>;

  OverloadManager(event::Loop& loop, Samplers samplers, OnChange on_change);

  // At start and on every reload: samples at once with the new limits and
  // refreshes on the new interval (not at all without actions). Actions
  // active now stay active while the new triggers hold them.
  void configure(const config::OverloadSpec& spec);
  const OverloadState& state() const { return state_; }

  // The actions active at `pressure`, given those active before: an action
  // turns on when a trigger's pressure reaches its `at`, and stays on while
  // any of its triggers is above its `release_at`.
  static uint32_t evaluate(const config::OverloadSpec& spec, const Pressures& pressure, uint32_t before);

  struct ResourceView {
    config::OverloadResource resource;
    uint64_t used = 0;
    uint64_t max = 0;
    double pressure = 0;
  };
  // The watched resources as last sampled.
  std::vector<ResourceView> resources() const;
  // Times the action turned on since start.
  uint64_t activations(config::OverloadAction a) const { return activations_[static_cast<size_t>(a)]; }

 private:
  void refresh();

  event::Loop& loop_;
  Samplers samplers_;
  OnChange on_change_;
  config::OverloadSpec spec_;
  OverloadState state_;
  std::array<uint64_t, config::kOverloadResources> used_{};
  Pressures pressure_{};
  std::array<uint64_t, config::kOverloadActions> activations_{};
  std::unique_ptr<event::Timer> timer_;
};

}  // namespace sluice::overload
