#include "proxy/util/hash.h"

namespace sluice::util {

uint64_t mix64(uint64_t x) {
  // splitmix64's finalizer constants.
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t hash64(std::string_view s) {
  // FNV-1a alone mixes the last bytes poorly ("host_1" vs "host_2" differ in
  // a few low bits), and ring points and table slots need well spread values,
  // so the FNV state goes through the finalizer.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return mix64(h);
}

}  // namespace sluice::util
