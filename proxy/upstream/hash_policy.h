#pragma once
// A request's hash key for ring_hash and maglev, from the cluster's
// hash_policy list. Called by the router once per request on the worker
// thread, before the pick; reads the request headers, allocates nothing.

#include <cstdint>
#include <optional>
#include <span>

#include "config/model.h"
#include "proxy/http/header_map.h"
#include "ip/address.h"

namespace sluice::upstream {

// hash64 of the first value a policy yields, in list order:
//   Header         - the first field named `name`;
//   Cookie         - cookie `name` from the `cookie` field(s) ("a=1; b=2");
//   QueryParameter - parameter `name` of the :path query (exact name, raw
//                    value, no percent-decoding; "?name" yields "");
//   SourceIp       - the IP of `source`, without the port (skipped when null).
// nullopt when no policy yields, which makes the pick random.
std::optional<uint64_t> hashRequest(std::span<const config::HashPolicyConfig> policies,
                                    const http::HeaderMap& headers, const ip::Address* source);

}  // namespace sluice::upstream
