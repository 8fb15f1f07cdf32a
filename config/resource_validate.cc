#include "config/resource_validate.h"

namespace sluice::config {
namespace {

void requireSecret(const Config& cfg, const std::string& name, SourceLoc loc, const std::string& path,
                   ParseContext& ctx) {
  // The certificate agent's secret arrives after start: present by promise.
  if (!name.empty() && cfg.findSecret(name) == nullptr && !cfg.bootstrap.providesSecret(name))
    ctx.missingReference(loc, path, "unknown secret '" + name + "'");
}

// Paths name the YAML keys the secrets were lifted from.
void validateTls(const Config& cfg, const std::optional<DownstreamTlsConfig>& t, const std::string& path,
                 ParseContext& ctx) {
  if (!t) return;
  for (size_t k = 0; k < t->certificates.size(); ++k)
    requireSecret(cfg, t->certificates[k], t->loc, path + ".certificates[" + std::to_string(k) + "]", ctx);
  requireSecret(cfg, t->validation_context, t->loc, path + ".ca_bundle", ctx);
}

}  // namespace

void validateResourceReferences(const Config& cfg, ParseContext& ctx) {
  for (size_t i = 0; i < cfg.listeners.size(); ++i) {
    const ListenerConfig& l = cfg.listeners[i];
    const std::string path = "listeners[" + std::to_string(i) + "]";
    validateTls(cfg, l.tls, path + ".tls", ctx);
    for (size_t c = 0; c < l.filter_chains.size(); ++c)
      validateTls(cfg, l.filter_chains[c].tls, path + ".filter_chains[" + std::to_string(c) + "].tls", ctx);
  }
  for (size_t i = 0; i < cfg.clusters.size(); ++i) {
    const ClusterConfig& c = cfg.clusters[i];
    const std::string path = "clusters[" + std::to_string(i) + "]";
    if (c.type == ClusterType::Endpoints && cfg.findLoadAssignment(c.load_assignment) == nullptr)
      ctx.missingReference(c.loc, path, "unknown load assignment '" + c.load_assignment + "' (the cluster's endpoints)");
    if (!c.tls) continue;
    requireSecret(cfg, c.tls->certificate, c.tls->loc, path + ".tls.cert_chain", ctx);
    requireSecret(cfg, c.tls->validation_context, c.tls->loc, path + ".tls.ca_bundle", ctx);
  }
}

}  // namespace sluice::config
