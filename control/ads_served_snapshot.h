#pragma once
// A group's snapshot as the ADS server holds it: the snapshot itself plus
// the on-demand listeners (GroupSnapshot::on_demand_listener) resolved so
// far, so that a thousand proxyless clients asking LDS for "echo" cost one
// translation per snapshot, not one per stream; and the responses its
// streams send, serialized once each (control/ads_shared_response.h), so
// that a push to a thousand streams of a group serializes each type's
// response once, not a thousand times. Shared by every stream of the
// group; any thread.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "control/ads_shared_response.h"
#include "control/snapshot.h"

namespace sluice::control {

class AdsMetrics;

class ServedSnapshot {
 public:
  // `metrics` (may be null) counts the responses serialized.
  explicit ServedSnapshot(std::shared_ptr<const GroupSnapshot> snapshot, AdsMetrics* metrics = nullptr)
      : snapshot_(std::move(snapshot)), metrics_(metrics) {}

  const GroupSnapshot& snapshot() const { return *snapshot_; }
  // The version of `type_url`'s resources ("" when the type is absent).
  std::string_view version(std::string_view type_url) const;
  const TypeSnapshot::Entry* find(std::string_view type_url, std::string_view name) const;

  // A listener `name` that is not among the snapshot's: what
  // on_demand_listener gives for it (named as asked), remembered; null when
  // nothing serves it. The entry's version is a digest of its body, so a
  // later snapshot that resolves it the same way gives the same version.
  std::shared_ptr<const TypeSnapshot::Entry> onDemandListener(std::string_view name) const;

  // The response `key` names: `key` is everything that decides its bytes
  // within this snapshot (its type and the stream's subscription, or the
  // resources and removals it carries), and `build` makes and serializes
  // it when no stream holds one for that key any more. A stream keeps the
  // last response it sent of each type, which keeps it shared with the
  // streams that come after; the cache itself holds none. `build` runs
  // under the cache's lock (a second stream asking the same key waits for
  // it rather than serializing it again): it may call onDemandListener(),
  // not response().
  using BuildResponse = std::function<std::shared_ptr<const SharedResponse>()>;
  std::shared_ptr<const SharedResponse> response(const std::string& key, const BuildResponse& build) const;

  // Appends one part of a response() key, delimited so that no two lists
  // of parts give the same key.
  static void appendKeyPart(std::string& key, std::string_view part);

 private:
  std::shared_ptr<const GroupSnapshot> snapshot_;
  AdsMetrics* metrics_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<const TypeSnapshot::Entry>> on_demand_;
  mutable std::mutex responses_mu_;  // taken before mu_ (build may resolve on-demand listeners)
  mutable std::unordered_map<std::string, std::weak_ptr<const SharedResponse>> responses_;
  mutable size_t live_after_sweep_ = 0;  // responses_ is swept of dead entries when it doubles past this
};

}  // namespace sluice::control
