#include "proxy/tls/certificate_provider.h"

#include "proxy/log/log.h"
#include "proxy/tls/file_certificate_source.h"

namespace sluice::tls {
namespace {

// A certificate past its notAfter fails every verifying peer: keeping the
// previous one (or refusing to start) is the better outcome. `chains` name
// the certificates in the same order.
std::string checkNotExpired(const std::vector<CertificateInfo>& infos, const std::vector<const Pem*>& chains,
                            CertificateProvider::Clock::time_point now) {
  for (size_t i = 0; i < infos.size(); ++i) {
    if (infos[i].not_after > now) continue;
    return (i < chains.size() ? chains[i]->label : "cert_chain_path '" + infos[i].cert_chain_path + "'") +
           ": certificate has expired";
  }
  return {};
}

}  // namespace

CertificateProvider::CertificateProvider(std::string name, bool is_server)
    : name_(std::move(name)), is_server_(is_server) {
  const char* help = "TLS certificate reloads by outcome";
  reload_ok_ = stats::namedCounter("sluice_tls_certificate_reloads_total", help, {{"name", name_}, {"result", "success"}});
  reload_failed_ =
      stats::namedCounter("sluice_tls_certificate_reloads_total", help, {{"name", name_}, {"result", "failure"}});
}

CertificateProvider::Created CertificateProvider::createServer(std::string name, ServerTlsOptions options,
                                                               ServerCertificateSources sources,
                                                               std::shared_ptr<SessionTicketKeys> ticket_keys,
                                                               Clock::time_point now) {
  std::shared_ptr<CertificateProvider> p(new CertificateProvider(std::move(name), true));
  p->server_options_ = std::move(options);
  p->server_sources_ = std::move(sources);
  // One key ring for the provider's life: tickets survive certificate reloads.
  p->ticket_keys_ = ticket_keys ? std::move(ticket_keys) : std::make_shared<SessionTicketKeys>();
  if (std::string error = p->rebuild(now); !error.empty()) return {nullptr, std::move(error)};
  return {std::move(p), {}};
}

CertificateProvider::Created CertificateProvider::createClient(std::string name, ClientTlsOptions options,
                                                               ClientCertificateSources sources,
                                                               Clock::time_point now) {
  std::shared_ptr<CertificateProvider> p(new CertificateProvider(std::move(name), false));
  p->client_options_ = std::move(options);
  p->client_sources_ = std::move(sources);
  if (std::string error = p->rebuild(now); !error.empty()) return {nullptr, std::move(error)};
  return {std::move(p), {}};
}

CertificateProvider::Created CertificateProvider::createServer(std::string name, ServerTlsConfig config,
                                                               std::shared_ptr<SessionTicketKeys> ticket_keys,
                                                               Clock::time_point now) {
  ServerCertificateSources sources = fileSources(config);
  return createServer(std::move(name), static_cast<ServerTlsOptions&&>(std::move(config)), std::move(sources),
                      std::move(ticket_keys), now);
}

CertificateProvider::Created CertificateProvider::createClient(std::string name, ClientTlsConfig config,
                                                               Clock::time_point now) {
  // A half-configured client certificate is a config error, not a file one.
  if (config.cert_chain_path.empty() != config.private_key_path.empty())
    return {nullptr, "cert_chain_path and private_key_path go together"};
  ClientCertificateSources sources = fileSources(config);
  return createClient(std::move(name), static_cast<ClientTlsOptions&&>(std::move(config)), std::move(sources), now);
}

std::shared_ptr<const ServerTlsContext> CertificateProvider::serverContext() const {
  std::lock_guard<std::mutex> lock(mu_);
  return server_;
}

std::shared_ptr<const ClientTlsContext> CertificateProvider::clientContext() const {
  std::lock_guard<std::mutex> lock(mu_);
  return client_;
}

std::string CertificateProvider::buildServer(const ServerCertificateSources& sources, Clock::time_point now,
                                             std::shared_ptr<const ServerTlsContext>& out) const {
  const ServerTlsMaterial material = readMaterial(sources);
  auto built = ServerTlsContext::build(server_options_, material, ticket_keys_);
  if (!built.ok()) return built.error;
  std::vector<const Pem*> chains;
  for (const auto& c : material.certificates) chains.push_back(&c.cert_chain);
  if (std::string error = checkNotExpired(built.context->certificates(), chains, now); !error.empty()) return error;
  out = std::move(built.context);
  return {};
}

std::string CertificateProvider::buildClient(const ClientCertificateSources& sources, Clock::time_point now,
                                             std::shared_ptr<const ClientTlsContext>& out) const {
  const ClientTlsMaterial material = readMaterial(sources);
  auto built = ClientTlsContext::build(client_options_, material);
  if (!built.ok()) return built.error;
  std::vector<const Pem*> chains;
  if (material.certificate) chains.push_back(&material.certificate->cert_chain);
  if (std::string error = checkNotExpired(built.context->certificates(), chains, now); !error.empty()) return error;
  out = std::move(built.context);
  return {};
}

std::string CertificateProvider::rebuild(Clock::time_point now) {
  if (is_server_) {
    std::shared_ptr<const ServerTlsContext> ctx;
    if (std::string error = buildServer(server_sources_, now, ctx); !error.empty()) return error;
    std::lock_guard<std::mutex> lock(mu_);
    server_ = std::move(ctx);
    version_.fetch_add(1, std::memory_order_release);
  } else {
    std::shared_ptr<const ClientTlsContext> ctx;
    if (std::string error = buildClient(client_sources_, now, ctx); !error.empty()) return error;
    std::lock_guard<std::mutex> lock(mu_);
    client_ = std::move(ctx);
    version_.fetch_add(1, std::memory_order_release);
  }
  updateGauges(now);
  return {};
}

CertificateProvider::Prepared CertificateProvider::prepare(ServerCertificateSources sources, std::string content,
                                                           Clock::time_point now) const {
  auto swap = std::make_shared<Swap>();
  if (std::string error = buildServer(sources, now, swap->server); !error.empty()) return {nullptr, std::move(error)};
  swap->server_sources = std::move(sources);
  swap->content = std::move(content);
  return {std::move(swap), {}};
}

CertificateProvider::Prepared CertificateProvider::prepare(ClientCertificateSources sources, std::string content,
                                                           Clock::time_point now) const {
  auto swap = std::make_shared<Swap>();
  if (std::string error = buildClient(sources, now, swap->client); !error.empty()) return {nullptr, std::move(error)};
  swap->client_sources = std::move(sources);
  swap->content = std::move(content);
  return {std::move(swap), {}};
}

void CertificateProvider::install(const Swap& swap, Clock::time_point now) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (is_server_) {
      server_sources_ = swap.server_sources;
      server_ = swap.server;
    } else {
      client_sources_ = swap.client_sources;
      client_ = swap.client;
    }
    version_.fetch_add(1, std::memory_order_release);
  }
  content_ = swap.content;
  reload_ok_->inc();
  log::info("tls " + name_ + ": certificates swapped (a secret it names changed)");
  updateGauges(now);
}

CertificateProvider::ReloadResult CertificateProvider::reload(Clock::time_point now) {
  ReloadResult r;
  r.error = rebuild(now);
  r.ok = r.error.empty();
  if (r.ok) {
    reload_ok_->inc();
    log::info("tls " + name_ + ": certificates reloaded");
  } else {
    reload_failed_->inc();
    log::warn("tls " + name_ + ": reload rejected, keeping the previous certificates: " + r.error);
  }
  return r;
}

bool CertificateProvider::checkForChanges(Clock::time_point now) {
  const bool changed = is_server_ ? anyChanged(server_sources_) : anyChanged(client_sources_);
  if (changed) reload(now);
  updateGauges(now);
  return changed;
}

std::vector<CertificateProvider::Expiry> CertificateProvider::secondsToExpiry(Clock::time_point now) const {
  std::vector<Expiry> out;
  std::vector<CertificateInfo> infos;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (server_) infos = server_->certificates();
    if (client_) infos = client_->certificates();
  }
  for (const auto& info : infos) {
    out.push_back(
        {info.cert_chain_path, std::chrono::duration_cast<std::chrono::seconds>(info.not_after - now).count()});
  }
  return out;
}

void CertificateProvider::retire() {
  // Gauges are shared by name: take back exactly what this provider added.
  for (auto& g : expiry_gauges_) {
    g.counter->inc(-g.value);
    g.value = 0;
  }
  retired_ = true;
}

void CertificateProvider::updateGauges(Clock::time_point now) {
  if (retired_) return;
  const std::vector<Expiry> expiries = secondsToExpiry(now);
  while (expiry_gauges_.size() < expiries.size()) {
    Gauge g;
    g.counter = stats::namedCounter("sluice_tls_certificate_expiry_seconds", "Seconds until the certificate expires",
                                    {{"name", name_}, {"certificate", std::to_string(expiry_gauges_.size())}},
                                    /*gauge=*/true);
    g.value = g.counter->value();
    expiry_gauges_.push_back(std::move(g));
  }
  for (size_t i = 0; i < expiry_gauges_.size(); ++i) {
    // A certificate dropped from the config reads 0 rather than a stale value.
    const int64_t v = i < expiries.size() ? expiries[i].seconds : 0;
    expiry_gauges_[i].counter->inc(v - expiry_gauges_[i].value);
    expiry_gauges_[i].value = v;
  }
}

void CertificateProvider::View::refresh() {
  std::lock_guard<std::mutex> lock(provider_->mu_);
  server_ = provider_->server_;
  client_ = provider_->client_;
  seen_ = provider_->version_.load(std::memory_order_relaxed);
}

}  // namespace sluice::tls
