#include "proxy/util/random.h"

#include <random>

namespace sluice::util {

uint64_t threadRandom() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

}  // namespace sluice::util
