#include "proxy/ads/subscriptions.h"

#include "xds/type_urls.h"

namespace sluice::ads {

void TypeState::rollBack() {
  accepted = acked;
  accepted_versions = acked_versions;
  pending.reset();
}

void TypeState::commit() {
  acked = accepted;
  acked_versions = accepted_versions;
  if (pending) acked_version = pending->version;
}

Subscriptions::Subscriptions(event::MonoTime now) {
  for (auto type : xds::kSendOrder) {
    TypeState t;
    t.type_url = std::string(type);
    t.wildcard = xds::isFullSetType(type);
    if (t.wildcard) t.type_waiting_since = now;
    types_.push_back(std::move(t));
  }
}

TypeState* Subscriptions::find(std::string_view type_url) {
  for (auto& t : types_)
    if (t.type_url == type_url) return &t;
  return nullptr;
}

std::vector<TypeState*> Subscriptions::all() {
  std::vector<TypeState*> out;
  for (auto& t : types_) out.push_back(&t);
  return out;
}

bool Subscriptions::setNames(std::string_view type_url, const std::set<std::string>& names, event::MonoTime now) {
  TypeState& t = at(type_url);
  if (t.wildcard || t.names == names) return false;
  for (const auto& old : t.names) {
    if (names.count(old)) continue;
    t.accepted.erase(old);
    t.accepted_versions.erase(old);
    t.acked.erase(old);  // the next publish leaves it out; nothing refers to it any more
    t.acked_versions.erase(old);
    t.waiting_since.erase(old);
  }
  for (const auto& name : names)
    if (!t.names.count(name) && !t.accepted.count(name)) t.waiting_since.emplace(name, now);
  t.names = names;
  return true;
}

Subscriptions::Awaited Subscriptions::awaited(event::MonoTime now, event::Duration timeout) const {
  Awaited out;
  auto consider = [&](event::MonoTime since, std::string what) {
    const auto deadline = since + timeout;
    if (deadline <= now) return;
    out.what.push_back(std::move(what));
    if (!out.until || deadline < *out.until) out.until = deadline;
  };
  for (const auto& t : types_) {
    const std::string type(xds::shortTypeName(t.type_url));
    if (t.type_waiting_since) consider(*t.type_waiting_since, type + " (first response)");
    for (const auto& [name, since] : t.waiting_since) consider(since, type + " '" + name + "'");
  }
  return out;
}

void Subscriptions::arrived(TypeState& t) {
  t.type_waiting_since.reset();
  for (auto it = t.waiting_since.begin(); it != t.waiting_since.end();)
    it = t.accepted.count(it->first) ? t.waiting_since.erase(it) : std::next(it);
}

xds::ReceivedResources Subscriptions::received(bool acked_only) const {
  xds::ReceivedResources r;
  for (const auto& t : types_) {
    const auto& set = acked_only ? t.acked : t.accepted;
    if (t.type_url == xds::kListenerType) r.listeners = set;
    else if (t.type_url == xds::kRouteConfigurationType) r.route_configs = set;
    else if (t.type_url == xds::kClusterType) r.clusters = set;
    else if (t.type_url == xds::kClusterLoadAssignmentType) r.load_assignments = set;
    else if (t.type_url == xds::kSecretType) r.secrets = set;
  }
  return r;
}

envoy::service::discovery::v3::DiscoveryRequest Subscriptions::request(const TypeState& t) const {
  envoy::service::discovery::v3::DiscoveryRequest req;
  req.set_type_url(t.type_url);
  req.set_version_info(t.acked_version);
  req.set_response_nonce(t.nonce);
  // Wildcard is the empty list (what every server understands); a named
  // type whose last name went away sends the empty list too, which after
  // names means "none" (the xDS protocol's unsubscribe-all).
  for (const auto& n : t.names) req.add_resource_names(n);
  return req;
}

envoy::service::discovery::v3::DiscoveryRequest Subscriptions::nack(const TypeState& t, const std::string& nonce,
                                                                    const std::string& error) const {
  auto req = request(t);
  req.set_response_nonce(nonce);
  req.mutable_error_detail()->set_code(3);  // google.rpc.Code.INVALID_ARGUMENT
  req.mutable_error_detail()->set_message(error);
  return req;
}

void Subscriptions::newStream() {
  for (auto& t : types_) {
    t.nonce.clear();
    t.requested_nonce.clear();
    t.requested = false;
    // A held response was never ACKed: the server sends it again.
    if (t.pending) t.rollBack();
  }
}

}  // namespace sluice::ads
