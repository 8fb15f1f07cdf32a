#include "proxy/server/server.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <thread>

#include "config/ca_root.h"
#include "config/config_json.h"
#include "config/loader.h"
#include "proxy/http/access_log.h"
#include "proxy/log/log.h"
#include "proxy/module/grpc_module_loader.h"

namespace sluice::server {

Server::Server(Options options) : options_(std::move(options)) {}

Server::~Server() {
  source_.reset();  // an ADS client's stream posts into loop_ until it is gone
  agent_.reset();   // so do the agent's calls
  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
  workers_.clear();  // before the overload state they read
  overload_.reset();
  monitors_.clear();  // before the loop their checks run on
  admin_.reset();
  if (signal_fd_ >= 0) {
    loop_.removeFd(signal_fd_);
    ::close(signal_fd_);
  }
}

void Server::updateHealthMonitors(const config::Config& cfg, const Snapshot& snap) {
  std::map<std::string, std::unique_ptr<upstream::HealthMonitor>> next;
  std::vector<upstream::HealthMonitor*> fresh;
  for (const auto& c : cfg.clusters) {
    auto old = monitors_.find(c.name);
    const auto& refs = snap.cluster_stats.at(c.name);
    const auto& endpoints = cfg.endpointsOf(c);
    if (old != monitors_.end() && old->second->identity() == upstream::HealthMonitor::identityOf(c, endpoints)) {
      old->second->useTls(refs.tls);
      next.emplace(c.name, std::move(old->second));
      continue;
    }
    auto m = std::make_unique<upstream::HealthMonitor>(loop_, c, endpoints, *refs.shared, refs.host_shared, refs.hosts,
                                                       refs.tls, util::threadRandomSource());
    fresh.push_back(m.get());
    next.emplace(c.name, std::move(m));
  }
  monitors_ = std::move(next);  // the replaced ones stop their checks here
  for (auto* m : fresh) m->start();
}

void Server::consecutiveFailures(const std::string& cluster, const std::string& host, upstream::EjectCause cause) {
  loop_.post([this, cluster, host, cause] {
    auto it = monitors_.find(cluster);
    if (it != monitors_.end()) it->second->onConsecutiveFailures(host, cause);
  });
}

void Server::probeResult(const std::string& cluster, const std::string& host, bool success) {
  loop_.post([this, cluster, host, success] {
    auto it = monitors_.find(cluster);
    if (it != monitors_.end()) it->second->onProbeResult(host, success);
  });
}

void Server::publish(std::shared_ptr<const Snapshot> snap) {
  updateHealthMonitors(*snap->config, *snap);
  publishTls(*snap);
  overload_->configure(snap->config->bootstrap.overload);
  if (current_) {
    for (const auto& before : current_->sockets)
      if (std::find(snap->sockets.begin(), snap->sockets.end(), before) == snap->sockets.end()) before->releaseHeld();
  }
  current_ = snap;
  values_.config_version = snap->version;
  for (auto& w : workers_) w->apply(snap);
}

ApplyResult Server::reload() {
  auto loaded = source_->load();
  if (!loaded.config) {
    ++values_.reloads_failed;
    const std::string text = loaded.errorText();
    log::error("reload rejected, keeping config version " + std::to_string(values_.config_version) + ":\n" + text);
    return {false, text};
  }
  return apply(loaded.config);
}

ApplyResult Server::apply(std::shared_ptr<const config::Config> loaded) {
  const auto& cfg = *loaded;
  if (!(cfg.bootstrap.admin.address == current_->config->bootstrap.admin.address))
    log::warn("reload: admin.address changes take effect on restart");
  if (cfg.bootstrap.workers != current_->config->bootstrap.workers)
    log::warn("reload: workers changes take effect on restart");
  std::string error;
  auto snap = builder_->build(withAgentSecret(loaded), current_.get(), &error);
  if (!snap) {
    ++values_.reloads_failed;
    log::error("reload rejected, keeping config version " + std::to_string(values_.config_version) + ": " + error);
    return {false, error + "\n"};
  }
  source_config_ = loaded;
  publish(snap);
  ++values_.reloads_ok;
  log::info("config reloaded: version " + std::to_string(snap->version) + ", " + std::to_string(cfg.listeners.size()) +
            " listeners, " + std::to_string(cfg.route_configs.size()) + " route tables, " +
            std::to_string(cfg.clusters.size()) + " clusters");
  return {true, "ok\n"};
}

void Server::startDrain() {
  if (values_.draining) return;
  values_.draining = true;
  // The workers' sockets close as they stop accepting; ours must not keep
  // the ports open behind them.
  for (const auto& s : current_->sockets) s->releaseHeld();
  const auto timeout = current_->config->bootstrap.drain_timeout;
  log::info("draining for up to " + config::durationString(timeout));
  pending_drains_ = workers_.size();
  for (auto& w : workers_) {
    w->drain(timeout, [this] {
      loop_.post([this] {
        if (--pending_drains_ == 0) {
          log::info("drained; exiting");
          loop_.exit();
        }
      });
    });
  }
  // Workers close what is left at `timeout`; this is only a backstop.
  drain_deadline_ = loop_.createTimer([this] {
    log::warn("drain deadline passed; exiting");
    loop_.exit();
  });
  drain_deadline_->enable(timeout + std::chrono::seconds(2));
}

ApplyResult Server::reopenLogs() {
  const auto r = http::AccessLogFile::reopenAll();
  ApplyResult result{r.errors.empty(), std::to_string(r.reopened) + " access log(s) reopened\n"};
  for (const auto& e : r.errors) {
    log::error("access log reopen: " + e + " (still writing to the old file)");
    result.message += e + "\n";
  }
  return result;
}

void Server::onIoEvent(uint32_t) {
  signalfd_siginfo si;
  while (::read(signal_fd_, &si, sizeof(si)) == sizeof(si)) {
    switch (si.ssi_signo) {
      case SIGHUP:
        log::info("SIGHUP: reloading " + source_->describe() + " and certificates");
        // Certificates first: a provider kept by the config reload must not
        // miss new files, and a new one reads them anyway.
        reloadCertificates();
        reload();
        break;
      case SIGTERM:
        if (values_.draining) {
          log::info("second SIGTERM: exiting now");
          loop_.exit();
        } else {
          log::info("SIGTERM: stop accepting, drain");
          startDrain();
        }
        break;
      case SIGUSR1:
        log::info("SIGUSR1: reopening access logs");
        reopenLogs();
        break;
      case SIGINT:
        log::info("SIGINT: exiting");
        loop_.exit();
        break;
      default:
        break;
    }
  }
}

void Server::writeAdminAddress() {
  if (!options_.admin_address_path) return;
  const std::string tmp = *options_.admin_address_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << admin_->address().str() << "\n";
  }
  std::rename(tmp.c_str(), options_.admin_address_path->c_str());
}

int Server::run() {
  // The file given with -c holds the bootstrap, which names the source of
  // every later config (today that same file, with the first resources).
  auto loaded = config::loadFile(options_.config_path);
  if (!loaded.config) {
    std::fputs(loaded.errorText().c_str(), stderr);
    return 1;
  }
  const auto& cfg = *loaded.config;
  worker_count_ = cfg.bootstrap.workers > 0 ? cfg.bootstrap.workers : std::max(1u, std::thread::hardware_concurrency());

  // Signals go to the signalfd on this loop; workers inherit the blocked mask.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  signal_fd_ = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  loop_.addFd(signal_fd_, this, EPOLLIN);

  stats_ = std::make_unique<stats::StatsStore>(worker_count_);
  builder_ = std::make_unique<SnapshotBuilder>(*stats_, worker_count_);
  const module::GrpcModule* grpc = nullptr;
  if (cfg.bootstrap.ca || cfg.bootstrap.config_source.kind == config::ConfigSourceSpec::Kind::Ads) {
    std::string error;
    if (!(grpc = module::loadGrpcModule(&error))) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 1;
    }
  }
  if (const auto& ca = cfg.bootstrap.ca) {
    // The roots it verifies the CA's port with (config/ca_root.h); none: plaintext.
    const config::SecretSpec* root = cfg.findSecret(config::kCaRootSecretName);
    const std::string root_pem = root && root->inline_pem ? root->trusted_ca : "";
    const std::string root_file = root && !root->inline_pem ? root->trusted_ca : "";
    agent_ = std::make_unique<ca::CertificateAgent>(
        loop_, *ca, cfg.bootstrap.node.id, grpc->make_ca_client(loop_, ca->address, root_pem, root_file),
        [this] { onAgentCertificate(); }, util::threadRandomSource());
  }
  std::string error;
  auto snap = builder_->build(withAgentSecret(loaded.config), nullptr, &error);
  if (!snap) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  try {
    admin_ = std::make_unique<admin::AdminServer>(loop_, cfg.bootstrap.admin.address,
                                                  [this](const admin::Request& r) { return handleAdmin(r); });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  started_ = std::chrono::steady_clock::now();
  values_.workers = worker_count_;
  startOverloadManager();
  for (size_t i = 0; i < worker_count_; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, overload_->state()));
    workers_.back()->clusters().setHealthEventSink(this);  // before the thread starts
    workers_.back()->start();
  }
  source_config_ = loaded.config;
  publish(snap);
  source_ = makeConfigSource(loaded.config, loop_, *this);
  source_->start();
  if (agent_) agent_->start();
  writeAdminAddress();
  for (size_t i = 0; i < snap->sockets.size(); ++i)
    log::info("listener " + snap->sockets[i]->name + " on " + snap->sockets[i]->bound.str());
  log::info("sluice " SLUICE_VERSION " started: " + std::to_string(worker_count_) + " workers, admin on " +
            admin_->address().str());

  loop_.run();

  for (auto& w : workers_) w->stop();
  for (auto& w : workers_) w->join();
  return exit_code_;
}

}  // namespace sluice::server
