// The daemon's reload path on simulated time: an edit waits for the file
// to be quiet for `debounce`, a burst of edits is one reload, an invalid
// edit is refused and counted while the last good config keeps serving,
// and only the groups an edit changed are published. The servers are
// real (port 0); the clock is the test's.

#include "control/control_daemon.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

namespace sluice::control {
namespace {

using namespace std::chrono_literals;
using Clock = ControlDaemon::Clock;

const char* const kYaml = R"(ads: {address: 127.0.0.1:0}
admin: {address: 127.0.0.1:0}
debounce: 300ms
watch_interval: 1s
groups:
  - name: a
    match: {cluster: a}
    clusters: [{name: c, endpoints: [{address: 127.0.0.1:18001}]}]
  - name: b
    match: {cluster: b}
    clusters: [{name: c, endpoints: [{address: 127.0.0.1:18002}]}]
)";

class ConfigReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-reload-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/control.yaml";
    write(kYaml);
  }
  void TearDown() override {
    std::remove(path_.c_str());
    std::remove((path_ + ".tmp").c_str());
    ::rmdir(dir_.c_str());
  }
  // Whole file by rename, as an editor saves it.
  void write(const std::string& text) {
    std::ofstream(path_ + ".tmp", std::ios::trunc) << text;
    std::rename((path_ + ".tmp").c_str(), path_.c_str());
  }
  static double metric(ControlDaemon& d, const std::string& name) {
    const std::string text = d.handleAdmin("GET", "/metrics").body;
    const size_t at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::atof(text.c_str() + at + name.size() + 2);
  }
  static nlohmann::json status(ControlDaemon& d) { return nlohmann::json::parse(d.handleAdmin("GET", "/status").body); }

  std::string dir_, path_;
};

std::string edited(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

TEST_F(ConfigReloadTest, AnEditWaitsForTheFileToBeQuietForDebounce) {
  ControlDaemon d(path_);
  std::string errors;
  ASSERT_TRUE(d.start(errors)) << errors;
  const std::string v0 = status(d)["config"]["version"];
  const nlohmann::json groups_before = status(d)["groups"];
  ASSERT_EQ(groups_before.size(), 2u);
  ASSERT_EQ(groups_before["a"].size(), 5u);  // CDS EDS LDS RDS SDS
  EXPECT_EQ(metric(d, "sluice_control_groups_published_total"), 2);
  const Clock::time_point t0 = Clock::now();
  EXPECT_EQ(d.nextTick(t0), 1000ms);  // watch_interval

  write(edited(kYaml, "18002", "18003"));
  d.tick(t0);  // seen: the quiet period starts
  EXPECT_EQ(d.nextTick(t0), 300ms);
  EXPECT_EQ(d.nextTick(t0 + 100ms), 200ms);
  d.tick(t0 + 299ms);
  EXPECT_EQ(metric(d, "sluice_control_config_reloads_total"), 0);
  EXPECT_EQ(status(d)["config"]["version"], v0);
  d.tick(t0 + 300ms);
  EXPECT_EQ(metric(d, "sluice_control_config_reloads_total"), 1);
  EXPECT_NE(status(d)["config"]["version"], v0);
  EXPECT_EQ(status(d)["groups"]["a"], groups_before["a"]);
  EXPECT_EQ(status(d)["groups"]["b"]["CDS"], groups_before["b"]["CDS"]);
  EXPECT_NE(status(d)["groups"]["b"]["EDS"], groups_before["b"]["EDS"]);
  // Only group b changed.
  EXPECT_EQ(metric(d, "sluice_control_groups_published_total"), 3);
  EXPECT_EQ(d.nextTick(t0 + 300ms), 1000ms);
}

TEST_F(ConfigReloadTest, ABurstOfEditsIsOneReload) {
  ControlDaemon d(path_);
  std::string errors;
  ASSERT_TRUE(d.start(errors)) << errors;
  const Clock::time_point t0 = Clock::now();
  write(edited(kYaml, "18002", "18003"));
  d.tick(t0);
  write(edited(kYaml, "18002", "18004"));
  d.tick(t0 + 200ms);  // a second change restarts the quiet period
  d.tick(t0 + 400ms);
  EXPECT_EQ(metric(d, "sluice_control_config_reloads_total"), 0);
  d.tick(t0 + 500ms);
  EXPECT_EQ(metric(d, "sluice_control_config_reloads_total"), 1);
  EXPECT_EQ(metric(d, "sluice_control_groups_published_total"), 3);
}

TEST_F(ConfigReloadTest, AnInvalidEditIsRefusedAndTheLastGoodKeepsServing) {
  ControlDaemon d(path_);
  std::string errors;
  ASSERT_TRUE(d.start(errors)) << errors;
  const std::string v0 = status(d)["config"]["version"];
  const Clock::time_point t0 = Clock::now();
  write(edited(kYaml, "127.0.0.1:18002", "127.0.0.1:99999"));
  d.tick(t0);
  d.tick(t0 + 300ms);
  EXPECT_EQ(metric(d, "sluice_control_config_rejections_total"), 1);
  EXPECT_EQ(metric(d, "sluice_control_config_reloads_total"), 0);
  EXPECT_EQ(metric(d, "sluice_control_groups_published_total"), 2);
  const auto s = status(d);
  EXPECT_EQ(s["config"]["version"], v0);
  EXPECT_EQ(s["last_rejection"]["errors"],
            nlohmann::json({path_ + ":11:48: groups[1].clusters[0].endpoints[0].address: port out of range"}));

  // The file deleted is refused too; then a good file is applied.
  std::remove(path_.c_str());
  d.tick(t0 + 1s);
  d.tick(t0 + 2s);
  EXPECT_EQ(metric(d, "sluice_control_config_rejections_total"), 2);
  EXPECT_EQ(status(d)["last_rejection"]["errors"],
            nlohmann::json({path_ + ": cannot read: No such file or directory"}));
  write(kYaml);
  d.tick(t0 + 3s);
  d.tick(t0 + 4s);
  EXPECT_EQ(metric(d, "sluice_control_config_reloads_total"), 1);
  // The same content as served: nothing published again.
  EXPECT_EQ(metric(d, "sluice_control_groups_published_total"), 2);
  EXPECT_EQ(status(d)["config"]["version"], v0);
}

TEST_F(ConfigReloadTest, ABadFileAtStartStartsNothing) {
  write(edited(kYaml, "debounce: 300ms", "debounce: soon"));
  ControlDaemon d(path_);
  std::string errors;
  EXPECT_FALSE(d.start(errors));
  EXPECT_EQ(errors, path_ + ":3:11: debounce: expected a duration like 250ms, 5s, 2m, 1h\n");
  EXPECT_EQ(d.adminAddress(), "");
}

TEST_F(ConfigReloadTest, AdminAnswersReadyUntilStopAndNotFoundElsewhere) {
  ControlDaemon d(path_);
  std::string errors;
  ASSERT_TRUE(d.start(errors)) << errors;
  EXPECT_EQ(d.handleAdmin("GET", "/ready").status, 200);
  EXPECT_EQ(d.handleAdmin("GET", "/nope").status, 404);
  EXPECT_EQ(d.handleAdmin("POST", "/status").status, 405);
  EXPECT_EQ(d.handleAdmin("GET", "/status?pretty").content_type, "application/json");
  d.stop();
  EXPECT_EQ(d.handleAdmin("GET", "/ready").status, 503);
}

}  // namespace
}  // namespace sluice::control
