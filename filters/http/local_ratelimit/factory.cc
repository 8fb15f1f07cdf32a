#include "config/yaml_reader.h"
#include "filters/http/local_ratelimit/config.h"
#include "filters/http/local_ratelimit/local_ratelimit.h"
#include "proxy/util/thread_pool_alloc.h"

namespace sluice::filters::local_ratelimit {
namespace {

// allocate_shared through the per-thread free lists: the filter and its
// shared_ptr control block are one block, recycled on the worker, so a
// rate-limited listener costs no malloc per request.
template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(util::ThreadPoolAlloc<T>::allocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { util::ThreadPoolAlloc<T>::release(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const {
    return true;
  }
};

class Factory final : public sluice::http::HttpFilterFactory {
 public:
  std::string_view name() const override { return kFilterName; }

  std::shared_ptr<const sluice::http::HttpFilterConfig> parse(config::MapReader& r) const override {
    // Parsed on the main thread while a config is loaded; epochs count from here.
    return parseConfig(r, std::chrono::steady_clock::now());
  }

  void createFilters(const sluice::http::HttpFilterConfig& cfg, sluice::http::FilterChainBuilder& chain) const override {
    chain.addStreamFilter(std::allocate_shared<LocalRateLimitFilter>(PoolAllocator<LocalRateLimitFilter>(),
                                                                     static_cast<const LocalRateLimitConfig&>(cfg)));
  }
};

}  // namespace

const sluice::http::HttpFilterFactory& factory() {
  static const Factory f;
  return f;
}

}  // namespace sluice::filters::local_ratelimit
