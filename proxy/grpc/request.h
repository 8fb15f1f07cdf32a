#pragma once
// What a gRPC client sends (PROTOCOL-HTTP2, "Requests"): the header block
// of a call and its length-prefixed messages.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proxy/http/header_map.h"
#include "proxy/net/buffer.h"

namespace sluice::grpc {

struct RequestHead {
  std::string scheme = "http";  // "https" over TLS
  std::string authority;        // host:port as dialed
  std::string path;             // "/package.Service/Method"
  // Custom metadata ("authorization", "Bearer ..."): lower-case ASCII
  // names, not "grpc-" ones.
  std::vector<std::pair<std::string, std::string>> metadata;
  // Sent as grpc-timeout (whole seconds when exact, else milliseconds);
  // zero sends none.
  std::chrono::milliseconds timeout{0};
};

// :method POST, :scheme, :path, :authority, content-type application/grpc,
// te: trailers, user-agent, grpc-timeout, then the metadata.
http::HeaderMap requestHeaders(const RequestHead& head);

// Appends `message` to `out` behind its prefix (not compressed).
void frameMessage(std::string_view message, net::Buffer& out);

}  // namespace sluice::grpc
