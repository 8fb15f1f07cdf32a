// libFuzzer target: the YAML config loader (config/loader.h) and every
// reader under it, fed the text an operator writes (or a reload picks up).
//
// Properties:
// - loadString() returns, never throws (yaml-cpp's exceptions included,
//   PRINCIPLES 8), and is bounded in time and memory whatever the anchors,
//   aliases and nesting;
// - a config or errors, never both, never neither;
// - every error names the file, and a line and column unless it is about
//   the whole file (an empty document);
// - a config's /config_dump JSON (config_json.h) renders without throwing,
//   reads back equal, and two loads of the same text render the same.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/config_json.h"
#include "config/loader.h"

namespace {

using namespace sluice;

void check(bool ok) {
  if (!ok) std::abort();
}

constexpr const char* kFile = "fuzz.yaml";

config::LoadResult load(const std::string& text) {
  try {
    return config::loadString(text, kFile);
  } catch (...) {
    std::abort();  // an exception escaped the loader
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // For ${SLUICE_FUZZ} references in the corpus; others stay unset.
  setenv("SLUICE_FUZZ", "127.0.0.1:8080", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const config::LoadResult r = load(text);
  check((r.config == nullptr) != r.errors.empty());
  for (const auto& e : r.errors) {
    check(e.file == kFile && !e.message.empty());
    check((e.line > 0 && e.column > 0) || e.message == "config is empty");
  }
  if (!r.config) return 0;
  std::string dump;
  nlohmann::json json;
  try {
    json = config::toJson(*r.config);
    dump = json.dump(2);
  } catch (...) {
    std::abort();  // /config_dump (and the snapshot builder's listener identity) would throw
  }
  check(nlohmann::json::parse(dump) == json);
  const config::LoadResult again = load(text);
  check(again.config && config::toJson(*again.config) == json);
  return 0;
}
