#pragma once
// Loading YAML text in the config tests: every error as
// "file:line:col: path: message" in file order, or a config that must load.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "config/loader.h"

namespace sluice::config::testing {

using Errors = std::vector<std::string>;

// The errors of loading `yaml` as "t.yaml"; a config comes back only without errors.
inline Errors errorsOf(const std::string& yaml) {
  const LoadResult r = loadString(yaml, "t.yaml");
  EXPECT_EQ(r.config == nullptr, !r.errors.empty()) << "config must be all or nothing";
  Errors out;
  for (const auto& e : r.errors) out.push_back(e.str());
  return out;
}

// `yaml` as "t.yaml", expected to load (null and a failure otherwise).
inline std::shared_ptr<const Config> loadOk(const std::string& yaml) {
  const LoadResult r = loadString(yaml, "t.yaml");
  EXPECT_TRUE(r.errors.empty()) << r.errorText();
  return r.config;
}

}  // namespace sluice::config::testing
