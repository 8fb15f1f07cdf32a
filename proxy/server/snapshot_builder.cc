#include "proxy/server/snapshot_builder.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

#include "config/config_json.h"
#include "proxy/http/route_config.h"
#include "proxy/net/socket_util.h"

namespace sluice::server {

SnapshotBuilder::SnapshotBuilder(stats::StatsStore& stats, size_t worker_count)
    : stats_(stats), worker_count_(worker_count) {}

std::shared_ptr<ListenerSockets> SnapshotBuilder::bindListener(const config::ListenerConfig& l, std::string identity,
                                                               const Snapshot* current, std::string* error) {
  auto sockets = std::make_shared<ListenerSockets>();
  sockets->name = l.name;
  sockets->identity = std::move(identity);
  // A changed listener on the address a running one holds takes that
  // listener's sockets (duplicated from the main thread's copies), not new
  // ones beside them: closing the old sockets when their listener drains
  // would reset the connections the kernel had just queued on them, which
  // no accept can race away.
  const auto duplicate = [&](int fd) {
    const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0 && error) *error = std::string("dup ") + l.address.str() + ": " + std::strerror(errno);
    return copy;
  };
  if (current && l.address.port() != 0) {
    for (const auto& s : current->sockets) {
      if (!(s->bound == l.address) || s->held.size() != worker_count_) continue;
      bool open = true;
      for (int fd : s->held) open = open && fd >= 0;
      if (!open) break;
      for (int fd : s->held) {
        const int copy = duplicate(fd);
        if (copy < 0) return nullptr;  // the destructor closes what was duplicated
        sockets->fds.push_back(copy);
      }
      sockets->bound = s->bound;
      break;
    }
  }
  if (sockets->fds.empty()) {
    ip::Address addr = l.address;
    for (size_t w = 0; w < worker_count_; ++w) {
      const int fd = net::listenSocket(addr, /*reuse_port=*/true, error);
      if (fd < 0) return nullptr;  // the destructor closes what was bound
      sockets->fds.push_back(fd);
      // Port 0: the kernel picked one for the first socket; the others share it.
      if (w == 0) {
        sockets->bound = net::localAddress(fd);
        addr = sockets->bound;
      }
    }
  }
  for (int fd : sockets->fds) {
    const int copy = duplicate(fd);
    if (copy < 0) return nullptr;
    sockets->held.push_back(copy);
  }
  return sockets;
}

std::shared_ptr<Snapshot> SnapshotBuilder::build(std::shared_ptr<const config::Config> cfg, const Snapshot* current,
                                                 std::string* error) {
  auto snap = std::make_shared<Snapshot>();
  snap->config = cfg;
  for (size_t i = 0; i < cfg->listeners.size(); ++i) {
    const auto& l = cfg->listeners[i];
    // The canonical form names the listener's route table but leaves its
    // routes out: a route-only change keeps the sockets and connections.
    std::string identity = config::toJson(l).dump();
    std::shared_ptr<ListenerSockets> sockets;
    if (current) {
      for (const auto& s : current->sockets)
        if (s->name == l.name && s->identity == identity) sockets = s;
    }
    if (!sockets) {
      std::string why;
      sockets = bindListener(l, std::move(identity), current, &why);
      if (!sockets) {
        // A listener read from a file has a position there; one that came
        // over xDS has none, and is named as its resource (the NACK's text).
        *error = l.loc.line > 0
                     ? cfg->source_file + ":" + std::to_string(l.loc.line) + ":" + std::to_string(l.loc.column) +
                           ": listeners[" + std::to_string(i) + "].address: " + why
                     : "Listener '" + l.name + "': address: " + why;
        return nullptr;
      }
    }
    snap->sockets.push_back(std::move(sockets));
    snap->listener_stats.push_back(&stats_.listener(l.name));
  }
  auto routes = std::make_shared<http::RouteTables>();
  routes->config = cfg;
  for (const auto& rc : cfg->route_configs) {
    // An unchanged table is kept, with the state its per-route filters hold
    // (rate-limit buckets); a changed one is built anew.
    std::shared_ptr<const http::RouteConfig> table;
    if (current && current->routes) {
      const auto* before = current->routes->config->findRouteConfig(rc.name);
      if (before && before->spec && before->spec->toJson() == rc.spec->toJson())
        if (auto it = current->routes->by_name.find(rc.name); it != current->routes->by_name.end()) table = it->second;
    }
    if (!table) table = http::RouteConfig::build(*rc.spec);
    for (const auto& vh : table->virtual_hosts)
      for (const auto& r : vh.routes) routes->stats[&r] = &stats_.route(rc.name, r.name);
    routes->by_name.emplace(rc.name, std::move(table));
  }
  snap->routes = std::move(routes);
  for (const auto& c : cfg->clusters) {
    upstream::ClusterStatsRefs refs;
    refs.cluster = &stats_.cluster(c.name);
    refs.shared = &clusterShared(c.name);
    for (const auto& ep : cfg->endpointsOf(c)) {
      refs.hosts.push_back(&stats_.host(c.name, ep.address.str()));
      refs.host_shared.push_back(&refs.shared->host(ep.address.str()));
    }
    snap->cluster_stats.emplace(c.name, std::move(refs));
  }
  if (!attachTls(*snap, current, error)) return nullptr;
  snap->version = next_version_++;
  return snap;
}

upstream::ClusterShared& SnapshotBuilder::clusterShared(const std::string& name) {
  auto& slot = cluster_shared_[name];
  if (!slot) slot = std::make_unique<upstream::ClusterShared>();
  return *slot;
}

}  // namespace sluice::server
