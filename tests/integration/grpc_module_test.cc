// The proxy's gRPC side is a module (proxy/module/grpc_module.h) loaded only
// by a bootstrap with dynamic.ads or dynamic.ca: a proxy configured by a
// file maps none of gRPC, protobuf or the generated code, and a proxy that
// needs the module and cannot load it says so and does not start.

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "tests/integration/support/command.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

std::string mapsOf(pid_t pid) { return readFile("/proc/" + std::to_string(pid) + "/maps"); }

const char* kFileConfig = R"(admin: {address: 127.0.0.1:0}
workers: 1
listeners:
  - name: web
    address: 127.0.0.1:0
    http:
      route_config:
        virtual_hosts:
          - {name: all, domains: ['*'], routes: [{match: {prefix: /}, direct_response: {status: 200, body: ok}}]}
)";

// An ADS server that is not there: the proxy keeps retrying, serving its
// admin endpoint meanwhile.
const char* kAdsConfig = R"(admin: {address: 127.0.0.1:0}
workers: 1
dynamic:
  ads:
    address: 127.0.0.1:1
    node: {id: module-test, cluster: test}
    initial_fetch_timeout: 1s
)";

TEST(GrpcModule, FileConfiguredProxyMapsNoGrpc) {
  // Nor does it look for the module: it starts with none to be found (each
  // test runs in a process of its own, so the environment is ours).
  ::setenv("SLUICE_GRPC_MODULE", "/nonexistent/sluice-grpc.so", 1);
  ProxyProcess proxy(kFileConfig);
  ASSERT_TRUE(proxy.start());
  ::unsetenv("SLUICE_GRPC_MODULE");
  ASSERT_EQ(httpRequest(*proxy.waitListener("web"), "GET", "/").status, 200);
  const std::string maps = mapsOf(proxy.pid());
  ASSERT_FALSE(maps.empty());
  EXPECT_EQ(maps.find("sluice-grpc.so"), std::string::npos) << maps;
  EXPECT_EQ(maps.find("libgrpc"), std::string::npos) << maps;
  EXPECT_EQ(maps.find("libprotobuf"), std::string::npos) << maps;
}

TEST(GrpcModule, AdsBootstrapLoadsTheModule) {
  ProxyProcess proxy(kAdsConfig);
  ASSERT_TRUE(proxy.start());
  const std::string maps = mapsOf(proxy.pid());
  EXPECT_NE(maps.find("sluice-grpc.so"), std::string::npos) << maps;
  EXPECT_NE(maps.find("libprotobuf"), std::string::npos) << maps;
  // Its calls go over the proxy's own HTTP/2 client: no gRPC C++, and no
  // thread beyond the main one and the worker.
  EXPECT_EQ(maps.find("libgrpc"), std::string::npos) << maps;
  EXPECT_TRUE(proxy.waitMetricAtLeast("sluice_xds_stream_reconnects_total", {}, 1, 10s));
  const std::string status = readFile("/proc/" + std::to_string(proxy.pid()) + "/status");
  const size_t at = status.find("\nThreads:\t");
  ASSERT_NE(at, std::string::npos) << status;
  const int threads = std::atoi(status.c_str() + at + 10);
  // TSan's runtime runs a background thread of its own in the process.
  EXPECT_LE(threads, proxyUnderSanitizer() ? 3 : 2) << status;
  EXPECT_GE(threads, 2) << status;
}

TEST(GrpcModule, AModuleThatCannotBeLoadedIsAClearErrorAtStart) {
  TempDir dir;
  const std::string config = dir.write("ads.yaml", kAdsConfig);
  const std::string bogus = dir.write("sluice-grpc.so", "not an ELF file\n");
  CommandResult r =
      runCommand({"env", "SLUICE_GRPC_MODULE=" + dir.path() + "/missing.so", proxyBinary(), "-c", config}, 10s);
  ASSERT_TRUE(r.status.has_value()) << "sluice did not exit";
  EXPECT_TRUE(exitedWith(r.status, 1)) << describeWaitStatus(*r.status) << "\n" << r.err;
  EXPECT_NE(r.err.find("cannot load the gRPC module (needed by dynamic.ads and dynamic.ca)"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("missing.so"), std::string::npos) << r.err;

  r = runCommand({"env", "SLUICE_GRPC_MODULE=" + bogus, proxyBinary(), "-c", config}, 10s);
  ASSERT_TRUE(r.status.has_value());
  EXPECT_TRUE(exitedWith(r.status, 1)) << r.err;
  EXPECT_NE(r.err.find("cannot load the gRPC module"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sluice::itest
