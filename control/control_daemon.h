#pragma once
// sluice-control's running state: the config serving, the ADS server that
// serves it, the admin endpoint that reports on both, and the watch on
// control.yaml that replaces the config.
//
// A change to the file is applied once the file has been quiet for
// `debounce` (an editor's save, a generator writing in pieces, a burst of
// edits: one reload). An edit with any error is refused whole: every error
// is logged, sluice_control_config_rejections_total counts it, /status
// shows it, and the last good config goes on serving. A good edit rebuilds
// and publishes only the groups whose input changed, and the ADS server
// pushes only the types whose version changed.
//
// The mesh CA (`ca:`, control/ca/) is built at start: any error in it (an
// unreadable root, a key that does not match) is reported like a config
// error and nothing starts. Its CreateCertificate service has a port of its
// own (ca.address, TLS: control/ca/ca_server.h), whose issued serving
// certificate tick() renews at half life. A reload applies changes to ca.extra_roots, the TTLs and
// ca.token_keys; an edit that changes ca.trust_domain, ca.dir, ca.root or
// ca.intermediate, or adds or removes `ca:`, is refused whole (it takes a
// restart), like any other bad edit.
//
// With a `kubernetes:` block, discovery (control/kubernetes/discovery.h)
// runs beside: once its changes have been quiet for `debounce`, the last
// good file is applied again with the discovered services and workloads,
// through the same path as an edit (only the proxies whose parts changed
// are recomputed and pushed). The block is read at start; changing it
// takes a restart.
// The injection webhook (`injection:`, control/kubernetes/) starts with the
// rest when configured: its HTTPS server on a thread of its own, its
// serving certificate from the CA or from files. A reload applies the
// injection settings to the next admission; a change to injection.webhook,
// or adding or removing `injection:`, takes a restart (logged, like a
// changed ads.address).
//
// Threads: start(), tick() and stop() on one thread (main's loop); the ADS
// server's and the admin server's threads call the group matcher and the
// admin handler, which read the serving state under a mutex.

#include <prometheus/registry.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "control/admin_server.h"
#include "control/ads_server.h"
#include "control/ca/ca_metrics.h"
#include "control/ca/ca_runtime.h"
#include "control/ca/ca_server.h"
#include "control/ca/certificate_service.h"
#include "control/control_config.h"
#include "control/file_watch.h"
#include "control/kubernetes/discovery.h"
#include "control/kubernetes/injection_webhook.h"
#include "control/kubernetes/webhook_server.h"
#include "control/metrics.h"
#include "control/snapshot_builder.h"
#include "control/status_report.h"

namespace sluice::control {

class ControlDaemon {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ControlDaemon(std::string config_path);
  ~ControlDaemon();

  // Loads the file (its errors, one per line, into `errors`: nothing
  // starts), publishes every group and starts the ADS and admin servers.
  bool start(std::string& errors);
  // Checks the file and applies a change that has been quiet for
  // `debounce`. Call at least every nextTick().
  void tick(Clock::time_point now);
  // How long main's loop may wait before the next tick().
  std::chrono::milliseconds nextTick(Clock::time_point now) const;
  // Applies the file as it is now, debounce or not (SIGHUP), and has the
  // webhook read its cert_file and key_file again now, when it serves from
  // files (else it looks every 30 s).
  void reloadNow();
  // /ready answers 503 from here on; then both servers stop.
  void stop();

  // Where the servers listen, with the bound ports ("127.0.0.1:15010"); an
  // address changed by a reload takes a restart, so these keep the first.
  const std::string& adsAddress() const { return ads_address_; }
  const std::string& adminAddress() const { return admin_address_; }
  // Empty without `injection:`.
  const std::string& webhookAddress() const { return webhook_address_; }
  // CreateCertificate's; empty without `ca:`.
  const std::string& caAddress() const { return ca_address_; }
  // The running CA (null without `ca:`); any thread.
  std::shared_ptr<const ca::CaRuntime> certificateAuthority() const;

  // What the admin endpoint answers (the handler of AdminServer).
  AdminResponse handleAdmin(std::string_view method, std::string_view target);
  // What the injection webhook answers (the handler of WebhookServer).
  kubernetes::WebhookReply handleWebhook(std::string_view method, std::string_view target, std::string_view body);

 private:
  void apply(const FileWatch::Content& content);
  // Starts discovery and waits (up to its sync_timeout) for the first lists.
  void startDiscovery(const kubernetes::KubernetesSpec& spec);
  // The last good file again, with what discovery holds now.
  void applyDiscovered();
  void reportShadowed(const ControlConfig& cfg);
  void reject(std::vector<std::string> errors);
  // The CA the edit `next` asks for: the running one reconfigured, or null
  // when there is none; false with the errors when the edit must be refused.
  bool reconfigureCa(const ControlConfig& next, std::shared_ptr<const ca::CaRuntime>& out,
                     std::vector<std::string>& errors) const;
  void publish(std::shared_ptr<const ControlConfig> cfg, const std::string& text);
  // tls_watches_ for the files `cfg` names (kept while the list is the same).
  void watchTlsFiles(const ControlConfig& cfg);
  // The config with the CA's trust bundle in each mesh proxy's group.
  std::shared_ptr<const ControlConfig> withTrustBundle(std::shared_ptr<const ControlConfig> cfg);
  DaemonStatus status() const;
  bool startWebhook(const kubernetes::InjectionSpec& spec, std::string& errors);
  bool startCa(const ca::CaSpec& spec, const ControlConfig& cfg, std::string& errors);
  void renewCaCertificate();

  const std::string path_;
  prometheus::Registry registry_;
  DaemonMetrics metrics_;
  FileWatch watch_;
  SnapshotBuilder builder_;
  // The mesh proxies' configs, recomputed on a reload only where their parts changed.
  mesh::ProxyConfigCache mesh_cache_;
  // Each mesh proxy's config with the trust bundle, as last published, by
  // group: reused while its config (the same object) and the bundle are.
  struct BundledConfig {
    std::shared_ptr<const config::Config> from, with;
    std::string trusted_ca;  // the bundle's PEM
  };
  std::map<std::string, BundledConfig> bundled_;
  // Before ads_: the server's threads call the service until ads_ is gone.
  std::unique_ptr<ca::CaMetrics> ca_metrics_;
  std::unique_ptr<ca::CertificateService> ca_service_;
  std::unique_ptr<ca::CaServer> ca_server_;  // after ca_service_: goes first
  std::unique_ptr<AdsServer> ads_;
  std::unique_ptr<AdminServer> admin_;
  std::unique_ptr<kubernetes::InjectionMetrics> injection_metrics_;
  std::unique_ptr<kubernetes::WebhookServer> webhook_;
  bool webhook_from_files_ = false;  // injection.webhook.cert_file at start
  std::string ads_address_, admin_address_, webhook_address_, ca_address_;

  // The files the serving mesh's gateway TLS blocks name (its certificates,
  // keys and client CAs): a change to one reloads as an edit of control.yaml
  // does, and a bad new file is refused the same way.
  std::vector<FileWatch> tls_watches_;

  // An edit seen and not yet applied, and when the file last changed.
  bool pending_ = false;
  Clock::time_point last_change_{};

  // Discovery (null without `kubernetes:`), the generation last seen, a
  // change not yet applied and when it was seen; the discovered mesh the
  // serving config holds, and its text (discoveredText).
  std::unique_ptr<kubernetes::Discovery> discovery_;
  uint64_t discovery_generation_ = 0;
  bool discovery_pending_ = false;
  Clock::time_point discovery_change_{};
  std::shared_ptr<const mesh::Mesh> discovered_;
  std::string discovered_text_;
  std::string good_text_;  // the file's text the serving config was loaded from
  std::set<std::string> shadowed_reported_;

  // Read by the servers' threads.
  mutable std::mutex mu_;
  std::shared_ptr<const ControlConfig> config_;
  std::string version_;
  std::chrono::system_clock::time_point loaded_at_{};
  std::optional<Rejection> last_rejection_;
  std::map<std::string, std::shared_ptr<const GroupSnapshot>> snapshots_;  // serving, by group
  // The injection settings admissions get: the last config that had them.
  std::shared_ptr<const kubernetes::InjectionSpec> injection_;
  bool ready_ = false;
};

}  // namespace sluice::control
