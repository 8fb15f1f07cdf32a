#pragma once
// Transitional, removed when every filter has its plain Spec: adapts a
// filter whose factory still reads YAML straight into its runtime config to
// the split interfaces (config::*FilterReader for reading, the proxy's
// factories for building), so filters can move over one at a time.

#include <memory>
#include <string_view>

#include "config/filter_spec.h"
#include "config/yaml_reader.h"
#include "proxy/http/filter.h"
#include "proxy/net/filter.h"

namespace sluice::filters::legacy {

class NetworkFactory {
 public:
  virtual ~NetworkFactory() = default;
  virtual std::string_view name() const = 0;
  virtual bool terminal() const = 0;
  virtual std::shared_ptr<const net::NetworkFilterConfig> parse(config::MapReader& r) const = 0;
  virtual void validate(const net::NetworkFilterConfig&, const config::Config&, std::string_view,
                        config::ParseContext&) const {}
  virtual std::unique_ptr<net::NetworkFilter> create(const net::NetworkFilterConfig& cfg,
                                                     net::FilterContext& ctx) const = 0;
};

class HttpFactory {
 public:
  virtual ~HttpFactory() = default;
  virtual std::string_view name() const = 0;
  virtual std::shared_ptr<const http::HttpFilterConfig> parse(config::MapReader& r) const = 0;
  virtual std::shared_ptr<const http::HttpFilterConfig> parsePerRoute(config::MapReader& r) const { return parse(r); }
  virtual void validate(const http::HttpFilterConfig&, const config::Config&, std::string_view,
                        config::ParseContext&) const {}
  virtual void createFilters(const http::HttpFilterConfig& cfg, http::FilterChainBuilder& chain) const = 0;
};

template <class Runtime>
struct Spec final : config::FilterSpec {
  std::shared_ptr<const Runtime> runtime;
  nlohmann::json toJson() const override { return runtime->toJson(); }
};

template <class Runtime>
std::shared_ptr<const config::FilterSpec> wrap(std::shared_ptr<const Runtime> runtime) {
  if (!runtime) return nullptr;
  auto s = std::make_shared<Spec<Runtime>>();
  s->runtime = std::move(runtime);
  return s;
}
template <class Runtime>
const Runtime& unwrap(const config::FilterSpec& spec) {
  return *static_cast<const Spec<Runtime>&>(spec).runtime;
}

class NetworkReader final : public config::NetworkFilterReader {
 public:
  explicit NetworkReader(const NetworkFactory& f) : f_(f) {}
  std::string_view name() const override { return f_.name(); }
  bool terminal() const override { return f_.terminal(); }
  std::shared_ptr<const config::FilterSpec> read(config::MapReader& r) const override { return wrap(f_.parse(r)); }
  void validate(const config::FilterSpec& spec, const config::Config& whole, std::string_view path,
                config::ParseContext& ctx) const override {
    f_.validate(unwrap<net::NetworkFilterConfig>(spec), whole, path, ctx);
  }

 private:
  const NetworkFactory& f_;
};

class NetworkAdapter final : public net::NetworkFilterFactory {
 public:
  explicit NetworkAdapter(const NetworkFactory& f) : f_(f) {}
  std::string_view name() const override { return f_.name(); }
  std::shared_ptr<const net::NetworkFilterConfig> build(const config::FilterSpec& spec) const override {
    return static_cast<const Spec<net::NetworkFilterConfig>&>(spec).runtime;
  }
  std::unique_ptr<net::NetworkFilter> create(const net::NetworkFilterConfig& cfg,
                                             net::FilterContext& ctx) const override {
    return f_.create(cfg, ctx);
  }

 private:
  const NetworkFactory& f_;
};

class HttpReader final : public config::HttpFilterReader {
 public:
  explicit HttpReader(const HttpFactory& f) : f_(f) {}
  std::string_view name() const override { return f_.name(); }
  std::shared_ptr<const config::FilterSpec> read(config::MapReader& r) const override { return wrap(f_.parse(r)); }
  std::shared_ptr<const config::FilterSpec> readPerRoute(config::MapReader& r) const override {
    return wrap(f_.parsePerRoute(r));
  }
  void validate(const config::FilterSpec& spec, const config::Config& whole, std::string_view path,
                config::ParseContext& ctx) const override {
    f_.validate(unwrap<http::HttpFilterConfig>(spec), whole, path, ctx);
  }

 private:
  const HttpFactory& f_;
};

class HttpAdapter final : public http::HttpFilterFactory {
 public:
  explicit HttpAdapter(const HttpFactory& f) : f_(f) {}
  std::string_view name() const override { return f_.name(); }
  std::shared_ptr<const http::HttpFilterConfig> build(const config::FilterSpec& spec) const override {
    return static_cast<const Spec<http::HttpFilterConfig>&>(spec).runtime;
  }
  void createFilters(const http::HttpFilterConfig& cfg, http::FilterChainBuilder& chain) const override {
    f_.createFilters(cfg, chain);
  }

 private:
  const HttpFactory& f_;
};

}  // namespace sluice::filters::legacy
