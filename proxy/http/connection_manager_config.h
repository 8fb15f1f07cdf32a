#pragma once
// What a ConnectionManager needs to run one listener's HTTP connections:
// codec limits, timeouts, the HTTP filter list and access logs. Built from
// the `http` network filter's Spec when a snapshot is built (its HttpConfig
// extends this, filters/network/http/filter.h), then immutable and shared
// by every connection of the listener, on every worker. Codec-neutral:
// HTTP/1 and HTTP/2 connections read the same fields.

#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "proxy/http/access_log.h"
#include "proxy/http/codec.h"
#include "proxy/http/filter.h"
#include "proxy/http/request_metadata.h"

namespace sluice::http {

struct HttpFilterEntry {
  std::string name;
  // Resolved when built: streams never look a filter up by name.
  const HttpFilterFactory* factory = nullptr;
  std::shared_ptr<const HttpFilterConfig> config;
};

struct AccessLogConfig {
  std::string path;    // a file, or "/dev/stdout"
  std::string format;  // "json" (default) or a format string with %FIELD% tokens
  std::shared_ptr<const AccessLogFormatter> formatter;  // compiled when built
};

struct ConnectionManagerConfig {
  CodecLimits limits;
  // The first request's headers (and each later one's, on keep-alive) must
  // arrive within this; else 408. 0 = no limit.
  config::Duration request_headers_timeout{std::chrono::seconds(10)};
  // A stream with no bytes either way for this long is ended (408 before a
  // response started, reset after). 0 = no limit.
  config::Duration stream_idle_timeout{std::chrono::minutes(5)};
  // A stream still open this long after its request began is ended (408
  // before a response started, reset after), however active it is. 0 = no limit.
  config::Duration max_stream_duration{0};
  // Keep-alive connections with no request in flight close after this.
  config::Duration idle_timeout{std::chrono::hours(1)};
  // Request bodies buffered by a stopped filter may not exceed this (413).
  uint32_t buffer_limit_bytes = 1024 * 1024;
  // Trust this many proxies in front of us when picking the client address
  // out of x-forwarded-for (0: the peer address is the client).
  uint32_t xff_num_trusted_hops = 0;
  bool generate_request_id = true;
  // x-forwarded-client-cert toward the upstream (request_metadata.h): the
  // default drops what the client sent; forward_only and append_forward
  // keep it, so use them only behind a trusted downstream proxy.
  ForwardClientCert forward_client_cert_details = ForwardClientCert::Sanitize;
  // The route table, looked up by name in the worker's current snapshot
  // when a stream starts (a route-only reload reaches live connections).
  std::string route_config_name;
  // In order; the router is always last.
  std::vector<HttpFilterEntry> http_filters;
  std::vector<AccessLogConfig> access_logs;
};

}  // namespace sluice::http
