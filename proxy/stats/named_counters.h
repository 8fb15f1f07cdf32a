#pragma once
// Named counters: stats that filters declare at config time, beside the fixed
// scopes of stats.h (listener, cluster, host, route). A filter asks for a
// counter by metric name and labels when its runtime config is built (main
// thread) and keeps the shared handle; every later increment is lock-free.
//
// Each counter holds one cache-line slot per worker. A thread writes only its
// own slot (set once by setThreadSlot when a worker starts), so an increment
// is a relaxed load and store like stats::Stat, with no locked instruction.
// Threads without a slot (main, tests) and workers beyond the slot count
// share the last slot, which is updated with fetch_add.
//
// A counter lives until exit once created, like the StatsStore scopes, so a
// reload that keeps a filter's name and labels keeps counting in the same
// series. The admin thread renders them all at scrape.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sluice::stats {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Called by each worker thread once, before it runs: worker i writes slot i.
void setThreadSlot(size_t worker_index);

class NamedCounter {
 public:
  static constexpr size_t kSlots = 64;
  void inc(int64_t n = 1);
  void dec(int64_t n = 1) { inc(-n); }
  int64_t value() const;  // sum over slots; any thread

 private:
  struct alignas(64) Slot {
    std::atomic<int64_t> v{0};
  };
  Slot slots_[kSlots];
};

// The counter named `name` (`sluice_..._total` for counters) with these labels;
// the same object for the same name and labels. `gauge` selects the
// Prometheus type; a gauge may go down. Thread-safe, but meant for config time.
std::shared_ptr<NamedCounter> namedCounter(const std::string& name, const std::string& help, Labels labels,
                                           bool gauge = false);

struct NamedCounterView {
  const std::string& name;
  const std::string& help;
  const Labels& labels;
  bool gauge;
  int64_t value;
};
// Every counter created so far, grouped by name (sorted), for /metrics.
void forEachNamedCounter(const std::function<void(const NamedCounterView&)>& f);

}  // namespace sluice::stats
