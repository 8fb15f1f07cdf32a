#pragma once
// Snapshot: everything a worker needs for one config version, built and
// validated whole on the main thread, then shared read-only with every
// worker. A worker swaps snapshots between events; a connection keeps the
// listener and filter config it was accepted with.

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "proxy/http/route_tables.h"
#include "proxy/net/filter.h"
#include "proxy/server/filter_chain.h"
#include "proxy/stats/stats.h"
#include "proxy/upstream/cluster_manager.h"

namespace sluice::server {

// The bound sockets of one listener: one SO_REUSEPORT socket per worker, all
// bound by the main thread so a bind failure rejects the config before any
// worker sees it. Shared by every snapshot in which the listener is unchanged.
struct ListenerSockets {
  std::string name;
  std::string identity;  // canonical JSON of the listener config: equal => unchanged
  ip::Address bound;     // actual address (port 0 resolved)
  std::vector<int> fds;  // fds[w] is owned by worker w, which closes it and sets -1
  // The main thread's own copies (duplicates) of the same sockets, touched by
  // the main thread only: what a changed listener on this address duplicates
  // once the workers have adopted (and may be closing) theirs.
  std::vector<int> held;
  // Exact across workers: max_connections is a global limit (one atomic, no lock).
  std::atomic<int64_t> active{0};

  // Main thread, once no published snapshot keeps these sockets: a removed
  // listener's port closes when its workers stop accepting, not later.
  void releaseHeld();
  ~ListenerSockets();
};

struct Snapshot {
  uint64_t version = 0;
  std::shared_ptr<const config::Config> config;
  // Parallel to config->listeners.
  std::vector<std::shared_ptr<ListenerSockets>> sockets;
  std::vector<stats::PerWorker<stats::ListenerStats>*> listener_stats;
  std::vector<std::shared_ptr<const ListenerChains>> listener_chains;
  std::map<std::string, upstream::ClusterStatsRefs> cluster_stats;
  std::shared_ptr<const http::RouteTables> routes;
  // Every certificate provider this config uses, by identity (role, owner
  // and TLS config). The main thread checks and reloads them; workers read
  // them through the chains and clusters above.
  std::map<std::string, std::shared_ptr<tls::CertificateProvider>> tls_providers;
  // Running providers kept by this config whose secrets changed content:
  // built and checked with the snapshot, installed when it is published.
  struct TlsSwap {
    std::shared_ptr<tls::CertificateProvider> provider;
    std::shared_ptr<const tls::CertificateProvider::Swap> swap;
  };
  std::vector<TlsSwap> tls_swaps;
};

}  // namespace sluice::server
