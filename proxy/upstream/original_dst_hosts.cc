#include "proxy/upstream/original_dst_hosts.h"

#include <netinet/in.h>

#include <string_view>

namespace sluice::upstream {

OriginalDstHosts::OriginalDstHosts(event::TimerQueue& timers) : timer_(timers, [this] { sweep(); }) {}

OriginalDstHosts::~OriginalDstHosts() = default;

size_t OriginalDstHosts::KeyHash::operator()(const Key& k) const {
  return std::hash<std::string_view>()(std::string_view(reinterpret_cast<const char*>(k.bytes.data()), k.bytes.size()));
}

OriginalDstHosts::Key OriginalDstHosts::keyOf(const ip::Address& address) {
  Key k;
  k.bytes[0] = static_cast<uint8_t>(address.family());
  const sockaddr* sa = address.sockAddr();
  if (address.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    std::memcpy(&k.bytes[1], &in->sin_port, 2);
    std::memcpy(&k.bytes[3], &in->sin_addr, 4);
  } else if (address.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    std::memcpy(&k.bytes[1], &in6->sin6_port, 2);
    std::memcpy(&k.bytes[3], &in6->sin6_addr, 16);
  }
  return k;
}

OriginalDstHosts::Entry& OriginalDstHosts::pick(const ip::Address& address, config::Duration cleanup_interval) {
  interval_ = cleanup_interval;
  if (!timer_.enabled()) timer_.enable(interval_);
  auto [it, made] = hosts_.try_emplace(keyOf(address));
  if (made) {
    it->second = std::make_unique<Entry>();
    Entry& e = *it->second;
    e.host.address = address;
    e.host.name = address.str();
    e.host.stats = &e.stats;
  }
  it->second->used = true;
  return *it->second;
}

void OriginalDstHosts::sweep() {
  for (auto it = hosts_.begin(); it != hosts_.end();) {
    Entry& e = *it->second;
    // A request waiting for or holding one of its pools' streams counts in
    // rq_active until it ends, so no pool goes away under a caller.
    if (!e.used && e.stats.rq_active.value() == 0) {
      it = hosts_.erase(it);
      continue;
    }
    e.used = false;
    ++it;
  }
  if (!hosts_.empty()) timer_.enable(interval_);
}

}  // namespace sluice::upstream
