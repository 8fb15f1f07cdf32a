// The config library on its own: this binary links sluice_config and
// nothing of the proxy, and still reads every shipped example whole, every
// filter into its plain spec, and dumps it.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "config/config_json.h"
#include "config/loader.h"

namespace sluice::config {
namespace {

TEST(ConfigLibrary, ReadsEveryShippedExampleIntoPlainSpecs) {
  // mtls.yaml takes its certificate paths from the environment. The reader
  // checks that they can be read; their PEM is the proxy's business.
  char pem[] = "/tmp/sluice-config-test-XXXXXX";
  const int fd = ::mkstemp(pem);
  ASSERT_GE(fd, 0);
  ::close(fd);
  for (const char* var : {"SLUICE_CERT", "SLUICE_KEY", "SLUICE_CA"}) ::setenv(var, pem, 1);
  for (const char* name : {"demo.yaml", "grpc.yaml", "mtls.yaml", "retries.yaml", "upstream.yaml"}) {
    const std::string path = std::string(SLUICE_SOURCE_DIR) + "/config/examples/" + name;
    const LoadResult r = loadFile(path);
    ASSERT_TRUE(r.config) << name << ":\n" << r.errorText();
    size_t filters = 0;
    for (const auto& l : r.config->listeners) {
      l.forEachFilter([&](const NetworkFilterEntry& f, const std::string& where) {
        ++filters;
        EXPECT_NE(f.reader, nullptr) << name << " " << l.name << where;
        ASSERT_NE(f.spec, nullptr) << name << " " << l.name << where;
        EXPECT_FALSE(f.spec->toJson().is_null()) << name << " " << l.name << where;
      });
    }
    EXPECT_GT(filters, 0u) << name;
    for (const auto& rc : r.config->route_configs) EXPECT_NE(rc.spec, nullptr) << name << " " << rc.name;
    EXPECT_FALSE(toJson(*r.config)["listeners"].empty()) << name;
  }
  ::unlink(pem);
}

}  // namespace
}  // namespace sluice::config
