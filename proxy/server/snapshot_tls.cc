// SnapshotBuilder's TLS step: one certificate provider per TLS chain and TLS
// cluster, kept across reloads while its TLS config is unchanged.
#include "config/config_json.h"
#include "proxy/server/snapshot_builder.h"

namespace sluice::server {
namespace {

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

}  // namespace

bool SnapshotBuilder::attachTls(Snapshot& snap, const Snapshot* current, std::string* error) {
  // On failure the providers this snapshot made must take their gauges back.
  static const std::map<std::string, std::shared_ptr<tls::CertificateProvider>> kNone;
  const auto& running = current ? current->tls_providers : kNone;
  auto fail = [&](std::string message) {
    for (auto& [key, provider] : snap.tls_providers)
      if (!running.count(key)) provider->retire();
    *error = std::move(message);
    return false;
  };
  const config::Config& cfg = *snap.config;
  // Providers are looked up among the running ones first, then among those
  // this snapshot already made (two owners never share one: names differ).
  auto find = [&](const std::string& key) -> std::shared_ptr<tls::CertificateProvider> {
    if (auto it = running.find(key); it != running.end()) return it->second;
    if (auto it = snap.tls_providers.find(key); it != snap.tls_providers.end()) return it->second;
    return nullptr;
  };
  for (size_t i = 0; i < cfg.listeners.size(); ++i) {
    const auto& l = cfg.listeners[i];
    // The same sockets object means an identical listener config (its identity).
    const ListenerChains* unchanged = nullptr;
    if (current) {
      for (size_t j = 0; j < current->sockets.size() && j < current->listener_chains.size(); ++j)
        if (current->sockets[j] == snap.sockets[i]) unchanged = current->listener_chains[j].get();
    }
    auto chains = makeListenerChains(l, unchanged);
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

}  // namespace sluice::server
