// The server's side of the certificate agent: its secret joins every config
// the source gives before the snapshot is built, and each new certificate
// applies the last config again, which swaps the TLS contexts naming the
// secret (snapshot_tls.cc): same listener identity, same sockets, no drain.
#include <algorithm>

#include "proxy/log/log.h"
#include "proxy/server/server.h"

namespace sluice::server {
namespace {

bool names(const std::optional<config::DownstreamTlsConfig>& t, const std::string& secret) {
  return t && (std::find(t->certificates.begin(), t->certificates.end(), secret) != t->certificates.end() ||
               t->validation_context == secret);
}

bool names(const config::ListenerConfig& l, const std::string& secret) {
  if (names(l.tls, secret)) return true;
  return std::any_of(l.filter_chains.begin(), l.filter_chains.end(),
                     [&](const config::FilterChainConfig& c) { return names(c.tls, secret); });
}

bool names(const config::ClusterConfig& c, const std::string& secret) {
  return c.tls && (c.tls->certificate == secret || c.tls->validation_context == secret);
}

}  // namespace

std::shared_ptr<const config::Config> Server::withAgentSecret(std::shared_ptr<const config::Config> cfg) const {
  if (!agent_) return cfg;
  const std::string& secret = agent_->spec().secret_name;
  auto out = std::make_shared<config::Config>(*cfg);
  // The agent's secret is its own: one of that name from elsewhere never serves.
  std::erase_if(out->secrets, [&](const config::SecretSpec& s) { return s.name == secret; });
  if (agent_->secret()) {
    out->secrets.push_back(*agent_->secret());
    return out;
  }
  std::string waiting;
  std::erase_if(out->listeners, [&](const config::ListenerConfig& l) {
    if (!names(l, secret)) return false;
    waiting += (waiting.empty() ? "listener " : ", listener ") + l.name;
    return true;
  });
  std::erase_if(out->clusters, [&](const config::ClusterConfig& c) {
    if (!names(c, secret)) return false;
    waiting += (waiting.empty() ? "cluster " : ", cluster ") + c.name;
    return true;
  });
  if (!waiting.empty()) log::info(waiting + ": waiting for the certificate agent's secret '" + secret + "'");
  return out;
}

void Server::onAgentCertificate() {
  if (!source_config_ || values_.draining) return;
  const auto r = apply(source_config_);
  if (!r.ok) log::error("certificate agent: the new certificate was not applied: " + r.message);
}

admin::Response Server::rotateAgentCertificate() {
  if (!agent_) return {404, "text/plain; charset=utf-8", "no certificate agent (dynamic.ca)\n"};
  agent_->rotateNow();
  return {200, "application/json", agent_->status().dump(2) + "\n"};
}

}  // namespace sluice::server
