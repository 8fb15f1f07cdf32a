#pragma once
// One resource (in one namespace, or in all) kept in ClusterState by list
// and watch, as client-go's reflector does:
//
//   list   GET <collection>?limit=N, then &continue=<token> until the last
//          page; the items replace the resource's objects at once, and the
//          List's metadata.resourceVersion is where the watch starts.
//   watch  GET <collection>?watch=1&allowWatchBookmarks=true
//          &resourceVersion=<rv>&timeoutSeconds=T: each event applies to the
//          state and moves rv on (a BOOKMARK moves rv only). When the server
//          ends the watch (timeoutSeconds) or it drops, watch again from rv.
//   410    Gone (an HTTP 410, or an ERROR event whose Status has code 410;
//          also a list's continue token expiring): rv is too old; list again.
//   errors any other failure: log it, count it, wait (Backoff) and retry
//          what failed; the state keeps what it had.
//
// run() is the body of one thread; stop() (any thread) ends it promptly.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "control/kubernetes/api_access.h"
#include "control/kubernetes/backoff.h"
#include "control/kubernetes/cluster_state.h"
#include "control/kubernetes/discovery_metrics.h"
#include "control/kubernetes/request_canceller.h"

namespace sluice::control::kubernetes {

struct ResourceType {
  std::string name;    // "services", the metrics' label and the state's key
  std::string prefix;  // "/api/v1", "/apis/discovery.k8s.io/v1"
  bool namespaced = true;
};

// Services, EndpointSlices, Pods, Namespaces, ServiceAccounts.
const std::vector<ResourceType>& discoveredResources();
// "/api/v1/services", "/api/v1/namespaces/prod/services".
std::string collectionPath(const ResourceType& type, const std::string& ns);

// The events of one watch response applied to the state: what the watch
// loop does with each line, apart from the sockets.
class WatchStream {
 public:
  enum class Outcome { Continue, Relist, Failed };
  WatchStream(ClusterState& state, std::string resource, std::string resource_version)
      : state_(state), resource_(std::move(resource)), rv_(std::move(resource_version)) {}

  Outcome onLine(std::string_view line);
  const std::string& resourceVersion() const { return rv_; }
  const std::string& error() const { return error_; }
  size_t events() const { return events_; }

 private:
  ClusterState& state_;
  std::string resource_;
  std::string rv_;
  std::string error_;
  size_t events_ = 0;
};

class ResourceWatch {
 public:
  struct Options {
    std::string ns;  // empty: every namespace
    uint32_t page_size = 500;
    std::chrono::milliseconds watch_timeout{std::chrono::minutes(5)};
    std::chrono::milliseconds backoff_initial{500}, backoff_max{30000};
  };
  // Resolves how to reach the server for each request (a rotated token or a
  // kubeconfig edited meanwhile is picked up); nullopt with the error.
  using AccessFn = std::function<std::optional<ApiAccess>(std::string& error)>;

  ResourceWatch(ResourceType type, Options options, ClusterState& state, DiscoveryMetrics& metrics, AccessFn access);

  void run();
  void stop();
  // The first list has completed (any thread).
  bool listed() const { return listed_.load(); }
  // The supervising thread's check for a silent connection.
  void expire(RequestCanceller::Clock::time_point now) { canceller_.expire(now); }

 private:
  enum class Step { Watch, Relist, Retry };
  Step list();
  Step watch();
  void fail(const std::string& what);
  void wait(std::chrono::milliseconds d);
  bool stopping();

  const ResourceType type_;
  const Options options_;
  ClusterState& state_;
  ResourceMetrics metrics_;
  AccessFn access_;
  Backoff backoff_;
  RequestCanceller canceller_;
  std::string label_;  // "services", "services in prod", for logs
  std::string rv_;     // where the next watch starts; empty: list first

  std::atomic<bool> listed_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace sluice::control::kubernetes
