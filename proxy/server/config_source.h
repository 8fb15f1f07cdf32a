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

#include "config/loader.h"

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
  // Reads what the source holds now. Errors leave `config` null.
  virtual config::LoadResult load() = 0;
  // For log lines: "config.yaml".
  virtual std::string describe() const = 0;
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

// The source a bootstrap names.
inline std::unique_ptr<ConfigSource> makeConfigSource(const config::ConfigSourceSpec& spec) {
  switch (spec.kind) {
    case config::ConfigSourceSpec::Kind::File: return std::make_unique<FileConfigSource>(spec.path);
  }
  return nullptr;
}

}  // namespace sluice::server
