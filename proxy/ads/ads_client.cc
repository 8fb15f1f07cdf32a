#include "proxy/ads/ads_client.h"

#include <google/protobuf/util/time_util.h>

#include "config/config_json.h"
#include "proxy/ads/delta_requests.h"
#include "proxy/ads/reconnect_backoff.h"
#include "proxy/ads/resource_names.h"
#include "proxy/log/log.h"
#include "xds/type_urls.h"

namespace sluice::ads {
namespace {

std::string joined(const std::vector<std::string>& lines, const char* sep) {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : sep) + l;
  return out;
}

std::string isoTime(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  return google::protobuf::util::TimeUtil::ToString(google::protobuf::util::TimeUtil::MillisecondsToTimestamp(ms));
}

void fillNode(const config::NodeConfig& n, envoy::config::core::v3::Node& out) {
  out.set_id(n.id);
  out.set_cluster(n.cluster);
  out.set_user_agent_name("sluice");
  out.set_user_agent_version(SLUICE_VERSION);
  auto* loc = out.mutable_locality();
  loc->set_region(n.locality.region);
  loc->set_zone(n.locality.zone);
  loc->set_sub_zone(n.locality.sub_zone);
}

void setGauge(stats::NamedCounter& g, int64_t v) { g.inc(v - g.value()); }

}  // namespace

AdsClient::AdsClient(event::Loop& loop, server::ConfigSink& sink, std::shared_ptr<const config::Config> base,
                     StreamFactory factory)
    : loop_(loop),
      sink_(sink),
      base_(std::move(base)),
      spec_(base_->bootstrap.config_source.ads),
      factory_(std::move(factory)),
      subs_(std::chrono::steady_clock::now()) {
  connected_gauge_ = stats::namedCounter(
      "sluice_xds_connected", "1 while an ADS stream is established (the server answered the call), 0 otherwise", {},
      /*gauge=*/true);
  reconnects_ = stats::namedCounter("sluice_xds_stream_reconnects_total", "ADS streams opened after the first", {});
  for (auto* t : subs_.all()) {
    const stats::Labels labels{{"type", std::string(xds::shortTypeName(t->type_url))}};
    type_metrics_[t->type_url] = TypeMetrics{
        stats::namedCounter("sluice_xds_updates_accepted_total", "xDS responses ACKed", labels),
        stats::namedCounter("sluice_xds_updates_rejected_total", "xDS responses NACKed", labels),
        stats::namedCounter("sluice_xds_resources", "xDS resources served (last ACKed)", labels, /*gauge=*/true)};
  }
}

// The stream first: after its destructor, no event of it reaches us.
AdsClient::~AdsClient() {
  stream_.reset();
  setGauge(*connected_gauge_, 0);
}

void AdsClient::start() {
  // Waits count from here, not from when the file was read.
  const auto now = std::chrono::steady_clock::now();
  for (auto* t : subs_.all())
    if (t->type_waiting_since) t->type_waiting_since = now;
  reconnect_timer_ = loop_.createTimer([this] { connect(); });
  warming_timer_ = loop_.createTimer([this] { tryPublish(); });
  connect();
  // Nothing may come at all: the wildcard types stop being awaited then.
  warming_timer_->enable(spec_.initial_fetch_timeout);
}

std::string AdsClient::describe() const { return "ADS stream to " + spec_.address; }

void AdsClient::connect() {
  stream_.reset();
  subs_.newStream();
  first_on_stream_ = true;
  if (streams_opened_ > 0) reconnects_->inc();
  ++streams_opened_;
  stream_state_ = "connecting";
  setGauge(*connected_gauge_, 0);
  log::info("ADS: opening a stream to " + spec_.address + " as node '" + base_->bootstrap.node.id + "'");
  stream_ = factory_(*this);
  // CDS before LDS (the send order), each with what it last ACKed.
  for (auto* t : subs_.all()) {
    if (!t->wildcard && t->names.empty()) continue;
    sendInterest(*t, {});
  }
}

void AdsClient::send(DiscoveryRequest request) {
  if (!stream_) return;
  if (TypeState* t = subs_.find(request.type_url())) t->requested_nonce = request.response_nonce();
  if (first_on_stream_) {
    fillNode(base_->bootstrap.node, *request.mutable_node());
    first_on_stream_ = false;
  }
  stream_->send(request);
}

void AdsClient::send(DeltaDiscoveryRequest request) {
  if (!stream_) return;
  if (first_on_stream_) {
    fillNode(base_->bootstrap.node, *request.mutable_node());
    first_on_stream_ = false;
  }
  stream_->send(request);
}

void AdsClient::sendInterest(TypeState& t, const std::set<std::string>& before) {
  const bool initial = !t.requested;
  t.requested = true;
  if (!spec_.delta)
    send(subs_.request(t));
  else
    send(initial ? deltaInitial(t) : deltaInterest(t, before));
}

void AdsClient::sendAck(TypeState& t, const std::string& nonce) {
  if (spec_.delta)
    send(deltaAck(t, nonce));
  else
    send(subs_.request(t));
}

void AdsClient::onStreamClosed(const std::string& why) {
  ++failures_;
  const auto delay = reconnectDelay(failures_, util::threadRandomSource());
  stream_state_ = "disconnected";
  setGauge(*connected_gauge_, 0);
  log::warn("ADS: stream to " + spec_.address + " ended (" + why +
            "); serving the last accepted config, reconnecting in " + config::durationString(delay));
  reconnect_timer_->enable(delay);
}

void AdsClient::nack(TypeState& t, const std::string& nonce, const std::string& version, const std::string& error) {
  t.last_nack = TypeState::Nack{version, error, std::chrono::system_clock::now()};
  log::info("ADS: NACK " + std::string(xds::shortTypeName(t.type_url)) + " version " + version + " nonce " + nonce +
            " (keeping version '" + t.acked_version + "'): " + error);
  type_metrics_.at(t.type_url).rejected->inc();
  if (spec_.delta)
    send(deltaNack(t, nonce, error));
  else
    send(subs_.nack(t, nonce, error));
}

void AdsClient::onStreamEstablished() {
  stream_state_ = "connected";
  setGauge(*connected_gauge_, 1);
}

TypeState* AdsClient::responded(const std::string& type_url) {
  failures_ = 0;
  TypeState* t = subs_.find(type_url);
  if (t == nullptr) log::warn("ADS: ignoring a response of unrequested type " + type_url);
  return t;
}

void AdsClient::onResponse(std::unique_ptr<DiscoveryResponse> response) {
  TypeState* t = responded(response->type_url());
  if (t == nullptr) return;
  t->nonce = response->nonce();
  const std::string& version = response->version_info();

  // 1. The candidate set: the accepted one with this response merged in.
  xds::ResourceMap candidate = t->wildcard ? xds::ResourceMap{} : t->accepted;
  auto versions = t->wildcard ? decltype(t->accepted_versions){} : t->accepted_versions;
  std::vector<std::string> errors;
  for (const auto& any : response->resources()) {
    std::string error;
    const std::string name = resourceName(t->type_url, any, &error);
    if (name.empty()) {
      errors.push_back(std::string(xds::shortTypeName(t->type_url)) + " #" +
                       std::to_string(&any - &response->resources()[0]) + ": " + error);
      continue;
    }
    if (!t->wildcard && !t->names.count(name)) continue;  // not (or no longer) asked for
    candidate[name] = any;
    versions[name] = version;
  }
  consider(*t, std::move(candidate), std::move(versions), std::move(errors), version, response->nonce());
  // A server drops a request carrying an older nonce than its last response
  // of the type (a stale request, in the xDS protocol). One that asked for
  // new names may have crossed this response on the wire, and a held
  // response sends nothing: while a name of the type is still awaited, ask
  // again with this response's nonce, or both sides wait for each other.
  if (t->requested_nonce != t->nonce && !t->waiting_since.empty()) send(subs_.request(*t));
}

void AdsClient::onDeltaResponse(std::unique_ptr<DeltaDiscoveryResponse> response) {
  TypeState* t = responded(response->type_url());
  if (t == nullptr) return;
  t->nonce = response->nonce();
  const std::string type(xds::shortTypeName(t->type_url));

  // 1. The candidate set: the accepted one with the changes applied.
  xds::ResourceMap candidate = t->accepted;
  auto versions = t->accepted_versions;
  std::vector<std::string> errors;
  for (const auto& r : response->resources()) {
    // A Resource without a body is a name the server knows of but will not
    // send (e.g. not found): nothing to serve.
    if (!r.has_resource()) continue;
    std::string error;
    const std::string name = resourceName(t->type_url, r.resource(), &error);
    if (name.empty()) {
      errors.push_back(type + " '" + r.name() + "': " + error);
      continue;
    }
    if (!r.name().empty() && r.name() != name) {
      errors.push_back(type + " '" + r.name() + "': carries a resource named '" + name + "'");
      continue;
    }
    if (!t->wildcard && !t->names.count(name)) continue;  // not (or no longer) asked for
    candidate[name] = r.resource();
    versions[name] = r.version();
  }
  for (const auto& name : response->removed_resources()) {
    candidate.erase(name);
    versions.erase(name);
  }
  consider(*t, std::move(candidate), std::move(versions), std::move(errors), response->system_version_info(),
           response->nonce());
}

void AdsClient::consider(TypeState& type_state, xds::ResourceMap candidate,
                         std::map<std::string, std::string, std::less<>> versions, std::vector<std::string> errors,
                         const std::string& version, const std::string& nonce) {
  TypeState* t = &type_state;
  // 2. Assembly with every other type as accepted.
  if (errors.empty()) {
    std::swap(t->accepted, candidate);
    auto result = xds::assemble(*base_, subs_.received(/*acked_only=*/false));
    std::swap(t->accepted, candidate);
    errors = std::move(result.errors);
    if (errors.empty() && !result.config) errors.push_back("assembly produced no config");
    for (const auto& w : result.warnings) log::info("ADS: " + w);
  }
  // 3. Rejected: back to what was last ACKed.
  if (!errors.empty()) {
    t->rollBack();
    updateInterest();
    nack(*t, nonce, version, joined(errors, "; "));
    refreshResourceGauges();
    return;
  }
  // 4. Accepted; published (and ACKed) now or once nothing is awaited.
  t->accepted = std::move(candidate);
  t->accepted_versions = std::move(versions);
  t->pending = TypeState::Pending{version, nonce};
  subs_.arrived(*t);
  updateInterest();
  tryPublish();
  refreshResourceGauges();
}

void AdsClient::updateInterest() {
  ReferencedNames names;
  for (auto type : {xds::kListenerType, xds::kClusterType})
    for (const auto& [name, any] : subs_.at(type).accepted) names.merge(referencedNames(type, any));
  // The certificate agent's secret comes from the proxy itself, never over SDS.
  if (const auto& ca = base_->bootstrap.ca) names.secrets.erase(ca->secret_name);
  const auto now = std::chrono::steady_clock::now();
  const std::pair<std::string_view, const std::set<std::string>*> wanted[] = {
      {xds::kClusterLoadAssignmentType, &names.load_assignments},
      {xds::kRouteConfigurationType, &names.route_configs},
      {xds::kSecretType, &names.secrets}};
  for (const auto& [type, set] : wanted) {
    const std::set<std::string> before = subs_.at(type).names;
    if (!subs_.setNames(type, *set, now)) continue;
    TypeState& t = subs_.at(type);
    if (t.names.empty() && !t.requested) continue;  // never asked: nothing to take back
    sendInterest(t, before);
  }
}

void AdsClient::tryPublish() {
  const auto now = std::chrono::steady_clock::now();
  const auto awaited = subs_.awaited(now, spec_.initial_fetch_timeout);
  std::vector<TypeState*> held;
  for (auto* t : subs_.all())
    if (t->pending) held.push_back(t);
  if (held.empty()) return;
  if (!awaited.what.empty()) {
    warming_timer_->enableAt(*awaited.until);
    log::info("ADS: holding " + std::to_string(held.size()) + " response(s) while awaiting " +
              joined(awaited.what, ", "));
    return;
  }
  auto result = xds::assemble(*base_, subs_.received(/*acked_only=*/false));
  server::ApplyResult applied;
  if (result.config) {
    applied = sink_.apply(result.config);
  } else {
    applied.message = joined(result.errors, "; ");
  }
  for (auto* t : held) {
    const auto pending = *t->pending;
    const std::string type(xds::shortTypeName(t->type_url));
    if (applied.ok) {
      t->commit();
      t->pending.reset();
      log::info("ADS: ACK " + type + " version " + pending.version + " nonce " + pending.nonce);
      type_metrics_.at(t->type_url).accepted->inc();
      sendAck(*t, pending.nonce);
    } else {
      t->rollBack();
      std::string error = applied.message;
      while (!error.empty() && error.back() == '\n') error.pop_back();
      nack(*t, pending.nonce, pending.version, error);
    }
  }
  if (!applied.ok) updateInterest();
  refreshResourceGauges();
}

void AdsClient::refreshResourceGauges() {
  for (auto* t : subs_.all()) setGauge(*type_metrics_.at(t->type_url).resources, static_cast<int64_t>(t->acked.size()));
}

config::LoadResult AdsClient::load() {
  config::LoadResult r;
  auto result = xds::assemble(*base_, subs_.received(/*acked_only=*/true));
  for (const auto& e : result.errors) r.errors.push_back(config::ConfigError{describe(), 0, 0, "", e});
  if (result.errors.empty()) r.config = result.config;
  return r;
}

nlohmann::json AdsClient::status() const {
  nlohmann::json j;
  j["kind"] = "ads";
  j["address"] = spec_.address;
  j["stream"] = stream_state_;
  j["streams_opened"] = streams_opened_;
  j["protocol"] = spec_.delta ? "delta" : "sotw";
  nlohmann::json types = nlohmann::json::object();
  nlohmann::json resources = nlohmann::json::array();
  auto& subs = const_cast<Subscriptions&>(subs_);
  for (auto* t : subs.all()) {
    const std::string type(xds::shortTypeName(t->type_url));
    nlohmann::json tj;
    tj["type_url"] = t->type_url;
    tj["version"] = t->acked_version;
    tj["subscription"] = t->wildcard ? nlohmann::json("*") : nlohmann::json(t->names);
    if (t->pending) tj["held"] = {{"version", t->pending->version}, {"nonce", t->pending->nonce}};
    if (t->last_nack)
      tj["last_nack"] = {
          {"version", t->last_nack->version}, {"error", t->last_nack->error}, {"time", isoTime(t->last_nack->at)}};
    types[type] = tj;
    for (const auto& [name, version] : t->acked_versions)
      resources.push_back({{"name", name}, {"type", type}, {"version", version}, {"origin", "xds"}});
  }
  j["types"] = types;
  j["resources"] = resources;
  return j;
}

}  // namespace sluice::ads
