// local_ratelimit (L4) config: listener YAML -> loader -> config or errors
// that name file:line:col and the field path.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "filters/network/local_ratelimit/config.h"

namespace sluice::filters::l4_ratelimit {
namespace {

std::string listenerWith(const std::string& body, const std::string& terminal_first = "") {
  return "listeners:\n"
         "  - name: l\n"
         "    address: 127.0.0.1:0\n" +
         terminal_first +
         "    local_ratelimit:\n" + body +
         (terminal_first.empty() ? "    tcp_proxy: {cluster: c}\n" : "") +
         "clusters:\n"
         "  - name: c\n"
         "    endpoints: [{address: 127.0.0.1:1}]\n";
}

TEST(L4LocalRateLimitConfigTest, RegisteredAsNonTerminal) {
  const auto* f = config::findNetworkFilterReader("local_ratelimit");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->name(), "local_ratelimit");
  EXPECT_EQ(&reader(), f);
  EXPECT_FALSE(f->terminal());
}

TEST(L4LocalRateLimitConfigTest, ParsesBeforeTheTerminalFilter) {
  auto r = config::loadString(
      listenerWith("      stat_prefix: db\n"
                   "      token_bucket: {max_tokens: 5, tokens_per_fill: 1, fill_interval: 200ms}\n"
                   "      per_key: {source: client_ip, max_keys: 64}\n"
                   "      shadow: true\n"),
      "t.yaml");
  ASSERT_TRUE(r.errors.empty()) << r.errorText();
  const auto& filters = r.config->listeners[0].filters;
  ASSERT_EQ(filters.size(), 2u);
  EXPECT_EQ(filters[0].name, "local_ratelimit");
  EXPECT_EQ(filters[1].name, "tcp_proxy");
  const auto& spec = dynamic_cast<const Spec&>(*filters[0].spec);
  EXPECT_EQ(spec.stat_prefix, "db");
  EXPECT_TRUE(spec.shadow);
  EXPECT_EQ(spec.limit.key_source, config::LocalLimitSpec::KeySource::ClientIp);
  EXPECT_EQ(spec.limit.token_bucket->max_tokens, 5u);
  EXPECT_EQ(spec.limit.max_keys, 64u);
  const auto j = spec.toJson();
  EXPECT_EQ(j["token_bucket"]["fill_interval"], "200ms");
  EXPECT_EQ(j["per_key"]["source"], "client_ip");
}

TEST(L4LocalRateLimitConfigTest, Errors) {
  struct Case {
    std::string body;
    const char* where;  // "path: message"
  };
  const Case cases[] = {
      {"      stat_prefix: db\n", "listeners[0].local_ratelimit.token_bucket: missing required field"},
      {"      token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1s}\n",
       "listeners[0].local_ratelimit.stat_prefix: missing required field"},
      {"      stat_prefix: db\n      token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 0s}\n",
       "listeners[0].local_ratelimit.token_bucket.fill_interval: must be at least 1ms"},
      {"      stat_prefix: db\n      token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1s}\n"
       "      per_key: {source: header, header: x}\n",
       "listeners[0].local_ratelimit.per_key.source: expected client_ip"},
      {"      stat_prefix: db\n      token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1s}\n"
       "      response_headers: true\n",
       "listeners[0].local_ratelimit: unknown field 'response_headers'"},
  };
  for (const auto& c : cases) {
    auto r = config::loadString(listenerWith(c.body), "t.yaml");
    const std::string text = r.errorText();
    EXPECT_NE(text.find(c.where), std::string::npos) << c.body << "\n" << text;
    EXPECT_NE(text.find("t.yaml:"), std::string::npos) << text;
  }
}

TEST(L4LocalRateLimitConfigTest, MustComeBeforeTheTerminalFilter) {
  auto r = config::loadString(
      listenerWith("      stat_prefix: db\n      token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 1s}\n",
                   "    tcp_proxy: {cluster: c}\n"),
      "t.yaml");
  EXPECT_NE(r.errorText().find("listeners[0].local_ratelimit: network filter must come before the terminal filter"),
            std::string::npos)
      << r.errorText();
}

}  // namespace
}  // namespace sluice::filters::l4_ratelimit
