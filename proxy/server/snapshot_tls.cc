// SnapshotBuilder's TLS step: one certificate provider per TLS chain and TLS
// cluster, kept across reloads while its TLS config (which names its
// secrets) is unchanged, and fed by one certificate source per secret it
// names. A kept provider whose secrets now hold other material (inline PEM
// that changed, other files under the same name) gets a swap: its new
// context is built and checked here and installed when the snapshot is
// published, so the listener keeps its sockets and connections.
#include "config/config_json.h"
#include "proxy/server/snapshot_builder.h"
#include "proxy/tls/file_certificate_source.h"
#include "proxy/tls/memory_certificate_source.h"

namespace sluice::server {
namespace {

// A new source for the secret `name` (none for an empty name): each provider
// reads its own. `field_prefix` names a certificate's slot in errors
// ("certificates[1]."). The first name the config lacks is left in *missing.
tls::CertificateSourcePtr secretSource(const config::Config& cfg, const std::string& name,
                                       const std::string& field_prefix, std::string* missing) {
  if (name.empty()) return nullptr;
  const config::SecretSpec* s = cfg.findSecret(name);
  if (s == nullptr) {
    if (missing->empty()) *missing = name;
    return nullptr;
  }
  // A secret of the other kind than its slot wants is refused when the
  // material is read.
  if (s->inline_pem) {
    auto memory = std::make_shared<tls::MemoryCertificateSource>(s->name, "inline secret");
    if (s->kind == config::SecretSpec::Kind::ValidationContext) memory->setTrustedCa(s->trusted_ca);
    else memory->setCertificate(s->cert_chain, s->private_key);
    return memory;
  }
  if (s->kind == config::SecretSpec::Kind::ValidationContext) return tls::FileCertificateSource::trustedCa(s->trusted_ca);
  return tls::FileCertificateSource::certificate(field_prefix, s->cert_chain, s->private_key);
}

// What the secrets `names` hold, whole: equal means a provider's sources
// would read the same material (files are compared by path; their contents
// are the file sources' to watch).
std::string secretsContent(const config::Config& cfg, const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    out += std::to_string(name.size()) + ":";
    out += name;
    const config::SecretSpec* s = name.empty() ? nullptr : cfg.findSecret(name);
    if (s == nullptr) {
      out += '-';
      continue;
    }
    out += s->kind == config::SecretSpec::Kind::ValidationContext ? 'v' : 'c';
    out += s->inline_pem ? 'i' : 'f';
    for (const std::string* part : {&s->cert_chain, &s->private_key, &s->trusted_ca}) {
      out += std::to_string(part->size()) + ":";
      out += *part;
    }
  }
  return out;
}

std::vector<std::string> namesOf(const config::DownstreamTlsConfig& t) {
  std::vector<std::string> names = t.certificates;
  names.push_back(t.validation_context);
  return names;
}

std::vector<std::string> namesOf(const config::UpstreamTlsConfig& t) { return {t.certificate, t.validation_context}; }

tls::ServerCertificateSources serverSources(const config::Config& cfg, const config::DownstreamTlsConfig& t,
                                            std::string* missing) {
  tls::ServerCertificateSources s;
  for (size_t i = 0; i < t.certificates.size(); ++i)
    s.certificates.push_back(
        secretSource(cfg, t.certificates[i], "certificates[" + std::to_string(i) + "].", missing));
  s.trusted_ca = secretSource(cfg, t.validation_context, "", missing);
  return s;
}

tls::ClientCertificateSources clientSources(const config::Config& cfg, const config::UpstreamTlsConfig& t,
                                            std::string* missing) {
  tls::ClientCertificateSources s;
  s.certificate = secretSource(cfg, t.certificate, "", missing);
  s.trusted_ca = secretSource(cfg, t.validation_context, "", missing);
  return s;
}

tls::ServerTlsOptions serverOptions(const config::DownstreamTlsConfig& t) {
  tls::ServerTlsOptions o;
  o.require_client_cert = t.require_client_cert;
  o.verify_spiffe_ids = t.verify_spiffe_ids;
  o.alpn = t.alpn;
  o.session_tickets = t.session_tickets;
  return o;
}

tls::ClientTlsOptions clientOptions(const config::UpstreamTlsConfig& t) {
  tls::ClientTlsOptions o;
  o.sni = t.sni;
  o.verify_subject_alt_names = t.verify_subject_alt_names;
  o.verify_spiffe_ids = t.verify_spiffe_ids;
  o.alpn = t.alpn;
  return o;
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
      std::string content = secretsContent(cfg, namesOf(*t));
      if (!provider || provider->content() != content) {
        std::string missing;
        auto sources = serverSources(cfg, *t, &missing);
        if (!missing.empty()) return fail(where(cfg, t->loc, path) + ": unknown secret '" + missing + "'");
        if (provider) {
          auto prepared = provider->prepare(std::move(sources), std::move(content));
          if (!prepared.swap) return fail(where(cfg, t->loc, path) + ": " + prepared.error);
          snap.tls_swaps.push_back({provider, std::move(prepared.swap)});
        } else {
          auto created = tls::CertificateProvider::createServer(name, serverOptions(*t), std::move(sources));
          if (!created.provider) return fail(where(cfg, t->loc, path) + ": " + created.error);
          provider = std::move(created.provider);
          provider->setContent(std::move(content));
        }
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
    std::string content = secretsContent(cfg, namesOf(*c.tls));
    if (!provider || provider->content() != content) {
      const std::string at = where(cfg, c.tls->loc, "clusters[" + std::to_string(i) + "].tls");
      // Both readers refuse them already; built without its roots the
      // context would trust the system store instead.
      if (c.tls->usesCertificateProviders()) return fail(at + ": Sluice has no certificate provider plugins");
      std::string missing;
      auto sources = clientSources(cfg, *c.tls, &missing);
      if (!missing.empty()) return fail(at + ": unknown secret '" + missing + "'");
      if (provider) {
        auto prepared = provider->prepare(std::move(sources), std::move(content));
        if (!prepared.swap) return fail(at + ": " + prepared.error);
        snap.tls_swaps.push_back({provider, std::move(prepared.swap)});
      } else {
        auto created = tls::CertificateProvider::createClient(name, clientOptions(*c.tls), std::move(sources));
        if (!created.provider) return fail(at + ": " + created.error);
        provider = std::move(created.provider);
        provider->setContent(std::move(content));
      }
    }
    snap.tls_providers[key] = provider;
    snap.cluster_stats.at(c.name).tls = provider;
  }
  return true;
}

}  // namespace sluice::server
