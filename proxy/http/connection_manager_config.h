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

#include "config/http_connection.h"
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

struct ConnectionManagerConfig : config::HttpConnectionSettings {
  CodecLimits limits;  // from the settings' max_* fields
  // In order; the router is always last.
  std::vector<HttpFilterEntry> http_filters;
  std::vector<AccessLogConfig> access_logs;
};

}  // namespace sluice::http
