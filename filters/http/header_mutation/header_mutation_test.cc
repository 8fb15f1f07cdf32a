// header_mutation: YAML -> Spec -> runtime config, and both directions applied.
#include "filters/http/header_mutation/config.h"
#include "filters/http/header_mutation/filter.h"

#include <gtest/gtest.h>

#include "config/yaml_reader.h"

namespace sluice::filters::header_mutation {
namespace {

std::shared_ptr<const HeaderMutationConfig> parse(const std::string& yaml, config::ParseContext& ctx) {
  const YAML::Node node = YAML::Load(yaml);
  config::MapReader r(ctx, node, "header_mutation");
  const auto spec = reader().read(r);
  return std::static_pointer_cast<const HeaderMutationConfig>(factory().build(*spec));
}

TEST(HeaderMutationTest, RegisteredByNameOnBothHalves) {
  EXPECT_EQ(config::findHttpFilterReader("header_mutation"), &reader());
  EXPECT_EQ(sluice::http::findHttpFilter("header_mutation"), &factory());
}

TEST(HeaderMutationTest, AppliesRequestAndResponseMutations) {
  config::ParseContext ctx("t.yaml");
  auto cfg = parse(R"(request_headers_to_add: [{name: x-env, value: prod}, {name: x-tag, value: b, append: true}]
request_headers_to_remove: [x-internal]
response_headers_to_add: [{name: x-served-by, value: sluice}]
response_headers_to_remove: [server])",
                   ctx);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  HeaderMutationFilter f(*cfg);
  sluice::http::HeaderMap req;
  req.add("x-env", "dev");
  req.add("x-tag", "a");
  req.add("x-internal", "secret");
  f.decodeHeaders(req, true);
  EXPECT_EQ(req.get("x-env"), "prod");  // replaced
  size_t tags = 0;
  req.forEach([&](std::string_view n, std::string_view) { tags += n == "x-tag"; });
  EXPECT_EQ(tags, 2u);  // appended
  EXPECT_FALSE(req.has("x-internal"));

  sluice::http::HeaderMap resp;
  resp.setStatus(200);
  resp.add("server", "upstream");
  f.encodeHeaders(resp, true);
  EXPECT_EQ(resp.get("x-served-by"), "sluice");
  EXPECT_FALSE(resp.has("server"));
}

TEST(HeaderMutationTest, UnknownKeyAndBadNameAreErrors) {
  config::ParseContext ctx("t.yaml");
  parse("request_headers_to_add: [{name: \"bad name\", value: x}]\nrequest_header_to_add: []", ctx);
  const std::string text = ctx.str();
  EXPECT_NE(text.find("invalid header name"), std::string::npos) << text;
  EXPECT_NE(text.find("unknown field 'request_header_to_add'"), std::string::npos) << text;
}

}  // namespace
}  // namespace sluice::filters::header_mutation
