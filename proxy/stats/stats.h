#pragma once
// Per-worker statistics. Each worker owns one block per scope (listener,
// cluster, host) and is its only writer: an increment is a relaxed load and
// store, no lock and no locked instruction. Blocks are cache-line aligned and
// allocated separately, so workers never share a line. The admin thread sums
// the blocks of every worker when /metrics is scraped.
//
// Scopes are created by the main thread when a config is applied, before any
// worker sees that config, and live until exit: workers hold plain pointers.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace sluice::stats {

class Stat {
 public:
  void inc(int64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  void dec(int64_t n = 1) { inc(-n); }
  int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// Counts an HTTP status in the matching one of five per-class stats.
inline void countStatusClass(int status, Stat& c1xx, Stat& c2xx, Stat& c3xx, Stat& c4xx, Stat& c5xx) {
  Stat* classes[] = {&c1xx, &c2xx, &c3xx, &c4xx, &c5xx};
  const int c = status / 100;
  if (c >= 1 && c <= 5) classes[c - 1]->inc();
}

// Fixed-bucket latency histogram (milliseconds), single writer like Stat.
class Histogram {
 public:
  static constexpr double kBoundsMs[] = {0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000};
  static constexpr size_t kBuckets = sizeof(kBoundsMs) / sizeof(kBoundsMs[0]);
  void record(double ms) {
    size_t i = 0;
    while (i < kBuckets && ms > kBoundsMs[i]) ++i;
    counts_[i].inc();  // i == kBuckets: only +Inf
    sum_us_.inc(static_cast<int64_t>(ms * 1000));
  }
  // Non-cumulative count of bucket i (i == kBuckets is the overflow bucket).
  int64_t count(size_t i) const { return counts_[i].value(); }
  double sumMs() const { return static_cast<double>(sum_us_.value()) / 1000.0; }

 private:
  Stat counts_[kBuckets + 1];
  Stat sum_us_;
};

// Describes one field of a stats block, for rendering.
template <class Block>
struct StatField {
  const char* name;  // metric name after "sluice_<scope>_"; counters end in _total
  const char* help;
  bool gauge;
  Stat Block::*member;
};

struct alignas(64) ListenerStats {
  Stat downstream_cx_total;
  Stat downstream_cx_active;
  Stat downstream_cx_overflow;
  Stat downstream_cx_fd_overflow;
  Stat downstream_cx_idle_timeout;
  Stat downstream_cx_drain_closed;
  Stat downstream_rx_bytes;
  Stat downstream_tx_bytes;
  // HTTP listeners only.
  Stat downstream_rq_total;
  Stat downstream_rq_active;
  Stat downstream_rq_1xx;
  Stat downstream_rq_2xx;
  Stat downstream_rq_3xx;
  Stat downstream_rq_4xx;
  Stat downstream_rq_5xx;
  Stat downstream_rq_protocol_error;
  Stat downstream_rq_timeout;
  Stat downstream_rq_idle_timeout;
  Stat downstream_rq_max_duration_reached;
  Stat downstream_rq_path_normalized;
  Stat downstream_rq_path_rejected;
  Stat downstream_rq_path_redirected;
  Stat downstream_rq_overload_shed;
  Stat downstream_cx_overload_keepalive_disabled;
  Stat downstream_cx_http1;
  Stat downstream_cx_http2;
  // HTTP/2 defences (proxy/http/http2_codec.h) and stream resets.
  Stat downstream_h2_rapid_reset;
  Stat downstream_h2_flood;
  Stat downstream_h2_header_overflow;
  Stat downstream_h2_protocol_error;
  Stat downstream_h2_keepalive_timeout;
  Stat downstream_h2_rx_reset;
  Stat downstream_h2_tx_reset;
  static const std::vector<StatField<ListenerStats>>& fields();
};

struct alignas(64) ClusterStats {
  Stat upstream_cx_total;
  Stat upstream_cx_active;
  Stat upstream_cx_connect_fail;
  Stat upstream_cx_connect_timeout;
  Stat upstream_cx_connect_attempts_exceeded;
  Stat upstream_cx_none_healthy;
  Stat upstream_cx_original_dst_loop;
  Stat upstream_rq_original_dst_host_invalid;
  Stat upstream_rx_bytes;
  Stat upstream_tx_bytes;
  // HTTP.
  Stat upstream_rq_total;
  Stat upstream_rq_active;
  Stat upstream_rq_1xx;
  Stat upstream_rq_2xx;
  Stat upstream_rq_3xx;
  Stat upstream_rq_4xx;
  Stat upstream_rq_5xx;
  Stat upstream_rq_timeout;
  Stat upstream_rq_reset;
  Stat upstream_rq_protocol_error;
  Stat upstream_cx_reused;
  Stat upstream_rq_pending_overflow;
  // Circuit breakers (cluster-wide limits) that refused something.
  Stat upstream_cx_overflow;
  Stat upstream_rq_overflow;
  Stat upstream_rq_retry_overflow;
  Stat upstream_rq_retry;
  Stat upstream_rq_retry_success;
  Stat upstream_rq_retry_limit_exceeded;
  Stat upstream_rq_retry_backoff_ms;
  Stat upstream_rq_per_try_timeout;
  Histogram upstream_rq_time;
  static const std::vector<StatField<ClusterStats>>& fields();
};

// Per HTTP route (labelled listener + route name: bounded by the config).
struct alignas(64) RouteStats {
  Stat rq_total;
  Stat rq_1xx;
  Stat rq_2xx;
  Stat rq_3xx;
  Stat rq_4xx;
  Stat rq_5xx;
  // gRPC calls by grpc-status (0..16), rendered with a grpc_status label.
  static constexpr size_t kGrpcStatuses = 17;
  Stat grpc[kGrpcStatuses];
  static const std::vector<StatField<RouteStats>>& fields();
};

struct alignas(64) HostStats {
  Stat cx_total;
  Stat cx_active;
  Stat cx_connect_fail;
  Stat rq_total;
  Stat rq_active;  // least_request reads this worker's value
  Stat rq_error;   // 5xx responses and gateway failures (connect failure, reset, timeout)
  static const std::vector<StatField<HostStats>>& fields();
};

// One block per worker for one scope.
template <class Block>
class PerWorker {
 public:
  explicit PerWorker(size_t workers) {
    for (size_t i = 0; i < workers; ++i) blocks_.push_back(std::make_unique<Block>());
  }
  Block& worker(size_t i) { return *blocks_.at(i); }
  template <class F>
  void forEachBlock(F f) const {
    for (const auto& b : blocks_) f(*b);
  }
  int64_t sum(Stat Block::*member) const {
    int64_t total = 0;
    for (const auto& b : blocks_) total += ((*b).*member).value();
    return total;
  }

 private:
  std::vector<std::unique_ptr<Block>> blocks_;
};

// All scopes, keyed by name. Main thread only (the admin server runs there too).
class StatsStore {
 public:
  explicit StatsStore(size_t workers) : workers_(workers) {}
  size_t workers() const { return workers_; }

  PerWorker<ListenerStats>& listener(const std::string& name) { return get(listeners_, name); }
  PerWorker<ClusterStats>& cluster(const std::string& name) { return get(clusters_, name); }
  // Keyed "cluster/host:port".
  PerWorker<HostStats>& host(const std::string& cluster, const std::string& host) {
    return get(hosts_, cluster + "/" + host);
  }

  // Keyed "route_config/route".
  PerWorker<RouteStats>& route(const std::string& route_config, const std::string& route) {
    return get(routes_, route_config + "/" + route);
  }

  const auto& listeners() const { return listeners_; }
  const auto& routes() const { return routes_; }
  const auto& clusters() const { return clusters_; }
  const auto& hosts() const { return hosts_; }

 private:
  template <class Block>
  PerWorker<Block>& get(std::map<std::string, std::unique_ptr<PerWorker<Block>>>& m, const std::string& name) {
    auto& slot = m[name];
    if (!slot) slot = std::make_unique<PerWorker<Block>>(workers_);
    return *slot;
  }

  size_t workers_;
  std::map<std::string, std::unique_ptr<PerWorker<ListenerStats>>> listeners_;
  std::map<std::string, std::unique_ptr<PerWorker<ClusterStats>>> clusters_;
  std::map<std::string, std::unique_ptr<PerWorker<HostStats>>> hosts_;
  std::map<std::string, std::unique_ptr<PerWorker<RouteStats>>> routes_;
};

}  // namespace sluice::stats
