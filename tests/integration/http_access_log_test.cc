// Access logs through the real binary: JSON lines that parse and carry what
// happened (method, path, status, response flags, upstream host, request id,
// sizes), a format-string log next to it, one line per request.

#include <gtest/gtest.h>

#include <algorithm>
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

}  // namespace
}  // namespace sluice::itest
