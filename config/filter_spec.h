#pragma once
// Filter settings as plain data, and how they are read.
//
// Every filter folder (filters/network/NAME/, filters/http/NAME/) has a
// config.{h,cc} that belongs to the config library: a `Spec` deriving from
// FilterSpec (values only: no atomics, counters, compiled regexes or
// sockets), the reader that fills it from YAML and the checks that need the
// whole config. The rest of the folder belongs to the proxy: its factory
// turns a Spec into the runtime object (buckets, counters, RE2) when a
// snapshot is built, and makes filters from that.
//
// Readers are found by name once, when a config is read; the registry is
// filters/readers.cc, one line per filter.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::config {

class MapReader;
class ParseContext;
struct Config;

class FilterSpec {
 public:
  virtual ~FilterSpec() = default;
  // Canonical form: /config_dump, and how a reload tells a changed listener.
  virtual nlohmann::json toJson() const = 0;
  // For a terminal network filter: the ALPN protocols, in preference order,
  // a TLS chain ending in it offers when its `tls` block names none (the
  // `http` filter: by codec). Empty: the TLS default (http/1.1).
  virtual std::vector<std::string> applicationProtocols() const { return {}; }
};

class NetworkFilterReader {
 public:
  virtual ~NetworkFilterReader() = default;
  // The filter's key inside a listener ("tcp_proxy").
  virtual std::string_view name() const = 0;
  // A terminal filter ends the chain (tcp_proxy, http); a chain has exactly one.
  virtual bool terminal() const = 0;
  // Reads the filter's mapping; errors go to r.ctx(). Calls r.finish().
  // Null only when the node is unusable.
  virtual std::shared_ptr<const FilterSpec> read(MapReader& r) const = 0;
  // Checks against the whole config (e.g. the cluster exists); `path` is the filter's.
  virtual void validate(const FilterSpec& spec, const Config& whole, std::string_view path,
                        ParseContext& ctx) const {}
};

class HttpFilterReader {
 public:
  virtual ~HttpFilterReader() = default;
  // The filter's key in `http_filters` and in `per_filter_config`.
  virtual std::string_view name() const = 0;
  virtual std::shared_ptr<const FilterSpec> read(MapReader& r) const = 0;
  // A route's or virtual host's `per_filter_config.NAME`: the listener-level
  // schema unless a filter says otherwise.
  virtual std::shared_ptr<const FilterSpec> readPerRoute(MapReader& r) const { return read(r); }
  virtual void validate(const FilterSpec& spec, const Config& whole, std::string_view path,
                        ParseContext& ctx) const {}
};

// The built-in readers (filters/readers.cc). Null when unknown.
const NetworkFilterReader* findNetworkFilterReader(std::string_view name);
const HttpFilterReader* findHttpFilterReader(std::string_view name);

}  // namespace sluice::config
