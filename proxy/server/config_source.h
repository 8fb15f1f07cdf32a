#pragma once
// ConfigSource: where a proxy's listeners, route tables and clusters come
// from, as the bootstrap names it (config::ConfigSourceSpec). Today one YAML
// file, read again on SIGHUP and POST /reload; next an xDS stream, whose
// resources arrive one at a time (and so are loaded with
// config::References::WarnAndServe). Either way a source hands whole,
// validated configs to the server's one ConfigSink::apply(), which builds a
// snapshot and publishes it, or rejects it and keeps the running one.
// Main thread only.

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "config/loader.h"
#include "proxy/event/loop.h"

namespace sluice::server {

struct ApplyResult {
  bool ok = false;
  std::string message;  // "ok\n", or every error, one per line
};

class ConfigSink {
 public:
  // Builds, checks and publishes `cfg`; on failure nothing changes.
  virtual ApplyResult apply(std::shared_ptr<const config::Config> cfg) = 0;

 protected:
  ~ConfigSink() = default;
};

class ConfigSource {
 public:
  virtual ~ConfigSource() = default;
  // Called once the first config (the bootstrap file's) is published: a
  // source that pushes configs (ADS) starts here.
  virtual void start() {}
  // Reads what the source holds now. Errors leave `config` null.
  virtual config::LoadResult load() = 0;
  // For log lines: "config.yaml".
  virtual std::string describe() const = 0;
  // What /config_dump shows about the source beside the config (null: nothing).
  virtual nlohmann::json status() const { return nullptr; }
};

// One YAML file, every reference checked (a file is written whole).
class FileConfigSource final : public ConfigSource {
 public:
  explicit FileConfigSource(std::string path) : path_(std::move(path)) {}
  config::LoadResult load() override { return config::loadFile(path_); }
  std::string describe() const override { return path_; }

 private:
  std::string path_;
};

// The source `loaded` (the bootstrap file, as first read) names. An ADS
// source keeps `loaded` as the base its received resources join, and hands
// its configs to `sink`; it runs on `loop` (the main thread's). ADS comes
// from the gRPC module (proxy/module/): null if it cannot be loaded, which
// the server checks before it starts anything.
std::unique_ptr<ConfigSource> makeConfigSource(std::shared_ptr<const config::Config> loaded, event::Loop& loop,
                                               ConfigSink& sink);

}  // namespace sluice::server
