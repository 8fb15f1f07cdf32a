#include "control/delta_stream.h"

#include "xds/type_urls.h"

namespace sluice::control {

namespace {
constexpr std::string_view kWildcard = "*";
}  // namespace

void DeltaStream::handle(const envoy::service::discovery::v3::DeltaDiscoveryRequest& request) {
  const std::string& type = request.type_url();
  if (type.empty()) return;
  auto [it, first] = types_.try_emplace(type);
  TypeState& t = it->second;

  if (t.sent && !request.response_nonce().empty() && request.response_nonce() == t.nonce) {
    if (request.has_error_detail()) {
      if (!t.nacked) hub_.metrics().nacked(type);
      t.nacked = true;
      t.acked = false;
      t.error = request.error_detail().message();
    } else {
      t.acked = true;
      t.nacked = false;
      t.version_acked = t.version_sent;
      t.error.clear();
    }
  }

  bool changed = first;
  if (first) {
    t.wildcard = xds::isFullSetType(type) && request.resource_names_subscribe().empty();
    for (const auto& [name, version] : request.initial_resource_versions()) t.held.emplace(name, version);
  }
  for (const auto& n : request.resource_names_subscribe()) {
    if (n == kWildcard) {
      changed |= !t.wildcard;
      t.wildcard = true;
    } else {
      changed |= t.names.insert(n).second;
    }
  }
  for (const auto& n : request.resource_names_unsubscribe()) {
    if (n == kWildcard) {
      t.wildcard = false;
    } else {
      t.names.erase(n);
    }
  }
  // What the client holds and no longer follows, it forgets (no removal is
  // sent for an unsubscribed name).
  if (!t.wildcard) {
    std::erase_if(t.held, [&](const auto& kv) { return !t.names.contains(kv.first); });
  }
  if (changed && served_) respond(type, t, {}, /*always=*/first || !t.sent);
}

void DeltaStream::respond(const std::string& type_url, TypeState& t, std::chrono::steady_clock::time_point published,
                          bool always) {
  const std::string version(served_->version(type_url));

  // What the client should hold: name -> entry.
  std::map<std::string_view, const TypeSnapshot::Entry*> want;
  std::vector<std::shared_ptr<const TypeSnapshot::Entry>> on_demand;  // keeps entries alive
  const TypeSnapshot* all = served_->snapshot().find(type_url);
  if (t.wildcard && all) {
    for (const auto& [name, entry] : all->resources) want.emplace(name, &entry);
  }
  for (const auto& name : t.names) {
    // The type's table looked up once above, not per name (streams x names per publish).
    const TypeSnapshot::Entry* entry = nullptr;
    if (all) {
      if (auto it = all->resources.find(name); it != all->resources.end()) entry = &it->second;
    }
    if (entry) {
      want.emplace(name, entry);
    } else if (type_url == xds::kListenerType) {
      if (auto od = served_->onDemandListener(name)) {
        want.emplace(name, od.get());
        on_demand.push_back(std::move(od));
      }
    }
  }
  // Within one snapshot the type, its version and the resources (name and
  // version) and removals a response carries decide its bytes.
  std::string key;
  ServedSnapshot::appendKeyPart(key, type_url);
  ServedSnapshot::appendKeyPart(key, version);
  std::vector<std::pair<std::string_view, const TypeSnapshot::Entry*>> updated;
  for (const auto& [name, entry] : want) {
    auto held = t.held.find(name);
    if (held != t.held.end() && held->second == entry->version) continue;
    updated.emplace_back(name, entry);
    ServedSnapshot::appendKeyPart(key, name);
    ServedSnapshot::appendKeyPart(key, entry->version);
    if (held != t.held.end()) {
      held->second = entry->version;
    } else {
      t.held.emplace(std::string(name), entry->version);
    }
  }
  std::vector<std::string> removed;
  for (auto it = t.held.begin(); it != t.held.end();) {
    if (!want.contains(it->first)) {
      removed.push_back(it->first);
      it = t.held.erase(it);
    } else {
      ++it;
    }
  }
  t.covered = version;
  if (!always && updated.empty() && removed.empty()) return;
  key += "removed";  // not a part: no list of parts ends this way
  for (const auto& name : removed) ServedSnapshot::appendKeyPart(key, name);
  t.response = served_->response(key, [&] {
    envoy::service::discovery::v3::DeltaDiscoveryResponse r;
    r.set_type_url(type_url);
    r.set_system_version_info(version);
    for (const auto& [name, entry] : updated) {
      auto* res = r.add_resources();
      res->set_name(std::string(name));
      res->set_version(entry->version);
      *res->mutable_resource() = entry->body;
    }
    for (const auto& name : removed) r.add_removed_resources(name);
    return std::make_shared<const SharedResponse>(r, type_url, version);
  });
  t.nonce = nextNonce();
  t.sent = true;
  t.version_sent = version;
  t.acked = false;
  t.nacked = false;
  // Never superseded: each delta response builds on the ones before it.
  queue(t.response, t.nonce, published, /*supersede=*/false);
}

void DeltaStream::adopt(std::shared_ptr<const ServedSnapshot> served, std::chrono::steady_clock::time_point published) {
  std::lock_guard lock(mu_);
  served_ = std::move(served);
  group_ = served_->snapshot().group;
  // A type whose snapshot version is the one this client was last compared
  // with has the same resources, and the subscription changes since were
  // answered as they came: nothing to send, and nothing to walk (a publish
  // reaches every stream of the group, most types unchanged). On-demand
  // listeners follow the route tables, not the listeners' version.
  auto unchanged = [&](std::string_view type, const TypeState& t) {
    return t.sent && t.covered == served_->version(type) &&
           (type != xds::kListenerType || t.names.empty() || !served_->snapshot().on_demand_listener);
  };
  auto update = [&](const std::string& type, TypeState& t) {
    if (!unchanged(type, t)) respond(type, t, published, !t.sent);
  };
  for (const auto type : xds::kSendOrder) {
    if (auto it = types_.find(type); it != types_.end()) update(it->first, it->second);
  }
  for (auto& [type, t] : types_) {
    if (std::find(xds::kSendOrder.begin(), xds::kSendOrder.end(), type) == xds::kSendOrder.end()) update(type, t);
  }
}

ProxyStatus DeltaStream::status() const {
  std::lock_guard lock(mu_);
  ProxyStatus s = baseStatus();
  for (const auto& [type, t] : types_) {
    ProxyStatus::PerType p;
    p.type_url = type;
    p.version_sent = t.version_sent;
    p.version_acked = t.version_acked;
    p.error = t.error;
    if (t.nacked) {
      p.state = ProxyStatus::PerType::State::Nacked;
    } else if (t.acked && served_ && t.covered == served_->version(type)) {
      p.state = ProxyStatus::PerType::State::Synced;
    } else {
      p.state = ProxyStatus::PerType::State::Stale;
    }
    s.types.push_back(std::move(p));
  }
  return s;
}

}  // namespace sluice::control
