// Access logs through the real binary: JSON lines that parse and carry what
// happened (method, path, status, response flags, upstream host, request id,
// sizes, duration), a format-string log next to it, one line per request; a
// retried request names the host that finally served it.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/command.h"
#include "tests/integration/support/config.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

const std::regex kUuid4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
const std::regex kRfc3339(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$)");

bool emptyValue(const std::string& v) { return v.empty() || v == "-"; }

TEST(HttpAccessLog, JsonAndFormatLogsDescribeEachRequest) {
  HttpUpstream up(byPathPrefix({{"/echo", echoBody()}}, describeRequest("c1")));
  TempDir logs;
  const std::string json_log = logs.path() + "/access.json";
  const std::string text_log = logs.path() + "/access.txt";
  ProxyProcess proxy(renderConfig(httpConfig(R"(
    access_log:
      - {path: )" + json_log + R"(, format: json}
      - {path: )" + text_log + R"(, format: "%METHOD% %PATH% %STATUS% %RESPONSE_FLAGS% %UPSTREAM_HOST% %REQUEST_ID%"}
    route_config:
      virtual_hosts:
        - name: all
          domains: ["*"]
          routes:
            - match: {prefix: /ok}
              route: {cluster: c1}
            - match: {prefix: /echo}
              route: {cluster: c1}
  )", {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  const std::string upstream_host = "127.0.0.1:" + std::to_string(up.port());

  CurlResult r = curl({"-H", "Host: logs.example.com", "-H", "x-request-id: rid-1", localUrl(port, "/ok/1?q=a")});
  ASSERT_EQ(r.status, 200) << r.describe();
  r = curl({"-H", "x-request-id: rid-2", "--data-binary", std::string(1000, 'b'), localUrl(port, "/echo")});
  ASSERT_EQ(r.status, 200) << r.describe();
  r = curl({"-H", "x-request-id: rid-3", localUrl(port, "/missing")});
  ASSERT_EQ(r.status, 404) << r.describe();
  r = curl({localUrl(port, "/ok/generated")});
  ASSERT_EQ(r.status, 200) << r.describe();
  const std::string generated_id = up.lastRequest()->header("x-request-id").value_or("");

  JsonLines j = waitJsonLines(json_log, 4);
  EXPECT_TRUE(j.bad.empty()) << "lines that are not JSON objects: " << j.bad.size() << ", first: " << j.bad.at(0);
  ASSERT_EQ(j.entries.size(), 4u) << readFile(json_log);
  auto entry = [&](const std::string& request_id) {
    auto it = std::find_if(j.entries.begin(), j.entries.end(),
                           [&](const nlohmann::json& e) { return field(e, "request_id") == request_id; });
    EXPECT_NE(it, j.entries.end()) << "no entry with request_id " << request_id << "; log:\n" << readFile(json_log);
    return it == j.entries.end() ? nlohmann::json::object() : *it;
  };

  nlohmann::json ok = entry("rid-1");
  EXPECT_EQ(field(ok, "method"), "GET") << ok.dump();
  EXPECT_EQ(field(ok, "path"), "/ok/1?q=a") << ok.dump();
  EXPECT_EQ(field(ok, "authority"), "logs.example.com") << ok.dump();
  EXPECT_EQ(field(ok, "status"), "200") << ok.dump();
  EXPECT_TRUE(emptyValue(field(ok, "response_flags"))) << ok.dump();
  EXPECT_EQ(field(ok, "upstream_host"), upstream_host) << ok.dump();
  EXPECT_EQ(field(ok, "upstream_cluster"), "c1") << ok.dump();
  EXPECT_EQ(field(ok, "bytes_sent"), std::to_string(std::string("c1 GET /ok/1?q=a\n").size())) << ok.dump();
  EXPECT_TRUE(std::regex_match(field(ok, "time"), kRfc3339)) << ok.dump();
  EXPECT_EQ(field(ok, "downstream_address").rfind("127.0.0.1:", 0), 0u) << ok.dump();
  ASSERT_TRUE(ok.contains("duration_ms")) << ok.dump();
  EXPECT_TRUE(ok["duration_ms"].is_number()) << ok.dump();

  nlohmann::json post = entry("rid-2");
  EXPECT_EQ(field(post, "method"), "POST") << post.dump();
  EXPECT_EQ(field(post, "bytes_received"), "1000") << post.dump();
  EXPECT_EQ(field(post, "bytes_sent"), "1000") << post.dump();

  nlohmann::json missing = entry("rid-3");
  EXPECT_EQ(field(missing, "status"), "404") << missing.dump();
  EXPECT_EQ(field(missing, "response_flags"), "NR") << missing.dump();
  EXPECT_TRUE(emptyValue(field(missing, "upstream_host"))) << missing.dump();

  EXPECT_TRUE(std::regex_match(generated_id, kUuid4)) << generated_id;
  nlohmann::json gen = entry(generated_id);
  EXPECT_EQ(field(gen, "path"), "/ok/generated") << gen.dump();

  // The format-string log has the same four requests.
  auto lines = waitLines(text_log, 4);
  std::set<std::string> text(lines.begin(), lines.end());
  EXPECT_EQ(text, (std::set<std::string>{"GET /ok/1?q=a 200 - " + upstream_host + " rid-1",
                                         "POST /echo 200 - " + upstream_host + " rid-2",
                                         "GET /missing 404 NR - rid-3",
                                         "GET /ok/generated 200 - " + upstream_host + " " + generated_id}))
      << readFile(text_log);
}

// duration_ms runs from the request to the end of the response: it covers
// the time the upstream took.
TEST(HttpAccessLog, DurationCoversTheUpstreamDelay) {
  HttpUpstream up(byPathPrefix({{"/slow", slowResponse(300ms, "slow\n")}}, describeRequest("c1")));
  TempDir logs;
  const std::string json_log = logs.path() + "/access.json";
  ProxyProcess proxy(renderConfig(httpConfig(routeAllTo("c1", json_log), {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  CurlResult r = curl({"-H", "x-request-id: fast", localUrl(port, "/fast")});
  ASSERT_EQ(r.status, 200) << r.describe();
  r = curl({"-H", "x-request-id: slow", localUrl(port, "/slow")});
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_GE(r.time_total, 0.3) << r.describe();

  JsonLines j = waitJsonLines(json_log, 2);
  ASSERT_EQ(j.entries.size(), 2u) << readFile(json_log);
  std::map<std::string, double> duration;
  for (const auto& e : j.entries) {
    ASSERT_TRUE(e.contains("duration_ms") && e["duration_ms"].is_number()) << e.dump();
    duration[field(e, "request_id")] = e["duration_ms"].get<double>();
  }
  ASSERT_EQ(duration.count("fast") + duration.count("slow"), 2u) << readFile(json_log);
  EXPECT_GE(duration["slow"], 300) << readFile(json_log);
  EXPECT_LT(duration["slow"], 3000) << readFile(json_log);
  EXPECT_GE(duration["fast"], 0) << readFile(json_log);
  EXPECT_LT(duration["fast"], 250) << readFile(json_log);
}

// Host a answers 503, host b 200; a 5xx retry moves a request that tried a
// first to b. Every line names b, the host that served it. The line does not
// record the failed attempt (no flag: the request succeeded); the upstream's
// x-sluice-attempt and the retry counters do.
TEST(HttpAccessLog, RetriedRequestNamesTheHostThatServedIt) {
  ControlledUpstream a("a"), b("b");
  a.setStatus(503);
  TempDir logs;
  const std::string json_log = logs.path() + "/access.json";
  ProxyProcess proxy(upstreamConfig(
      "access_log: {path: " + json_log + ", format: json}\n" +
          routeByPrefix({{"/", "{cluster: c1, retry_policy: {retry_on: [5xx], num_retries: 1, "
                               "retry_back_off: {base_interval: 1ms}}}"}}),
      R"(
    - name: c1
      connect_timeout: 500ms
      lb_policy: random
      endpoints: )" + endpointsFlow({a.port(), b.port()})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  constexpr size_t kRequests = 20;
  const Tally t = sendRequests(port, kRequests, 2, "/",
                               [](size_t i) { return HeaderList{{"x-request-id", "rid-" + std::to_string(i)}}; });
  ASSERT_EQ(t.to("b"), kRequests) << t.describe();

  // Which requests tried a first, and the attempt number b saw for each.
  std::set<std::string> tried_a;
  for (const auto& req : a.requests()) tried_a.insert(req.header("x-request-id").value_or("?"));
  std::map<std::string, std::string> attempt_at_b;
  for (const auto& req : b.requests())
    attempt_at_b[req.header("x-request-id").value_or("?")] = req.header("x-sluice-attempt").value_or("?");
  // Random balancing sends about half of the first tries to a.
  ASSERT_GE(tried_a.size(), 3u) << "too few requests tried a to tell anything";
  ASSERT_LT(tried_a.size(), kRequests) << "no request went to b first";

  JsonLines j = waitJsonLines(json_log, kRequests);
  EXPECT_TRUE(j.bad.empty()) << readFile(json_log);
  ASSERT_EQ(j.entries.size(), kRequests) << readFile(json_log);
  size_t retried_lines = 0;
  for (const auto& e : j.entries) {
    const std::string id = field(e, "request_id");
    const bool retried = tried_a.count(id) > 0;
    retried_lines += retried;
    EXPECT_EQ(field(e, "status"), "200") << e.dump();
    EXPECT_EQ(field(e, "upstream_host"), b.address()) << (retried ? "retried from a to b: " : "") << e.dump();
    EXPECT_EQ(field(e, "upstream_cluster"), "c1") << e.dump();
    EXPECT_EQ(field(e, "response_flags"), "-") << e.dump();
    // The 503 attempt shows in the line: Envoy's flags have none for a retry
    // that succeeded, so the attempt count carries it.
    EXPECT_EQ(field(e, "upstream_request_attempt_count"), retried ? "2" : "1") << e.dump();
    EXPECT_EQ(attempt_at_b[id], retried ? "2" : "1") << e.dump();
  }
  EXPECT_EQ(retried_lines, tried_a.size());
  const Labels c1{{"cluster", "c1"}};
  const auto retries = static_cast<double>(tried_a.size());
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_upstream_rq_retry_total", c1), retries);
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_upstream_rq_retry_success_total", c1), retries);
}

}  // namespace
}  // namespace sluice::itest
