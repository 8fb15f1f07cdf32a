// The main thread's side of TLS: one certificate provider per TLS chain and
// TLS cluster, kept across config reloads while its config is unchanged,
// checked for new files on a timer, reloaded on SIGHUP and POST
// /certs/reload, and listed by GET /certs.
#include <nlohmann/json.hpp>

#include <chrono>

#include "config/config_json.h"
#include "proxy/server/log.h"
#include "proxy/server/server.h"

namespace sluice::server {
namespace {

// Tickets are sealed with the current key and opened with it or the one
// before: a ticket stays usable for one to two rotation periods.
constexpr auto kTicketKeyRotation = std::chrono::hours(1);

tls::ServerTlsConfig serverConfig(const config::DownstreamTlsConfig& t) {
  tls::ServerTlsConfig c;
  for (const auto& cert : t.certificates) c.certificates.push_back({cert.cert_chain, cert.private_key});
  c.ca_bundle_path = t.ca_bundle;
  c.require_client_cert = t.require_client_cert;
  c.verify_spiffe_ids = t.verify_spiffe_ids;
  c.alpn = t.alpn;
  c.session_tickets = t.session_tickets;
  return c;
}

tls::ClientTlsConfig clientConfig(const config::UpstreamTlsConfig& t) {
  tls::ClientTlsConfig c;
  c.cert_chain_path = t.cert_chain;
  c.private_key_path = t.private_key;
  c.ca_bundle_path = t.ca_bundle;
  c.sni = t.sni;
  c.verify_subject_alt_names = t.verify_subject_alt_names;
  c.verify_spiffe_ids = t.verify_spiffe_ids;
  c.alpn = t.alpn;
  return c;
}

std::string where(const config::Config& cfg, config::SourceLoc loc, const std::string& path) {
  return cfg.source_file + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.column) + ": " + path;
}

int64_t unixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

bool Server::attachTls(Snapshot& snap, std::string* error) {
  // On failure the providers this snapshot made must take their gauges back.
  auto fail = [&](std::string message) {
    for (auto& [key, provider] : snap.tls_providers)
      if (!tls_providers_.count(key)) provider->retire();
    *error = std::move(message);
    return false;
  };
  const config::Config& cfg = *snap.config;
  // Providers are looked up among the running ones first, then among those
  // this snapshot already made (two owners never share one: names differ).
  auto find = [&](const std::string& key) -> std::shared_ptr<tls::CertificateProvider> {
    if (auto it = tls_providers_.find(key); it != tls_providers_.end()) return it->second;
    if (auto it = snap.tls_providers.find(key); it != snap.tls_providers.end()) return it->second;
    return nullptr;
  };
  for (size_t i = 0; i < cfg.listeners.size(); ++i) {
    const auto& l = cfg.listeners[i];
    auto chains = makeListenerChains(l);
    const std::string lpath = "listeners[" + std::to_string(i) + "]";
    // Each TLS block: the listener's own, or each chain's.
    for (size_t c = 0; c < chains->chains.size(); ++c) {
      const config::DownstreamTlsConfig* t = nullptr;
      std::string name = "listener/" + l.name;
      std::string path = lpath + ".tls";
      if (l.filter_chains.empty()) {
        // Permissive: the plaintext chain (index 1) has no TLS.
        if (l.tls && c == 0) t = &*l.tls;
      } else if (l.filter_chains[c].tls) {
        t = &*l.filter_chains[c].tls;
        name += "/" + std::to_string(c);
        path = lpath + ".filter_chains[" + std::to_string(c) + "].tls";
      }
      if (t == nullptr) continue;
      const std::string key = "server|" + name + "|" + config::toJson(*t).dump();
      auto provider = find(key);
      if (!provider) {
        auto created = tls::CertificateProvider::createServer(name, serverConfig(*t));
        if (!created.provider) return fail(where(cfg, t->loc, path) + ": " + created.error);
        provider = std::move(created.provider);
      }
      snap.tls_providers[key] = provider;
      chains->chains[c].tls = provider;
    }
    snap.listener_chains.push_back(std::move(chains));
  }
  for (size_t i = 0; i < cfg.clusters.size(); ++i) {
    const auto& c = cfg.clusters[i];
    if (!c.tls) continue;
    const std::string name = "cluster/" + c.name;
    const std::string key = "client|" + name + "|" + config::toJson(*c.tls).dump();
    auto provider = find(key);
    if (!provider) {
      auto created = tls::CertificateProvider::createClient(name, clientConfig(*c.tls));
      if (!created.provider)
        return fail(where(cfg, c.tls->loc, "clusters[" + std::to_string(i) + "].tls") + ": " + created.error);
      provider = std::move(created.provider);
    }
    snap.tls_providers[key] = provider;
    snap.cluster_stats.at(c.name).tls = provider;
  }
  return true;
}

void Server::publishTls(const Snapshot& snap) {
  for (auto& [key, provider] : tls_providers_)
    if (!snap.tls_providers.count(key)) provider->retire();
  tls_providers_ = snap.tls_providers;
  if (!cert_timer_) {
    cert_timer_ = loop_.createTimer([this] { checkCertificates(); });
    ticket_timer_ = loop_.createTimer([this] { rotateTicketKeys(); });
    ticket_timer_->enable(kTicketKeyRotation);
  }
  cert_timer_->enable(snap.config->certificate_watch_interval);
}

void Server::checkCertificates() {
  // A changed file reloads its provider (a bad one is logged and counted by
  // the provider, and the old material keeps serving); gauges refresh.
  for (auto& [key, provider] : tls_providers_) provider->checkForChanges();
  cert_timer_->enable(current_->config->certificate_watch_interval);
}

Server::ReloadResult Server::reloadCertificates() {
  ReloadResult result{true, ""};
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
