// fault config: inline YAML -> reader -> Spec or errors naming their path.
#include <gtest/gtest.h>

#include "config/yaml_reader.h"
#include "filters/http/fault/config.h"

namespace sluice::filters::fault {
namespace {

std::shared_ptr<const Spec> parse(const std::string& yaml, config::ParseContext& ctx, bool per_route = false) {
  const YAML::Node node = YAML::Load(yaml);
  config::MapReader r(ctx, node, "fault");
  return std::static_pointer_cast<const Spec>(per_route ? reader().readPerRoute(r) : reader().read(r));
}

TEST(FaultConfigTest, RegisteredByName) { EXPECT_EQ(config::findHttpFilterReader("fault"), &reader()); }

TEST(FaultConfigTest, ParsesDelayAndAbort) {
  config::ParseContext ctx("t.yaml");
  auto cfg = parse("delay: {fixed_delay: 20ms, percentage: 10}\nabort: {http_status: 503, percentage: 5}", ctx);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  EXPECT_EQ(cfg->delay, std::chrono::milliseconds(20));
  EXPECT_EQ(cfg->delay_percentage, 10u);
  EXPECT_EQ(cfg->abort_status, 503u);
  EXPECT_EQ(cfg->abort_percentage, 5u);
  EXPECT_EQ(cfg->toJson()["abort"]["http_status"], 503);
}

// A listener's empty fault injects nothing (it holds its routes' faults); a
// route's must say what it injects.
TEST(FaultConfigTest, EmptyIsInertAtTheListenerAndRefusedOnARoute) {
  config::ParseContext listener("t.yaml");
  auto inert = parse("{}", listener);
  ASSERT_TRUE(listener.ok()) << listener.str();
  EXPECT_EQ(inert->abort_status, 0u);
  EXPECT_EQ(inert->delay.count(), 0);
  EXPECT_TRUE(inert->toJson().empty());
  config::ParseContext route("t.yaml");
  parse("{}", route, /*per_route=*/true);
  EXPECT_NE(route.str().find("a route's fault needs a delay, an abort, or both"), std::string::npos) << route.str();
  config::ParseContext ok_route("t.yaml");
  parse("abort: {http_status: 503, percentage: 100}", ok_route, /*per_route=*/true);
  EXPECT_TRUE(ok_route.ok()) << ok_route.str();
}

TEST(FaultConfigTest, RejectsOutOfRangeAndUnknown) {
  config::ParseContext bad("t.yaml");
  parse("abort: {http_status: 700, percentage: 101}\ndelai: {}", bad);
  const std::string text = bad.str();
  EXPECT_NE(text.find("fault.abort.http_status"), std::string::npos) << text;
  EXPECT_NE(text.find("fault.abort.percentage"), std::string::npos) << text;
  EXPECT_NE(text.find("unknown field 'delai'"), std::string::npos) << text;
}

}  // namespace
}  // namespace sluice::filters::fault
