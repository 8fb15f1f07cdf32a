#include "proxy/util/random.h"

#include <random>

namespace sluice::util {

namespace {

std::mt19937_64& engine() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

class ThreadRandomSource final : public RandomSource {
 public:
  uint64_t next() override { return engine()(); }
};

}  // namespace

uint64_t threadRandom() { return engine()(); }

RandomSource& threadRandomSource() {
  thread_local ThreadRandomSource source;
  return source;
}

}  // namespace sluice::util
