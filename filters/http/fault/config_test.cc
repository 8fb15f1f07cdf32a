// fault config: inline YAML -> reader -> Spec or errors naming their path.
#include <gtest/gtest.h>

#include "config/yaml_reader.h"
#include "filters/http/fault/config.h"

namespace sluice::filters::fault {
namespace {

std::shared_ptr<const Spec> parse(const std::string& yaml, config::ParseContext& ctx) {
  const YAML::Node node = YAML::Load(yaml);
  config::MapReader r(ctx, node, "fault");
  return std::static_pointer_cast<const Spec>(reader().read(r));
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

TEST(FaultConfigTest, RejectsEmptyOutOfRangeAndUnknown) {
  config::ParseContext empty("t.yaml");
  parse("{}", empty);
  EXPECT_FALSE(empty.ok());
  config::ParseContext bad("t.yaml");
  parse("abort: {http_status: 700, percentage: 101}\ndelai: {}", bad);
  const std::string text = bad.str();
  EXPECT_NE(text.find("fault.abort.http_status"), std::string::npos) << text;
  EXPECT_NE(text.find("fault.abort.percentage"), std::string::npos) << text;
  EXPECT_NE(text.find("unknown field 'delai'"), std::string::npos) << text;
}

}  // namespace
}  // namespace sluice::filters::fault
