#include "control/ads_served_snapshot.h"

#include <cstdio>
#include <functional>

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

}  // namespace sluice::control
