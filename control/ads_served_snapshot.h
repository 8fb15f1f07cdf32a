#pragma once
// A group's snapshot as the ADS server holds it: the snapshot itself plus
// the on-demand listeners (GroupSnapshot::on_demand_listener) resolved so
// far, so that a thousand proxyless clients asking LDS for "echo" cost one
// translation per snapshot, not one per stream. Shared by every stream of
// the group; any thread.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "control/snapshot.h"

namespace sluice::control {

class ServedSnapshot {
 public:
  explicit ServedSnapshot(std::shared_ptr<const GroupSnapshot> snapshot) : snapshot_(std::move(snapshot)) {}

  const GroupSnapshot& snapshot() const { return *snapshot_; }
  // The version of `type_url`'s resources ("" when the type is absent).
  std::string_view version(std::string_view type_url) const;
  const TypeSnapshot::Entry* find(std::string_view type_url, std::string_view name) const;

  // A listener `name` that is not among the snapshot's: what
  // on_demand_listener gives for it (named as asked), remembered; null when
  // nothing serves it. The entry's version is a digest of its body, so a
  // later snapshot that resolves it the same way gives the same version.
  std::shared_ptr<const TypeSnapshot::Entry> onDemandListener(std::string_view name) const;

 private:
  std::shared_ptr<const GroupSnapshot> snapshot_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<const TypeSnapshot::Entry>> on_demand_;
};

}  // namespace sluice::control
