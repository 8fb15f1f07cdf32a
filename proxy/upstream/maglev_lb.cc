#include "proxy/upstream/maglev_lb.h"

#include <algorithm>
#include <limits>
#include <string>
#include <tuple>

#include "proxy/util/hash.h"

namespace sluice::upstream {

namespace {

constexpr uint32_t kEmpty = std::numeric_limits<uint32_t>::max();
// Rehashes before scanning: each lands on another host with probability about
// (unskipped share), so a few suffice while most members are usable.
constexpr uint64_t kRehashes = 8;

bool isPrime(uint64_t n) {
  if (n < 2) return false;
  for (uint64_t d = 2; d * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

uint64_t nextPrime(uint64_t n) {
  while (!isPrime(n)) ++n;
  return n;
}

}  // namespace

MaglevLb::MaglevLb(util::RandomSource& random, uint64_t table_size)
    : random_(random), size_(nextPrime(std::max<uint64_t>(table_size, 2))) {}

void MaglevLb::refresh(std::span<const Host> hosts, std::span<const uint32_t> members) {
  hosts_ = hosts;
  members_.assign(members.begin(), members.end());
  table_.clear();
  if (members.empty()) return;

  struct Fill {
    uint32_t host;
    uint64_t next;  // next slot of this host's permutation to try
    uint64_t skip;
    uint64_t credit = 0;
  };
  std::vector<Fill> fill;
  uint32_t max_weight = 0;
  for (uint32_t m : members) {
    const std::string& name = hosts[m].name;
    fill.push_back({m, util::hash64(name) % size_, util::hash64(name + "#") % (size_ - 1) + 1});
    max_weight = std::max(max_weight, hosts[m].weight);
  }
  // Turn order decides contested slots; ordering by name makes the table a
  // function of the host set alone, whatever order the config lists it in.
  std::sort(fill.begin(), fill.end(), [&](const Fill& a, const Fill& b) {
    return std::tie(hosts[a.host].name, a.host) < std::tie(hosts[b.host].name, b.host);
  });

  // Weighted turns: each round a host earns its weight in credit and takes a
  // turn per max_weight earned, so the heaviest host fills a slot every round
  // and a host of half that weight every other round. Integer credit keeps
  // the build exact and identical on every worker.
  table_.assign(size_, kEmpty);
  uint64_t filled = 0;
  while (filled < size_) {
    for (size_t i = 0; i < fill.size() && filled < size_; ++i) {
      Fill& f = fill[i];
      f.credit += hosts[f.host].weight;
      if (f.credit < max_weight) continue;
      f.credit -= max_weight;
      while (table_[f.next] != kEmpty) f.next = (f.next + f.skip) % size_;
      table_[f.next] = f.host;
      f.next = (f.next + f.skip) % size_;
      ++filled;
    }
  }
}

std::optional<size_t> MaglevLb::choose(const LbContext* ctx) {
  if (table_.empty()) return std::nullopt;
  std::optional<uint64_t> key = ctx ? ctx->hashKey() : std::nullopt;
  const uint64_t k = key ? *key : random_.next();
  const uint32_t first = table_[k % size_];
  if (!ctx || !ctx->shouldSkip(hosts_[first])) return first;

  for (uint64_t attempt = 1; attempt <= kRehashes; ++attempt) {
    const uint32_t h = table_[util::mix64(k + attempt) % size_];
    if (!ctx->shouldSkip(hosts_[h])) return h;
  }
  // Starting the scan at a key-derived member keeps the fallback consistent
  // for one key without piling every key onto the same member.
  const size_t start = k % members_.size();
  for (size_t i = 0; i < members_.size(); ++i) {
    const uint32_t h = members_[(start + i) % members_.size()];
    if (!ctx->shouldSkip(hosts_[h])) return h;
  }
  return first;
}

}  // namespace sluice::upstream
