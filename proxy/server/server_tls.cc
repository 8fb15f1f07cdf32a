// The main thread's side of TLS at run time: the running snapshot's
// certificate providers (attached by SnapshotBuilder) checked for new files
// on a timer, reloaded on SIGHUP and POST /certs/reload, their ticket keys
// rotated, and listed by GET /certs.
#include <nlohmann/json.hpp>

#include <chrono>

#include "config/config_json.h"
#include "proxy/log/log.h"
#include "proxy/server/server.h"

namespace sluice::server {
namespace {

// Tickets are sealed with the current key and opened with it or the one
// before: a ticket stays usable for one to two rotation periods.
constexpr auto kTicketKeyRotation = std::chrono::hours(1);

int64_t unixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

void Server::publishTls(const Snapshot& snap) {
  for (auto& [key, provider] : tls_providers_)
    if (!snap.tls_providers.count(key)) provider->retire();
  tls_providers_ = snap.tls_providers;
  for (const auto& s : snap.tls_swaps) s.provider->install(*s.swap);
  if (!cert_timer_) {
    cert_timer_ = loop_.createTimer([this] { checkCertificates(); });
    ticket_timer_ = loop_.createTimer([this] { rotateTicketKeys(); });
    ticket_timer_->enable(kTicketKeyRotation);
  }
  cert_timer_->enable(snap.config->bootstrap.certificate_watch_interval);
}

void Server::checkCertificates() {
  // A changed file reloads its provider (a bad one is logged and counted by
  // the provider, and the old material keeps serving); gauges refresh.
  for (auto& [key, provider] : tls_providers_) provider->checkForChanges();
  if (agent_) agent_->refreshGauge();
  cert_timer_->enable(current_->config->bootstrap.certificate_watch_interval);
}

ApplyResult Server::reloadCertificates() {
  ApplyResult result{true, ""};
  for (auto& [key, provider] : tls_providers_) {
    auto r = provider->reload();
    if (r.ok) {
      result.message += provider->name() + ": ok\n";
    } else {
      result.ok = false;
      result.message += provider->name() + ": " + r.error + "\n";
    }
  }
  if (tls_providers_.empty()) result.message = "no certificates configured\n";
  return result;
}

void Server::rotateTicketKeys() {
  for (auto& [key, provider] : tls_providers_) {
    if (!provider->isServer()) continue;
    if (auto ctx = provider->serverContext()) ctx->ticketKeys()->rotate();
  }
  ticket_timer_->enable(kTicketKeyRotation);
}

std::string Server::renderCerts() const {
  const auto now = std::chrono::system_clock::now();
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [key, provider] : tls_providers_) {
    std::vector<tls::CertificateInfo> infos;
    if (provider->isServer()) {
      if (auto ctx = provider->serverContext()) infos = ctx->certificates();
    } else if (auto ctx = provider->clientContext()) {
      infos = ctx->certificates();
    }
    nlohmann::json certs = nlohmann::json::array();
    for (const auto& info : infos) {
      nlohmann::json sans = nlohmann::json::array();
      for (const auto& d : info.dns_names) sans.push_back("DNS:" + d);
      if (!info.spiffe_id.empty()) sans.push_back("URI:" + info.spiffe_id);
      certs.push_back({{"cert_chain", info.cert_chain_path},
                       {"subject", info.subject},
                       {"issuer", info.issuer},
                       {"spiffe_id", info.spiffe_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(info.spiffe_id)},
                       {"subject_alt_names", std::move(sans)},
                       {"not_before", unixSeconds(info.not_before)},
                       {"not_after", unixSeconds(info.not_after)},
                       {"seconds_to_expiry",
                        std::chrono::duration_cast<std::chrono::seconds>(info.not_after - now).count()}});
    }
    out.push_back({{"name", provider->name()},
                   {"role", provider->isServer() ? "server" : "client"},
                   {"version", provider->version()},
                   {"certificates", std::move(certs)}});
  }
  return out.dump(2) + "\n";
}

}  // namespace sluice::server
