#pragma once
// The overload manager's settings (bootstrap key `overload:`): the resources
// the main thread samples, each with its limit, and the actions taken while
// a resource's pressure (in use / max) is at or above a threshold. Plain
// data; the proxy builds its OverloadManager from it (proxy/overload/).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::config {

using Duration = std::chrono::milliseconds;  // as in config/model.h

class MapReader;

enum class OverloadResource : uint8_t {
  DownstreamConnections,  // connections open on every listener
  HeapBytes,              // heap in use (allocated and not freed)
};
inline constexpr size_t kOverloadResources = 2;

enum class OverloadAction : uint8_t {
  StopAccepting,     // listeners take no new connection (queued ones wait)
  DisableKeepalive,  // the next response closes its connection
  ShedRequests,      // new requests get 503 (flag OL); those in flight finish
};
inline constexpr size_t kOverloadActions = 3;

std::string_view overloadResourceName(OverloadResource r);
std::string_view overloadActionName(OverloadAction a);

// One `actions` entry. An action listed several times is active while any
// of its triggers is.
struct OverloadTrigger {
  OverloadAction action = OverloadAction::StopAccepting;
  OverloadResource resource = OverloadResource::DownstreamConnections;
  double at = 1.0;          // active once pressure >= at
  double release_at = 0.95;  // active until pressure <= release_at (hysteresis)
  bool operator==(const OverloadTrigger&) const = default;
};

struct OverloadSpec {
  Duration refresh_interval{std::chrono::milliseconds(250)};
  // Indexed by OverloadResource; 0 = not watched.
  std::array<uint64_t, kOverloadResources> max{};
  std::vector<OverloadTrigger> triggers;
  bool enabled() const { return !triggers.empty(); }
  bool operator==(const OverloadSpec&) const = default;
};

// Reads `overload` from the top-level map into out.
void readOverload(MapReader& top, OverloadSpec& out);
// Parses "512Mi", "64Ki", "2Gi" or a plain byte count; false on bad input.
bool parseByteSize(std::string_view text, uint64_t& out);
nlohmann::json toJson(const OverloadSpec& spec);

}  // namespace sluice::config
