#pragma once
// CertificateProvider: the TLS context of one listener chain (server side)
// or one cluster (client side), rebuilt from its certificate sources while
// the proxy runs.
//
// Threads and ownership:
// - The main thread creates it, calls reload() (SIGHUP, admin) and
//   checkForChanges() (its periodic timer), and owns it through a
//   shared_ptr it also hands to every worker.
// - Each worker keeps a View. View::server()/client() costs one acquire
//   load of the provider's version while nothing changed; after a reload
//   it takes the provider's mutex once to copy the new context. The
//   handshake path never locks otherwise.
// - A connection keeps the context it started with (TlsTransport holds a
//   shared_ptr), so a reload changes new handshakes only.
//
// Sources: each certificate and the trust bundle come from a
// CertificateSource (certificate_source.h) that hands over PEM text and
// says whether it changed. A config's TLS block names secrets
// (config::SecretSpec); the snapshot builder (snapshot_tls.cc) gives its
// provider one source per named secret through the overloads taking
// sources: a FileCertificateSource for a secret's files (changed when a
// file's (mtime, size, inode) moves). The overloads taking paths make the
// same file sources.
//
// Reload: every source is read again and a complete new context is built
// and validated (chain parses, key matches, CA bundle parses, no
// certificate past its notAfter). Only then is it swapped in. On any
// failure the old context keeps serving, the error (naming the material:
// the file's path) is logged and returned, and
// sluice_tls_certificate_reloads_total{name,result="failure"} counts it.
// Reading marks a source as seen, so bad material is not retried until its
// source changes again.
//
// Expiry: sluice_tls_certificate_expiry_seconds{name,certificate="<index>"}
// is a gauge of seconds until each certificate's notAfter (negative once
// expired), refreshed by checkForChanges() and after each reload.
//
// Secrets that change by content (an SDS secret's new version under the
// same name, the certificate agent's renewal): the snapshot builder gives a
// kept provider new sources with prepare() and the server install()s them
// when the snapshot is published; inline PEM is read through a
// MemoryCertificateSource. See snapshot_tls.cc.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "proxy/stats/named_counters.h"
#include "proxy/tls/certificate_source.h"
#include "proxy/tls/tls_context.h"

namespace sluice::tls {

class CertificateProvider {
 public:
  using Clock = std::chrono::system_clock;

  struct Created {
    std::shared_ptr<CertificateProvider> provider;  // null on failure
    std::string error;
  };
  // Main thread. `name` labels metrics and log lines (the listener or
  // cluster name). Fails when the first build fails. Each source belongs to
  // this provider alone (see CertificateSource).
  static Created createServer(std::string name, ServerTlsOptions options, ServerCertificateSources sources,
                              std::shared_ptr<SessionTicketKeys> ticket_keys = nullptr,
                              Clock::time_point now = Clock::now());
  static Created createClient(std::string name, ClientTlsOptions options, ClientCertificateSources sources,
                              Clock::time_point now = Clock::now());
  // From paths (FileCertificateSource), without secrets.
  static Created createServer(std::string name, ServerTlsConfig config,
                              std::shared_ptr<SessionTicketKeys> ticket_keys = nullptr, Clock::time_point now = Clock::now());
  static Created createClient(std::string name, ClientTlsConfig config, Clock::time_point now = Clock::now());

  const std::string& name() const { return name_; }
  bool isServer() const { return is_server_; }

  // Any thread; takes the mutex (workers use a View instead).
  std::shared_ptr<const ServerTlsContext> serverContext() const;
  std::shared_ptr<const ClientTlsContext> clientContext() const;
  // Bumped by every successful reload.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }

  struct ReloadResult {
    bool ok = false;
    std::string error;  // when !ok
  };
  // Main thread: rebuild from the sources now; swap on success.
  ReloadResult reload(Clock::time_point now = Clock::now());
  // Main thread, periodically: when any source changed since the last
  // attempt, reloads (once per change: bad material is not retried until it
  // changes again). Refreshes the expiry gauges. Returns true when a reload
  // was attempted.
  bool checkForChanges(Clock::time_point now = Clock::now());

  struct Expiry {
    std::string cert_chain_path;
    int64_t seconds;  // negative when expired
  };
  // Of the current context, in config order.
  std::vector<Expiry> secondsToExpiry(Clock::time_point now = Clock::now()) const;

  // New sources for the same TLS config: a secret it names now holds other
  // material (inline PEM that changed, other files under the same name). The
  // context is built and checked by prepare(), which changes nothing, and
  // swapped in by install() once the config that carries it is published:
  // workers' Views pick it up as after a reload, so listeners keep their
  // sockets and connections (each keeps the context it started with).
  // Main thread only; a Swap is for the provider that prepared it.
  struct Swap {
    ServerCertificateSources server_sources;
    ClientCertificateSources client_sources;
    std::shared_ptr<const ServerTlsContext> server;
    std::shared_ptr<const ClientTlsContext> client;
    std::string content;
  };
  struct Prepared {
    std::shared_ptr<const Swap> swap;  // null on failure
    std::string error;
  };
  Prepared prepare(ServerCertificateSources sources, std::string content, Clock::time_point now = Clock::now()) const;
  Prepared prepare(ClientCertificateSources sources, std::string content, Clock::time_point now = Clock::now()) const;
  void install(const Swap& swap, Clock::time_point now = Clock::now());
  // What the sources were made from (the named secrets' kinds, paths or
  // PEM), as the creator gave it: equal means the sources read the same
  // material. Set by create*() callers through setContent().
  const std::string& content() const { return content_; }
  void setContent(std::string content) { content_ = std::move(content); }

  // Main thread: the config no longer uses this provider (a replacement
  // may carry its name). Its expiry gauges drop to zero and stop updating,
  // though connections may keep its contexts alive for a while.
  void retire();

  // A worker's cached view of the current context. Loop thread only.
  class View {
   public:
    explicit View(std::shared_ptr<const CertificateProvider> provider) : provider_(std::move(provider)) {}
    const std::shared_ptr<const ServerTlsContext>& server() {
      if (provider_->version() != seen_) refresh();
      return server_;
    }
    const std::shared_ptr<const ClientTlsContext>& client() {
      if (provider_->version() != seen_) refresh();
      return client_;
    }

   private:
    void refresh();
    std::shared_ptr<const CertificateProvider> provider_;
    uint64_t seen_ = 0;  // versions start at 1
    std::shared_ptr<const ServerTlsContext> server_;
    std::shared_ptr<const ClientTlsContext> client_;
  };

 private:
  CertificateProvider(std::string name, bool is_server);
  // Builds a context from the sources; on success swaps it in.
  std::string rebuild(Clock::time_point now);
  // Builds and checks a context without touching the provider.
  std::string buildServer(const ServerCertificateSources& sources, Clock::time_point now,
                          std::shared_ptr<const ServerTlsContext>& out) const;
  std::string buildClient(const ClientCertificateSources& sources, Clock::time_point now,
                          std::shared_ptr<const ClientTlsContext>& out) const;
  void updateGauges(Clock::time_point now);

  const std::string name_;
  const bool is_server_;
  ServerTlsOptions server_options_;
  ServerCertificateSources server_sources_;
  ClientTlsOptions client_options_;
  ClientCertificateSources client_sources_;
  std::shared_ptr<SessionTicketKeys> ticket_keys_;
  std::string content_;

  mutable std::mutex mu_;  // guards the two contexts below; never held on I/O
  std::shared_ptr<const ServerTlsContext> server_;
  std::shared_ptr<const ClientTlsContext> client_;
  std::atomic<uint64_t> version_{0};

  // Main thread only.
  std::shared_ptr<stats::NamedCounter> reload_ok_;
  std::shared_ptr<stats::NamedCounter> reload_failed_;
  struct Gauge {
    std::shared_ptr<stats::NamedCounter> counter;
    int64_t value = 0;
  };
  std::vector<Gauge> expiry_gauges_;
  bool retired_ = false;
};

}  // namespace sluice::tls
