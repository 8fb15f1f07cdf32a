#pragma once
// The settings of one listener's HTTP connections, as plain values: read
// into the `http` filter's Spec (filters/network/http/config.h) and carried
// unchanged into the connection manager's runtime config
// (proxy/http/connection_manager_config.h), which adds what is built.

#include <chrono>
#include <cstdint>
#include <string>

#include "config/forward_client_cert.h"
#include "config/http2_settings.h"
#include "config/model.h"
#include "config/path_normalization.h"

namespace sluice::config {

struct HttpConnectionSettings : PathNormalizationSettings {
  HttpCodec codec = HttpCodec::Auto;
  Http2Settings http2;
  // A request line + headers over this -> 431 (414 if the URI alone is over max_uri_bytes).
  uint32_t max_request_headers_bytes = 60 * 1024;
  uint32_t max_uri_bytes = 8 * 1024;
  uint32_t max_headers_count = 100;  // more -> 431
  uint32_t max_request_body_mib = 0;  // 0 = unlimited; over -> 413
  // The first request's headers (and each later one's, on keep-alive) must
  // arrive within this; else 408. 0 = no limit.
  Duration request_headers_timeout{std::chrono::seconds(10)};
  // A stream with no bytes either way for this long is ended (408 before a
  // response started, reset after). 0 = no limit.
  Duration stream_idle_timeout{std::chrono::minutes(5)};
  // A stream still open this long after its request began is ended (408
  // before a response started, reset after), however active it is. 0 = no limit.
  Duration max_stream_duration{0};
  // Keep-alive connections with no request in flight close after this.
  Duration idle_timeout{std::chrono::hours(1)};
  // Request bodies buffered by a stopped filter may not exceed this (413).
  uint32_t buffer_limit_bytes = 1024 * 1024;
  // Trust this many proxies in front of us when picking the client address
  // out of x-forwarded-for (0: the peer address is the client).
  uint32_t xff_num_trusted_hops = 0;
  bool generate_request_id = true;
  // x-forwarded-client-cert toward the upstream (proxy/http/request_metadata.h):
  // the default drops what the client sent; forward_only and append_forward
  // keep it, so use them only behind a trusted downstream proxy.
  ForwardClientCert forward_client_cert_details = ForwardClientCert::Sanitize;
  // When set, the request a normalized path changed carries the path as
  // received in this field to the upstream (for debugging; Envoy's
  // x-envoy-original-path). The client's own field of that name is always
  // removed, so an upstream never reads a value the client wrote. Empty: off.
  std::string original_path_header;
  // The route table, looked up by name in the worker's current snapshot
  // when a stream starts (a route-only reload reaches live connections).
  std::string route_config_name;
};

}  // namespace sluice::config
