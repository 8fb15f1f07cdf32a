#include "proxy/stats/named_counters.h"

#include <map>
#include <mutex>

namespace sluice::stats {
namespace {

thread_local size_t t_slot = NamedCounter::kSlots - 1;

struct Entry {
  std::string help;
  bool gauge;
  std::shared_ptr<NamedCounter> counter;
};

struct Registry {
  std::mutex mu;  // config time and scrapes only; never on the request path
  std::map<std::pair<std::string, Labels>, Entry> entries;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: workers may still count at exit
  return *r;
}

}  // namespace

void setThreadSlot(size_t worker_index) {
  t_slot = worker_index < NamedCounter::kSlots - 1 ? worker_index : NamedCounter::kSlots - 1;
}

void NamedCounter::inc(int64_t n) {
  auto& v = slots_[t_slot].v;
  if (t_slot == kSlots - 1) {
    v.fetch_add(n, std::memory_order_relaxed);  // the shared slot
  } else {
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
}

int64_t NamedCounter::value() const {
  int64_t total = 0;
  for (const auto& s : slots_) total += s.v.load(std::memory_order_relaxed);
  return total;
}

std::shared_ptr<NamedCounter> namedCounter(const std::string& name, const std::string& help, Labels labels,
                                           bool gauge) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  auto& e = r.entries[{name, std::move(labels)}];
  if (!e.counter) e = {help, gauge, std::make_shared<NamedCounter>()};
  return e.counter;
}

void forEachNamedCounter(const std::function<void(const NamedCounterView&)>& f) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  for (const auto& [key, e] : r.entries) f({key.first, e.help, key.second, e.gauge, e.counter->value()});
}

}  // namespace sluice::stats
