#include "control/ads_served_snapshot.h"

#include <cstdio>
#include <functional>

#include "control/ads_metrics.h"
#include "xds/type_urls.h"

namespace sluice::control {

std::string_view ServedSnapshot::version(std::string_view type_url) const {
  const auto* t = snapshot_->find(type_url);
  return t ? std::string_view(t->version) : std::string_view();
}

const TypeSnapshot::Entry* ServedSnapshot::find(std::string_view type_url, std::string_view name) const {
  const auto* t = snapshot_->find(type_url);
  if (!t) return nullptr;
  auto it = t->resources.find(name);
  return it == t->resources.end() ? nullptr : &it->second;
}

std::shared_ptr<const TypeSnapshot::Entry> ServedSnapshot::onDemandListener(std::string_view name) const {
  if (!snapshot_->on_demand_listener) return nullptr;
  std::lock_guard lock(mu_);
  auto it = on_demand_.find(std::string(name));
  if (it != on_demand_.end()) return it->second;
  std::shared_ptr<const TypeSnapshot::Entry> entry;
  // Translated under the lock: a second stream asking the same name waits
  // for this one rather than translating it again.
  if (auto resource = snapshot_->on_demand_listener(name)) {
    auto e = std::make_shared<TypeSnapshot::Entry>();
    e->body = std::move(resource->body);
    char digest[24];
    std::snprintf(digest, sizeof digest, "d%016zx", std::hash<std::string>{}(e->body.value()));
    e->version = digest;
    entry = std::move(e);
  }
  on_demand_.emplace(std::string(name), entry);
  return entry;
}

std::shared_ptr<const SharedResponse> ServedSnapshot::response(const std::string& key,
                                                               const BuildResponse& build) const {
  std::lock_guard lock(responses_mu_);
  std::weak_ptr<const SharedResponse>& slot = responses_[key];
  if (auto shared = slot.lock()) return shared;
  auto built = build();
  if (metrics_ && built) metrics_->serialized(built->typeUrl());
  slot = built;
  // Keys no stream holds any more (subscriptions that changed, streams
  // gone) would pile up for the snapshot's life: swept when the map has
  // doubled since the last sweep, which keeps the cost per call constant.
  if (responses_.size() > 2 * live_after_sweep_ + 16) {
    std::erase_if(responses_, [](const auto& kv) { return kv.second.expired(); });
    live_after_sweep_ = responses_.size();
  }
  return built;
}

void ServedSnapshot::appendKeyPart(std::string& key, std::string_view part) {
  key += std::to_string(part.size());
  key += ':';
  key += part;
}

}  // namespace sluice::control
