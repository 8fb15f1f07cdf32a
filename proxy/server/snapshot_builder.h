#pragma once
// SnapshotBuilder: turns a validated config into a Snapshot the workers can
// run. It binds the sockets of new and changed listeners (keeping those of
// unchanged ones), resolves the stats blocks of listeners, route tables,
// clusters and hosts, builds the route tables, and attaches a certificate
// provider to every TLS chain and cluster (the running one while its TLS
// config is unchanged, else a new one). Main thread only.
//
// A failed build changes nothing that runs: sockets it bound close with the
// discarded snapshot, and providers it made take their gauges back.

#include <map>
#include <memory>
#include <string>

#include "config/model.h"
#include "proxy/server/snapshot.h"
#include "proxy/stats/stats.h"
#include "proxy/upstream/cluster_shared.h"

namespace sluice::server {

class SnapshotBuilder {
 public:
  // `stats` outlives the builder; every snapshot binds one socket per worker.
  SnapshotBuilder(stats::StatsStore& stats, size_t worker_count);

  // `current` is the running snapshot (null before the first). Returns null
  // with *error ("file:line:col: path: why") when the config cannot run.
  std::shared_ptr<Snapshot> build(std::shared_ptr<const config::Config> cfg, const Snapshot* current,
                                  std::string* error);

 private:
  // One socket per worker for `l`: duplicates of those of the listener in
  // `current` bound to the same address, if any, else new ones.
  std::shared_ptr<ListenerSockets> bindListener(const config::ListenerConfig& l, std::string identity,
                                                const Snapshot* current, std::string* error);
  upstream::ClusterShared& clusterShared(const std::string& name);
  // snapshot_tls.cc
  bool attachTls(Snapshot& snap, const Snapshot* current, std::string* error);

  stats::StatsStore& stats_;
  const size_t worker_count_;
  // By cluster name; kept until exit like stats (workers hold plain pointers).
  std::map<std::string, std::unique_ptr<upstream::ClusterShared>> cluster_shared_;
  uint64_t next_version_ = 1;
};

}  // namespace sluice::server
