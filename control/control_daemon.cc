#include "control/control_daemon.h"

#include <algorithm>
#include <ctime>
#include <thread>

#include "control/ca/trust_bundle_secret.h"
#include "control/control_log.h"
#include "control/kubernetes/token_review.h"
#include "control/mesh/gateway_tls.h"

namespace sluice::control {
namespace {

std::vector<std::string> errorLines(const ControlLoadResult& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) out.push_back(e.str());
  return out;
}

// "127.0.0.1:0" and the bound port -> "127.0.0.1:41234".
std::string withPort(const std::string& configured, int port) {
  return configured.substr(0, configured.rfind(':')) + ":" + std::to_string(port);
}

// Which group takes which node, as one comparable string: group order,
// names and matches.
std::string matchingOf(const ControlConfig* cfg) {
  std::string out;
  if (cfg == nullptr) return out;
  for (const auto& g : cfg->groups) {
    out += g.name + "\n" + g.match.cluster + "\n";
    for (const auto& id : g.match.node_ids) out += id + ",";
    out += "\n\n";
  }
  return out;
}

std::string errorText(const std::vector<config::ConfigError>& errors) {
  std::string s;
  for (const auto& e : errors) s += e.str() + "\n";
  return s;
}

// Reached only from this host: "127.0.0.1:15010", "[::1]:15010", "localhost:15010".
bool isLoopback(const std::string& address) {
  return address.rfind("127.", 0) == 0 || address.rfind("[::1]:", 0) == 0 || address.rfind("localhost:", 0) == 0;
}

std::string_view pathOf(std::string_view target) {
  const size_t q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

}  // namespace

ControlDaemon::ControlDaemon(std::string config_path)
    : path_(std::move(config_path)), metrics_(registry_), watch_(path_) {}

ControlDaemon::~ControlDaemon() {
  stop();
  discovery_.reset();
  // Before the state their threads read (the matcher, the admin handler) goes.
  webhook_.reset();
  admin_.reset();
  ads_.reset();
  ca_server_.reset();
}

bool ControlDaemon::startCa(const ca::CaSpec& spec, const ControlConfig& cfg, std::string& errors) {
  config::ParseContext ctx(path_);
  const auto now = std::chrono::system_clock::now();
  auto ca = ca::CaRuntime::build(spec, now, ctx);
  if (!ca) {
    errors = errorText(ctx.errors());
    return false;
  }
  ca_metrics_ = std::make_unique<ca::CaMetrics>(registry_);
  ca_service_ = std::make_unique<ca::CertificateService>(ca, *ca_metrics_);
  // With the API server at hand, Kubernetes service-account tokens (an
  // injected sidecar's projected token) are credentials too.
  if (cfg.kubernetes) {
    auto reviewer = std::make_shared<kubernetes::TokenReviewer>(
        *cfg.kubernetes, cfg.injection ? cfg.injection->token_audience : std::string("sluice-ca"));
    ca_service_->setExternalTokens([reviewer](std::string_view token) { return reviewer->review(token); });
  }
  const std::time_t root_end = std::chrono::system_clock::to_time_t(ca->authority->rootNotAfter());
  char end[32];
  std::tm tm{};
  gmtime_r(&root_end, &tm);
  std::strftime(end, sizeof(end), "%Y-%m-%dT%H:%M:%SZ", &tm);
  log::info("ca: trust domain " + ca->spec.trust_domain + ", root " +
            (ca->spec.root ? "from " + ca->spec.root->cert.path
                           : (ca->authority->generatedRoot() ? "generated in " : "loaded from ") + ca->spec.dir.path) +
            (ca->spec.intermediate ? ", issuing from " + ca->spec.intermediate->cert.path : std::string()) +
            ", root valid until " + end);
  ca_server_ = std::make_unique<ca::CaServer>(spec.serving, spec.dir.path, ca_service_.get());
  std::string error;
  if (!ca_server_->start(*ca->authority, now, error)) {
    errors = "CA server: " + error + "\n";
    ca_server_.reset();
    return false;
  }
  ca_address_ = withPort(spec.serving.address, ca_server_->port());
  if (spec.serving.plaintext)
    log::warn("ca: CreateCertificate on " + ca_address_ +
              " is plaintext (ca.plaintext): bootstrap and service-account tokens cross the network in the clear");
  log::info("ca: CreateCertificate on " + ca_address_ + ", " + ca_server_->describe());
  return true;
}

void ControlDaemon::renewCaCertificate() {
  std::string error;
  const auto now = std::chrono::system_clock::now();
  if (ca_server_->renew(*ca_service_->current()->authority, now, error)) {
    log::info("ca: serving certificate renewed");
    return;
  }
  log::error("ca: cannot renew the serving certificate (the current one serves on; retrying): " + error);
}

bool ControlDaemon::start(std::string& errors) {
  const FileWatch::Content& content = watch_.read();
  if (!content.ok) {
    errors = path_ + ": " + content.error + "\n";
    return false;
  }
  if (auto spec = kubernetes::kubernetesSpecOf(content.text, path_)) startDiscovery(*spec);
  ControlLoadResult r = loadControlString(content.text, path_, &mesh_cache_, discovered_.get());
  if (!r.config) {
    errors = r.errorText();
    if (discovery_) discovery_->stop();
    return false;
  }
  // Published before the server starts: the first stream of every group
  // finds its snapshot there.
  std::shared_ptr<const ControlConfig> cfg = r.config;
  AdsServer::Options options;
  if (cfg->ca && !startCa(*cfg->ca, *cfg, errors)) {
    if (discovery_) discovery_->stop();
    return false;
  }
  options.address = cfg->ads_address;
  options.metrics = &registry_;
  options.match = [this](const envoy::config::core::v3::Node& node) {
    std::lock_guard lock(mu_);
    return config_ ? config_->groupFor(node.id(), node.cluster()) : std::string();
  };
  ads_ = std::make_unique<AdsServer>(std::move(options));
  publish(cfg, content.text);

  std::string error;
  if (!ads_->start(error)) {
    errors = "ADS server: " + error + "\n";
    if (discovery_) discovery_->stop();
    return false;
  }
  admin_ = std::make_unique<AdminServer>(cfg->admin_address, [this](std::string_view method, std::string_view target) {
    return handleAdmin(method, target);
  });
  if (!admin_->start(error)) {
    errors = error + "\n";
    ads_->shutdown();
    if (discovery_) discovery_->stop();
    return false;
  }
  good_text_ = content.text;
  reportShadowed(*cfg);
  if (cfg->injection && !startWebhook(*cfg->injection, errors)) {
    admin_->stop();
    ads_->shutdown();
    if (discovery_) discovery_->stop();
    return false;
  }
  ads_address_ = withPort(cfg->ads_address, ads_->port());
  admin_address_ = withPort(cfg->admin_address, admin_->port());
  {
    std::lock_guard lock(mu_);
    ready_ = true;
  }
  log::info("serving " + path_ + " (version " + version_ + ", " + std::to_string(cfg->groups.size()) +
            " groups): ADS on " + ads_address_ + ", admin on " + admin_address_ +
            (ca_server_ ? ", CA on " + ca_address_ : "") +
            (webhook_ ? ", injection webhook on https://" + webhook_address_ + cfg->injection->webhook.path : ""));
  return true;
}

bool ControlDaemon::startWebhook(const kubernetes::InjectionSpec& spec, std::string& errors) {
  const kubernetes::WebhookServing serving = spec.webhook;
  kubernetes::CertificateProvider certificates;
  if (serving.cert_file) {
    certificates = [serving](kubernetes::ServingCertificate& out, std::string& error) {
      return kubernetes::loadServingCertificate(serving, std::chrono::system_clock::now(), out, error);
    };
  } else {
    certificates = [this, serving](kubernetes::ServingCertificate& out, std::string& error) {
      const auto ca = certificateAuthority();
      if (!ca) {
        error = "no CA to issue the webhook's certificate";
        return false;
      }
      if (!kubernetes::issueServingCertificate(*ca->authority, serving, std::chrono::system_clock::now(), out, error))
        return false;
      log::info("webhook: serving certificate for " + serving.dns_names.front() + " issued by the mesh CA");
      return true;
    };
  }
  injection_metrics_ = std::make_unique<kubernetes::InjectionMetrics>(registry_);
  webhook_ = std::make_unique<kubernetes::WebhookServer>(
      serving.address,
      [this](std::string_view method, std::string_view target, std::string_view body) {
        return handleWebhook(method, target, body);
      },
      std::move(certificates));
  std::string error;
  if (!webhook_->start(error)) {
    errors = "injection webhook: " + error + "\n";
    webhook_.reset();
    return false;
  }
  webhook_address_ = withPort(serving.address, webhook_->port());
  webhook_from_files_ = serving.cert_file.has_value();
  return true;
}

kubernetes::WebhookReply ControlDaemon::handleWebhook(std::string_view method, std::string_view target,
                                                      std::string_view body) {
  std::shared_ptr<const kubernetes::InjectionSpec> spec;
  {
    std::lock_guard lock(mu_);
    spec = injection_;
  }
  if (pathOf(target) != spec->webhook.path)
    return {404, "text/plain; charset=utf-8", "not found; the webhook is POST " + spec->webhook.path + "\n"};
  if (method != "POST") return {405, "text/plain; charset=utf-8", "POST only\n"};
  return kubernetes::answerAdmissionReview(body, *spec, injection_metrics_.get());
}

void ControlDaemon::tick(Clock::time_point now) {
  if (watch_.changed()) {
    // Every change restarts the quiet period: a burst of writes is one reload.
    pending_ = true;
    last_change_ = now;
    log::debug(path_ + " changed");
  }
  for (FileWatch& w : tls_watches_)
    if (w.changed()) {
      pending_ = true;
      last_change_ = now;
      log::debug(w.path() + " changed");
    }
  std::shared_ptr<const ControlConfig> cfg;
  {
    std::lock_guard lock(mu_);
    cfg = config_;
  }
  if (pending_ && now - last_change_ >= cfg->debounce) {
    pending_ = false;
    apply(watch_.current());
  }
  if (ca_server_ && std::chrono::system_clock::now() >= ca_server_->renewAt()) renewCaCertificate();
  if (discovery_) {
    const uint64_t generation = discovery_->generation();
    if (generation != discovery_generation_) {
      discovery_generation_ = generation;
      discovery_pending_ = true;
      discovery_change_ = now;
    }
    if (discovery_pending_ && now - discovery_change_ >= cfg->debounce) {
      discovery_pending_ = false;
      applyDiscovered();
    }
  }
}

void ControlDaemon::startDiscovery(const kubernetes::KubernetesSpec& spec) {
  discovery_ = std::make_unique<kubernetes::Discovery>(spec, registry_);
  discovery_->start();
  // The file may name discovered services: give the first lists a moment.
  const auto deadline = Clock::now() + spec.sync_timeout;
  while (!discovery_->synced() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  discovery_generation_ = discovery_->generation();
  auto first = std::make_shared<const mesh::Mesh>(discovery_->mesh());
  discovered_text_ = kubernetes::discoveredText(*first);
  log::info(std::string("kubernetes: ") + (discovery_->synced() ? "first lists complete" : "first lists not complete") +
            " after " +
            std::to_string(
                std::chrono::duration_cast<std::chrono::milliseconds>(spec.sync_timeout - (deadline - Clock::now()))
                    .count()) +
            "ms: " + std::to_string(first->services.size()) + " service(s), " +
            std::to_string(first->workloads.size()) + " workload(s)" +
            (discovery_->synced() ? "" : "; serving what there is and retrying"));
  discovered_ = std::move(first);
}

void ControlDaemon::applyDiscovered() {
  auto next = std::make_shared<const mesh::Mesh>(discovery_->mesh());
  std::string text = kubernetes::discoveredText(*next);
  if (text == discovered_text_) return;  // a status or resourceVersion change alone
  ControlLoadResult r = loadControlString(good_text_, path_, &mesh_cache_, next.get());
  if (!r.config) {
    // A file that names a discovered service gone from the cluster, say:
    // the serving config stays until the cluster or the file is fixed.
    log::error("kubernetes: the discovered services and workloads do not fit " + path_ +
               "; the last good config keeps serving:");
    for (const auto& e : r.errors) log::error(e.str());
    metrics_.rejections.Increment();
    discovered_text_ = std::move(text);
    return;
  }
  discovered_ = std::move(next);
  discovered_text_ = std::move(text);
  reportShadowed(*r.config);
  log::info("kubernetes: applying " + std::to_string(discovered_->services.size()) + " discovered service(s) and " +
            std::to_string(discovered_->workloads.size()) + " workload(s)");
  publish(r.config, good_text_);
}

void ControlDaemon::reportShadowed(const ControlConfig& cfg) {
  for (const auto& name : cfg.shadowed)
    if (shadowed_reported_.insert(name).second)
      log::warn("kubernetes: " + name + " is also defined in " + path_ + ": the file's definition is served");
}

std::chrono::milliseconds ControlDaemon::nextTick(Clock::time_point now) const {
  std::shared_ptr<const ControlConfig> cfg;
  {
    std::lock_guard lock(mu_);
    cfg = config_;
  }
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(cfg->watch_interval);
  // Discovery's changes are polled (a counter under a mutex): often enough
  // that the debounce, not the poll, sets the delay.
  if (discovery_) wait = std::min(wait, std::chrono::milliseconds(20));
  if (discovery_pending_) {
    const auto due = std::chrono::ceil<std::chrono::milliseconds>(discovery_change_ + cfg->debounce - now);
    wait = std::min(wait, std::max(due, std::chrono::milliseconds(0)));
  }
  if (pending_) {
    const auto due = std::chrono::ceil<std::chrono::milliseconds>(last_change_ + cfg->debounce - now);
    wait = std::min(wait, std::max(due, std::chrono::milliseconds(0)));
  }
  if (ca_server_ && ca_server_->renewAt() != ca::SysTime::max()) {
    const auto due =
        std::chrono::ceil<std::chrono::milliseconds>(ca_server_->renewAt() - std::chrono::system_clock::now());
    wait = std::min(wait, std::max(due, std::chrono::milliseconds(0)));
  }
  return wait;
}

void ControlDaemon::reloadNow() {
  watch_.changed();
  pending_ = false;
  apply(watch_.current());
  if (webhook_ && webhook_from_files_) webhook_->refreshNow();
}

void ControlDaemon::apply(const FileWatch::Content& content) {
  if (!content.ok) {
    reject({path_ + ": " + content.error});
    return;
  }
  ControlLoadResult r = loadControlString(content.text, path_, &mesh_cache_, discovered_.get());
  if (!r.config) {
    reject(errorLines(r));
    return;
  }
  std::shared_ptr<const ControlConfig> old;
  {
    std::lock_guard lock(mu_);
    old = config_;
  }
  std::shared_ptr<const ca::CaRuntime> next_ca;
  if (std::vector<std::string> errors; !reconfigureCa(*r.config, next_ca, errors)) {
    reject(std::move(errors));
    return;
  }
  if (next_ca) ca_service_->update(next_ca);
  if (r.config->ads_address != old->ads_address)
    log::warn("ads.address changed to " + r.config->ads_address + ": it takes a restart (still " + old->ads_address +
              ")");
  if (r.config->injection.has_value() != old->injection.has_value() ||
      (r.config->injection && !(r.config->injection->webhook == old->injection->webhook)))
    log::warn(std::string("injection") + (r.config->injection && old->injection ? ".webhook" : "") +
              " changed: it takes a restart (admissions get the injection settings of the last config that had them)");
  if (r.config->admin_address != old->admin_address)
    log::warn("admin.address changed to " + r.config->admin_address + ": it takes a restart (still " +
              old->admin_address + ")");
  if (r.config->kubernetes != old->kubernetes)
    log::warn("kubernetes: the block changed: it takes a restart (discovery goes on as it started)");
  good_text_ = content.text;
  reportShadowed(*r.config);
  publish(r.config, content.text);
  metrics_.reloads.Increment();
  std::lock_guard lock(mu_);
  log::info(path_ + " applied (version " + version_ + ")");
}

bool ControlDaemon::reconfigureCa(const ControlConfig& next, std::shared_ptr<const ca::CaRuntime>& out,
                                  std::vector<std::string>& errors) const {
  if (!ca_service_ && !next.ca) return true;
  config::ParseContext ctx(path_);
  if (!ca_service_) {
    ctx.error(next.ca->loc, "ca", "adding the CA takes a restart of sluice-control");
  } else if (!next.ca) {
    ctx.error(config::SourceLoc{}, "ca", "removing the CA takes a restart of sluice-control");
  } else {
    out = ca_service_->current()->reconfigured(*next.ca, ctx);
  }
  for (const auto& e : ctx.errors()) errors.push_back(e.str());
  return errors.empty();
}

std::shared_ptr<const ca::CaRuntime> ControlDaemon::certificateAuthority() const {
  return ca_service_ ? ca_service_->current() : nullptr;
}

void ControlDaemon::reject(std::vector<std::string> errors) {
  log::error(path_ + ": edit refused (" + std::to_string(errors.size()) + (errors.size() == 1 ? " error" : " errors") +
             "); the last good config keeps serving");
  for (const auto& e : errors) log::error(e);
  metrics_.rejections.Increment();
  std::lock_guard lock(mu_);
  last_rejection_ = Rejection{std::chrono::system_clock::now(), std::move(errors)};
}

// The mesh's proxies verify their peers against the CA's trust bundle,
// served to them as the inline secret ROOTCA (control/mesh/proxy_config.h).
// A bundle change (a root rotation's extra_roots) changes their input, so
// the builder republishes them. A group whose computed config and bundle
// are those of the last publish gets the config with the bundle made then:
// an edit copies only the configs it changed.
std::shared_ptr<const ControlConfig> ControlDaemon::withTrustBundle(std::shared_ptr<const ControlConfig> cfg) {
  if (!cfg->mesh) return cfg;
  auto out = std::make_shared<ControlConfig>(*cfg);
  const config::SecretSpec root = ca::trustBundleSecret(*ca_service_->current()->authority);
  const std::string stamp = "\n# ROOTCA " + contentVersion(root.trusted_ca) + "\n";
  std::map<std::string, BundledConfig> next;
  for (auto& g : out->groups) {
    if (g.match.mesh_node_id.empty() || !g.config) continue;
    auto it = bundled_.find(g.name);
    if (it != bundled_.end() && it->second.from == g.config && it->second.trusted_ca == root.trusted_ca) {
      next.emplace(g.name, it->second);
    } else {
      auto with = std::make_shared<config::Config>(*g.config);
      with->secrets.push_back(root);
      next.emplace(g.name, BundledConfig{g.config, std::move(with), root.trusted_ca});
    }
    g.config = next.at(g.name).with;
    g.input += stamp;
  }
  bundled_ = std::move(next);
  return out;
}

void ControlDaemon::watchTlsFiles(const ControlConfig& cfg) {
  const std::vector<std::string> files = cfg.mesh ? mesh::gatewayTlsFiles(*cfg.mesh) : std::vector<std::string>{};
  const bool same = files.size() == tls_watches_.size() &&
                    std::equal(files.begin(), files.end(), tls_watches_.begin(),
                               [](const std::string& f, const FileWatch& w) { return f == w.path(); });
  if (same) return;
  tls_watches_.clear();
  for (const auto& f : files) tls_watches_.emplace_back(f).read();
  // ADS has no transport security or client authentication yet: a client
  // that reaches it and names a gateway's node gets that gateway's keys.
  if (!files.empty() && !isLoopback(cfg.ads_address))
    log::warn("mesh gateways: their TLS private keys are served over ADS on " + cfg.ads_address +
              ", which is plaintext and unauthenticated: keep that port on a network only the gateways reach");
}

void ControlDaemon::publish(std::shared_ptr<const ControlConfig> cfg, const std::string& text) {
  watchTlsFiles(*cfg);
  if (ca_service_) cfg = withTrustBundle(std::move(cfg));
  SnapshotBuilder::Update update = builder_.update(*cfg);
  const auto now = std::chrono::system_clock::now();
  // The matcher's groups first, then the snapshots: publish() asks the
  // matcher again for the streams no group took yet, so a proxy that
  // connected before its group was written joins it here; a stream that
  // joins a new group in between waits for the group's snapshot, which
  // follows at once.
  const std::string matching = matchingOf(cfg.get());
  bool matching_changed;
  {
    std::lock_guard lock(mu_);
    matching_changed = config_ && matchingOf(config_.get()) != matching;
    if (cfg->injection) {
      auto spec = std::make_shared<kubernetes::InjectionSpec>(*cfg->injection);
      // Sidecars verify the CA's port against the roots it holds now.
      if (ca_service_ && !cfg->ca->serving.plaintext)
        for (const std::string& pem : ca_service_->current()->authority->trustBundle()) spec->ca_root_pem += pem;
      injection_ = std::move(spec);
    }
    config_ = std::move(cfg);
    snapshots_ = std::move(update.all);
    version_ = contentVersion(text);
    loaded_at_ = now;
  }
  for (const auto& snap : update.changed) {
    ads_->publish(snap);
    metrics_.groups_published.Increment();
    std::string versions;
    for (const auto& [type, t] : snap->types)
      versions += " " + std::string(discoveryServiceName(type)) + "=" + t.version;
    log::info("group " + snap->group + " published:" + versions);
  }
  // Streams already in a group stay there unless asked: a node the edit
  // gave to another group moves to it now (and gets what differs).
  if (matching_changed) ads_->rematch();
  metrics_.config_loaded_at.Set(std::chrono::duration<double>(now.time_since_epoch()).count());
  if (update.changed.empty()) log::info(path_ + " reloaded: no group changed");
}

void ControlDaemon::stop() {
  {
    std::lock_guard lock(mu_);
    ready_ = false;
  }
  if (discovery_) discovery_->stop();
  if (webhook_) webhook_->stop();
  if (admin_) admin_->stop();
  if (ads_) ads_->shutdown();
  if (ca_server_) ca_server_->shutdown();
}

DaemonStatus ControlDaemon::status() const {
  DaemonStatus s;
  s.config_file = path_;
  {
    std::lock_guard lock(mu_);
    s.config_version = version_;
    s.config_loaded_at = loaded_at_;
    s.last_rejection = last_rejection_;
    for (const auto& [name, snap] : snapshots_)
      for (const auto& [type, t] : snap->types) s.groups[name][std::string(discoveryServiceName(type))] = t.version;
  }
  s.proxies = ads_->status();
  std::sort(s.proxies.begin(), s.proxies.end(),
            [](const ProxyStatus& a, const ProxyStatus& b) { return a.node_id < b.node_id; });
  return s;
}

AdminResponse ControlDaemon::handleAdmin(std::string_view method, std::string_view target) {
  const std::string_view path = pathOf(target);
  const bool known = path == "/status" || path == "/metrics" || path == "/ready";
  if (!known) return {404, "text/plain; charset=utf-8", "not found; try /status, /metrics or /ready\n"};
  if (method != "GET") return {405, "text/plain; charset=utf-8", "GET only\n"};
  if (path == "/status") return {200, "application/json", statusToJson(status()).dump(2) + "\n"};
  if (path == "/metrics" && ca_service_) ca_service_->refreshRootExpiry();
  if (path == "/metrics") return {200, "text/plain; version=0.0.4; charset=utf-8", metricsText(registry_)};
  std::lock_guard lock(mu_);
  if (!ready_) return {503, "text/plain; charset=utf-8", "not ready\n"};
  return {200, "text/plain; charset=utf-8", "ready\n"};
}

}  // namespace sluice::control
