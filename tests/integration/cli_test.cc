// The command line of the real binary: validate, --version, --help, and
// refusing to start on an invalid config.

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <sstream>
#include <string>

#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

constexpr const char* kGood = R"(admin: {address: 127.0.0.1:0}
workers: 2
drain_timeout: 10s
listeners:
  - name: l1
    address: 127.0.0.1:0
    max_connections: 0
    per_connection_buffer_limit_bytes: 1048576
    tcp_proxy: {cluster: c1, idle_timeout: 1h, max_connect_attempts: 3}
clusters:
  - name: c1
    connect_timeout: 1s
    endpoints: [{address: 127.0.0.1:9, weight: 1}]
)";

// Two independent errors: an unknown key (line 6: key at col 5, value at
// col 21) and a port out of range (line 12, value at col 18).
constexpr const char* kBad = R"(admin: {address: 127.0.0.1:0}
workers: 2
listeners:
  - name: l1
    address: 127.0.0.1:0
    max_conections: 5
    tcp_proxy: {cluster: c1}
clusters:
  - name: c1
    connect_timeout: 1s
    endpoints:
      - address: 127.0.0.1:99999
)";

// Well-formed, but the listener names a cluster that does not exist (line 7).
constexpr const char* kDanglingCluster = R"(admin: {address: 127.0.0.1:0}
workers: 1
listeners:
  - name: l1
    address: 127.0.0.1:0
    max_connections: 0
    tcp_proxy: {cluster: nope}
clusters:
  - name: c1
    connect_timeout: 1s
    endpoints: [{address: 127.0.0.1:9, weight: 1}]
)";

std::vector<std::string> linesStartingWith(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  }
  return out;
}

std::string show(const CommandResult& r) {
  return "status: " + (r.status ? describeWaitStatus(*r.status) : std::string("timed out")) +
         "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

TEST(Cli, ValidateAcceptsGoodConfig) {
  TempDir dir;
  std::string file = dir.write("good.yaml", kGood);
  CommandResult r = runSluice({"validate", "-c", file});
  EXPECT_TRUE(exitedWith(r.status, 0)) << show(r);
  EXPECT_NE((r.out + r.err).find(file + ": ok"), std::string::npos) << show(r);
}

TEST(Cli, ValidateReportsEveryErrorWithFileLineColumnAndPath) {
  TempDir dir;
  std::string file = dir.write("bad.yaml", kBad);
  CommandResult r = runSluice({"validate", "-c", file});
  EXPECT_TRUE(exitedWith(r.status, 1)) << show(r);

  auto unknown = linesStartingWith(r.err, file + ":6:");
  ASSERT_EQ(unknown.size(), 1u) << "expected one error at " << file << ":6\n" << show(r);
  EXPECT_TRUE(unknown[0].rfind(file + ":6:5: ", 0) == 0 || unknown[0].rfind(file + ":6:21: ", 0) == 0)
      << "column should point at the unknown key or its value: " << unknown[0];
  EXPECT_NE(unknown[0].find("listeners[0]"), std::string::npos) << unknown[0];
  EXPECT_NE(unknown[0].find("max_conections"), std::string::npos) << unknown[0];

  auto port = linesStartingWith(r.err, file + ":12:18: clusters[0].endpoints[0].address: ");
  EXPECT_EQ(port.size(), 1u) << "expected " << file
                             << ":12:18: clusters[0].endpoints[0].address: <message>\n"
                             << show(r);
  EXPECT_EQ(r.out.find(": ok"), std::string::npos) << show(r);
}

TEST(Cli, ValidateReportsDanglingClusterReference) {
  TempDir dir;
  std::string file = dir.write("dangling.yaml", kDanglingCluster);
  CommandResult r = runSluice({"validate", "-c", file});
  EXPECT_TRUE(exitedWith(r.status, 1)) << show(r);
  auto errors = linesStartingWith(r.err, file + ":7:");
  ASSERT_EQ(errors.size(), 1u) << show(r);
  EXPECT_NE(errors[0].find("cluster"), std::string::npos) << errors[0];
}

TEST(Cli, ValidateMissingFileFails) {
  TempDir dir;
  std::string file = dir.path() + "/absent.yaml";
  CommandResult r = runSluice({"validate", "-c", file});
  EXPECT_TRUE(exitedWith(r.status, 1)) << show(r);
  EXPECT_NE(r.err.find(file), std::string::npos) << show(r);
}

TEST(Cli, RefusesToStartOnInvalidConfig) {
  TempDir dir;
  std::string file = dir.write("bad.yaml", kBad);
  std::string addr = dir.path() + "/admin.addr";
  CommandResult r = runSluice({"-c", file, "--admin-address-path", addr}, 5s);
  ASSERT_TRUE(r.status) << "still running 5 s after starting on an invalid config";
  EXPECT_FALSE(exitedWith(r.status, 0)) << show(r);
  EXPECT_TRUE(WIFEXITED(*r.status)) << show(r);
  EXPECT_NE(::access(addr.c_str(), F_OK), 0) << "admin came up on an invalid config";
  EXPECT_FALSE(linesStartingWith(r.err, file + ":12:18: ").empty()) << show(r);
}

TEST(Cli, VersionAndHelp) {
  CommandResult v = runSluice({"--version"});
  EXPECT_TRUE(exitedWith(v.status, 0)) << show(v);
  EXPECT_TRUE(std::regex_search(v.out + v.err, std::regex(R"(\d+\.\d+\.\d+)"))) << show(v);

  CommandResult h = runSluice({"--help"});
  EXPECT_TRUE(exitedWith(h.status, 0)) << show(h);
  EXPECT_NE((h.out + h.err).find("validate"), std::string::npos) << show(h);
  EXPECT_NE((h.out + h.err).find("-c"), std::string::npos) << show(h);
}

}  // namespace
}  // namespace sluice::itest
