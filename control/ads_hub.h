#pragma once
// The meeting point of publish() and the streams: the current snapshot of
// every group, the streams following each group, and the streams whose node
// matched no group yet. Any thread.
//
// Locking: the hub's mutex is taken before a stream's (adopt() and status()
// run under it), and no gRPC call is made under either: a gRPC reaction may
// run inline inside StartWrite or Finish, and OnDone comes back here through
// leave(). publish() therefore queues under the locks and flushes after
// releasing them, holding a reference on each stream meanwhile.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "control/ads_server.h"
#include "control/ads_served_snapshot.h"

namespace sluice::control {

class AdsMetrics;

// What the hub sees of a stream (control/ads_stream.h implements it).
class AdsStreamHandle {
 public:
  virtual ~AdsStreamHandle() = default;
  // Under the hub's lock: follow `served` from now on and queue the
  // responses its changes call for; no gRPC call. `published` is the
  // publish() time (latency metric), default for a join.
  virtual void adopt(std::shared_ptr<const ServedSnapshot> served,
                     std::chrono::steady_clock::time_point published) = 0;
  // Outside every lock: start writing what adopt() queued.
  virtual void flush() = 0;
  // Outside every lock: end the stream (server shutting down).
  virtual void close() = 0;
  // Under the hub's lock.
  virtual ProxyStatus status() const = 0;

  void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  // The last reference deletes the stream.
  void unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  // gRPC's reference, dropped at OnDone, plus one per publish() in flight.
  std::atomic<int> refs_{1};
};

class AdsHub {
 public:
  AdsHub(GroupMatcher match, AdsMetrics& metrics) : match_(std::move(match)), metrics_(metrics) {}

  AdsMetrics& metrics() { return metrics_; }

  // A new stream (before its first request) and its end (at OnDone).
  void add(AdsStreamHandle* stream);
  void leave(AdsStreamHandle* stream);
  // The stream's first request named `node`: it joins the node's group and
  // adopts the group's snapshot if there is one (the caller flushes), or
  // waits among the unmatched until a publish() whose group matches it.
  void join(AdsStreamHandle* stream, const envoy::config::core::v3::Node& node);

  void publish(std::shared_ptr<const GroupSnapshot> snapshot);
  // Matches every joined stream again (AdsServer::rematch).
  void rematch();
  std::vector<ProxyStatus> status() const;

  // Ends every stream and waits (up to `timeout`) until each is gone.
  // True when none is left.
  bool closeAll(std::chrono::milliseconds timeout);

 private:
  GroupMatcher match_;
  AdsMetrics& metrics_;

  mutable std::mutex mu_;
  std::condition_variable gone_;
  std::set<AdsStreamHandle*> all_;
  std::map<std::string, std::shared_ptr<const ServedSnapshot>, std::less<>> snapshots_;
  std::map<std::string, std::set<AdsStreamHandle*>, std::less<>> groups_;
  // Every joined stream's node; the unmatched ones; the others' group.
  std::map<AdsStreamHandle*, envoy::config::core::v3::Node> nodes_;
  std::set<AdsStreamHandle*> unmatched_;
  std::map<AdsStreamHandle*, std::string> group_of_;
};

}  // namespace sluice::control
