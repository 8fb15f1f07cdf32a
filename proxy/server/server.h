#pragma once
// The main thread's orchestration: takes configs from its ConfigSource,
// has the SnapshotBuilder turn each into a snapshot, hands snapshots to the
// workers, keeps health monitors and certificate providers in step, runs the
// admin server and handles signals (SIGHUP reload, SIGTERM drain, SIGINT exit).

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proxy/admin/admin_server.h"
#include "proxy/admin/metrics.h"
#include "proxy/ca/certificate_agent.h"
#include "proxy/event/loop.h"
#include "proxy/overload/overload_manager.h"
#include "proxy/server/config_source.h"
#include "proxy/server/snapshot.h"
#include "proxy/server/snapshot_builder.h"
#include "proxy/server/worker.h"
#include "proxy/upstream/cluster_shared.h"
#include "proxy/upstream/health_monitor.h"

namespace sluice::server {

struct Options {
  std::string config_path;  // -c: the bootstrap (which names where later configs come from)
  std::optional<std::string> admin_address_path;  // the bound admin address is written here
};

class Server : public event::IoHandler, public upstream::HealthEventSink, public ConfigSink {
 public:
  explicit Server(Options options);
  ~Server();
  // Runs until SIGTERM (after draining) or SIGINT. Returns the exit code.
  int run();

  void onIoEvent(uint32_t events) override;  // signalfd

  // HealthEventSink: called on worker threads; handled on the main thread.
  void consecutiveFailures(const std::string& cluster, const std::string& host, upstream::EjectCause cause) override;
  void probeResult(const std::string& cluster, const std::string& host, bool success) override;

  // ConfigSink: every config after the first (SIGHUP, POST /reload, and the
  // xDS source next) comes through here; counted as a reload.
  ApplyResult apply(std::shared_ptr<const config::Config> cfg) override;

 private:
  // SIGHUP and POST /reload: the source is read again and applied.
  ApplyResult reload();
  // The config as it runs (certificate_agent_server.cc): `cfg` with the
  // certificate agent's secret in, or, until its first certificate, without
  // the listeners and clusters whose TLS names it (they wait, as for an SDS
  // secret, and come when it does). `cfg` itself when there is no agent.
  std::shared_ptr<const config::Config> withAgentSecret(std::shared_ptr<const config::Config> cfg) const;
  // A new certificate from the agent: the last applied config again, with it.
  void onAgentCertificate();
  // POST /certs/rotate: the agent asks for a new certificate now.
  admin::Response rotateAgentCertificate();
  void publish(std::shared_ptr<const Snapshot> snap);
  // Keeps each cluster's health monitor across a reload that leaves its
  // endpoints and health settings alone; rebuilds (and restarts) the others.
  void updateHealthMonitors(const config::Config& cfg, const Snapshot& snap);
  admin::UpstreamValues upstreamValues() const;
  admin::OverloadValues overloadValues() const;
  // The overload manager (overload_server.cc): built before the workers,
  // which read its state; configured by every published snapshot.
  void startOverloadManager();
  void onOverloadChange(uint32_t before, uint32_t after);
  // Why /ready says 503 while stop_accepting is in force.
  std::string overloadReason() const;
  void startDrain();
  // SIGUSR1 and POST /logs/reopen: access logs are opened again by path (logrotate).
  ApplyResult reopenLogs();
  admin::Response handleAdmin(const admin::Request& req);
  void addResourceOrigins(nlohmann::json& dump) const;
  std::string renderClusters() const;
  std::string renderListeners() const;
  void writeAdminAddress();

  // TLS (server_tls.cc). After publishing: providers the new config dropped
  // stop reporting.
  void publishTls(const Snapshot& snap);
  void checkCertificates();
  // SIGHUP and POST /certs/reload: every provider re-reads its files.
  ApplyResult reloadCertificates();
  void rotateTicketKeys();
  std::string renderCerts() const;

  Options options_;
  std::unique_ptr<ConfigSource> source_;
  event::Loop loop_;
  int signal_fd_ = -1;
  size_t worker_count_ = 0;
  std::unique_ptr<stats::StatsStore> stats_;
  std::unique_ptr<SnapshotBuilder> builder_;
  std::map<std::string, std::unique_ptr<upstream::HealthMonitor>> monitors_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<admin::AdminServer> admin_;
  std::unique_ptr<overload::OverloadManager> overload_;
  std::shared_ptr<const Snapshot> current_;
  admin::ServerValues values_;
  event::MonoTime started_;
  size_t pending_drains_ = 0;
  std::unique_ptr<event::Timer> drain_deadline_;
  // The providers of current_ (same map as current_->tls_providers).
  std::map<std::string, std::shared_ptr<tls::CertificateProvider>> tls_providers_;
  std::unique_ptr<event::Timer> cert_timer_;    // checkForChanges on every provider
  std::unique_ptr<event::Timer> ticket_timer_;  // session ticket key rotation
  // dynamic.ca: the proxy's own certificate (null without one). After
  // loop_: its gRPC calls post into it until they are gone.
  std::unique_ptr<ca::CertificateAgent> agent_;
  // The last config the source gave and the server applied, before the
  // agent's secret went in: applied again when that secret changes.
  std::shared_ptr<const config::Config> source_config_;
  int exit_code_ = 0;
};

}  // namespace sluice::server
