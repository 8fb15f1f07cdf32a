#pragma once
// OriginalDstHosts: one worker's hosts of one original_dst cluster, made as
// requests name destinations, each with the pools that reach it, so a
// keep-alive connection to an original destination serves the next request
// to it as for any host.
//
// - Any address a client was going to can become a host: they are not
//   bounded by config, so each host's stats block is its own and not
//   exported (the cluster's stats count their traffic).
// - A host no request picked during one cleanup interval, and that no
//   request is using (its rq_active), is removed with its pools, closing
//   their idle connections; a timer on the worker's loop sweeps once per
//   interval while any host is left.
// - Worker thread only. Every worker keeps its own hosts and pools, as for
//   any cluster: nothing here is shared, nothing locks.

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <unordered_map>

#include "config/model.h"
#include "ip/address.h"
#include "proxy/event/timer.h"
#include "proxy/upstream/conn_pool.h"
#include "proxy/upstream/host.h"

namespace sluice::upstream {

class OriginalDstHosts {
 public:
  struct Entry {
    Host host;  // host.stats points at `stats`
    stats::HostStats stats;
    std::array<std::unique_ptr<HttpConnPool>, kProtocolCount> pools;
    uint64_t generation = 0;  // of the settings its pools were made or updated with
    bool used = true;         // picked since the last sweep
  };

  explicit OriginalDstHosts(event::TimerQueue& timers);
  ~OriginalDstHosts();

  // The host for `address`, made on first use, marked used. The sweep runs
  // every `cleanup_interval` (the value given last) while hosts are left.
  Entry& pick(const ip::Address& address, config::Duration cleanup_interval);
  // Removes the hosts unused since the last sweep and idle now, and re-arms
  // while any are left. The timer runs it; tests call it directly.
  void sweep();
  size_t size() const { return hosts_.size(); }
  bool sweepArmed() const { return timer_.enabled(); }

 private:
  // The socket address as bytes: equal addresses, equal keys, no allocation.
  struct Key {
    std::array<uint8_t, 19> bytes{};  // family, port (2), address (16)
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  static Key keyOf(const ip::Address& address);

  std::unordered_map<Key, std::unique_ptr<Entry>, KeyHash> hosts_;
  event::Timer timer_;
  config::Duration interval_{std::chrono::seconds(5)};
};

}  // namespace sluice::upstream
