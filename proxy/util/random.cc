#include "proxy/util/random.h"

#include <sys/random.h>

#include <chrono>

namespace sluice::util {

namespace {

// SplitMix64: a 64-bit counter through a strong mixer. One add and two
// multiplies per draw from 8 bytes of state, where std::mt19937_64 kept
// 2.5 KB per thread and regenerated it every 312 draws; a request draws two
// for its x-request-id. Good enough for balancing, jitter and ids, which is
// all random.h promises.
struct Engine {
  uint64_t state = 0;
  bool seeded = false;

  uint64_t next() {
    if (!seeded) seed();
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // From the OS; the clock only where getrandom() is unavailable.
  void seed() {
    if (getrandom(&state, sizeof state, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof state))
      state = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
              reinterpret_cast<uintptr_t>(&state);
    seeded = true;
  }
};

// Trivially constructible: no thread_local guard on the per-request path.
thread_local Engine engine;

class ThreadRandomSource final : public RandomSource {
 public:
  uint64_t next() override { return engine.next(); }
};

}  // namespace

uint64_t threadRandom() { return engine.next(); }

RandomSource& threadRandomSource() {
  thread_local ThreadRandomSource source;
  return source;
}

}  // namespace sluice::util
