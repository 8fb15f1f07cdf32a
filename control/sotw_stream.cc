#include "control/sotw_stream.h"

#include <cstdio>
#include <functional>

#include "xds/type_urls.h"

namespace sluice::control {

namespace {
constexpr std::string_view kWildcard = "*";
}  // namespace

void SotwStream::handle(const envoy::service::discovery::v3::DiscoveryRequest& request) {
  const std::string& type = request.type_url();
  if (type.empty()) return;  // ADS needs the type on every request
  auto [it, first] = types_.try_emplace(type);
  TypeState& t = it->second;
  if (t.sent && request.response_nonce() != t.nonce) return;  // stale: no reply, no change

  if (t.sent) {
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

  std::set<std::string, std::less<>> names;
  bool wildcard = false;
  for (const auto& n : request.resource_names()) {
    if (n == kWildcard) {
      wildcard = true;
    } else {
      names.insert(n);
    }
  }
  // Listener and Cluster: no names on the first request is the legacy
  // wildcard, and stays one while later requests name nothing either.
  if (xds::isFullSetType(type) && names.empty() && (first || t.wildcard)) wildcard = true;
  const bool changed = first || wildcard != t.wildcard || names != t.names;
  t.wildcard = wildcard;
  t.names = std::move(names);
  if (changed && served_) respond(type, t, {});
}

std::string SotwStream::versionFor(const std::string& type_url, const TypeState& t) const {
  std::string version(served_->version(type_url));
  if (type_url != xds::kListenerType || !served_->snapshot().on_demand_listener) return version;
  std::string on_demand;
  for (const auto& name : t.names) {
    if (served_->find(type_url, name)) continue;
    const auto entry = served_->onDemandListener(name);
    on_demand += entry ? entry->version : std::string("-");
    on_demand += ',';
  }
  if (on_demand.empty()) return version;
  char digest[24];
  std::snprintf(digest, sizeof digest, "+%016zx", std::hash<std::string>{}(on_demand));
  return version + digest;
}

void SotwStream::respond(const std::string& type_url, TypeState& t, std::chrono::steady_clock::time_point published) {
  std::string version = versionFor(type_url, t);
  // Within one snapshot the type, version and subscription decide the bytes.
  std::string key;
  ServedSnapshot::appendKeyPart(key, type_url);
  ServedSnapshot::appendKeyPart(key, version);
  ServedSnapshot::appendKeyPart(key, t.wildcard ? kWildcard : "");
  for (const auto& name : t.names) ServedSnapshot::appendKeyPart(key, name);
  t.response = served_->response(key, [&] {
    envoy::service::discovery::v3::DiscoveryResponse r;
    r.set_type_url(type_url);
    r.set_version_info(version);
    const TypeSnapshot* all = served_->snapshot().find(type_url);
    if (t.wildcard && all) {
      for (const auto& [name, entry] : all->resources) *r.add_resources() = entry.body;
    }
    for (const auto& name : t.names) {
      if (const auto* entry = served_->find(type_url, name)) {
        if (!t.wildcard) *r.add_resources() = entry->body;
      } else if (type_url == xds::kListenerType) {
        if (auto od = served_->onDemandListener(name)) *r.add_resources() = od->body;
      }
    }
    return std::make_shared<const SharedResponse>(r, type_url, version);
  });
  t.nonce = nextNonce();
  t.sent = true;
  t.version_sent = std::move(version);
  t.acked = false;
  t.nacked = false;
  queue(t.response, t.nonce, published, /*supersede=*/true);
}

void SotwStream::adopt(std::shared_ptr<const ServedSnapshot> served, std::chrono::steady_clock::time_point published) {
  std::lock_guard lock(mu_);
  served_ = std::move(served);
  group_ = served_->snapshot().group;
  auto changed = [&](const std::string& type, TypeState& t) {
    if (!t.sent || versionFor(type, t) != t.version_sent) respond(type, t, published);
  };
  for (const auto type : xds::kSendOrder) {
    if (auto it = types_.find(type); it != types_.end()) changed(it->first, it->second);
  }
  // Types outside Sluice's five, if a client asks and a snapshot has them.
  for (auto& [type, t] : types_) {
    if (std::find(xds::kSendOrder.begin(), xds::kSendOrder.end(), type) == xds::kSendOrder.end()) changed(type, t);
  }
}

ProxyStatus SotwStream::status() const {
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
    } else if (t.acked && served_ && t.version_sent == versionFor(type, t)) {
      p.state = ProxyStatus::PerType::State::Synced;
    } else {
      p.state = ProxyStatus::PerType::State::Stale;
    }
    s.types.push_back(std::move(p));
  }
  return s;
}

}  // namespace sluice::control
