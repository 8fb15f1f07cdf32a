#pragma once
// The client side of `sluice-control status`: one GET of a running
// daemon's admin endpoint, bounded in time.

#include <chrono>
#include <string>

namespace sluice::control {

struct AdminReply {
  int status = 0;      // HTTP status; 0 when there was no answer
  std::string body;
  std::string error;   // why there was no answer ("Connection refused", "timed out")
};

// GET http://ADDRESS/PATH (ADDRESS numeric host:port), all of it within `timeout`.
AdminReply adminGet(const std::string& address, const std::string& path,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace sluice::control
