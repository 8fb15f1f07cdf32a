// ${NAME} in config values: substituted before fields are read, errors name
// the variable with file:line:col and the field path, `$${` escapes.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "config/loader.h"

namespace sluice::config {
namespace {

// Variables set for one test, removed after it.
class EnvSubstitutionTest : public ::testing::Test {
 protected:
  void set(const std::string& name, const std::string& value) {
    ::setenv(name.c_str(), value.c_str(), 1);
    names_.push_back(name);
  }
  void TearDown() override {
    for (const auto& n : names_) ::unsetenv(n.c_str());
  }
  std::vector<std::string> errorsOf(const std::string& yaml) {
    const LoadResult r = loadString(yaml, "t.yaml");
    EXPECT_EQ(r.config == nullptr, !r.errors.empty());
    std::vector<std::string> out;
    for (const auto& e : r.errors) out.push_back(e.str());
    return out;
  }
  std::vector<std::string> names_;
};

TEST_F(EnvSubstitutionTest, SubstitutesWholeAndPartialValues) {
  set("SLUICE_TEST_PORT", "18081");
  set("SLUICE_TEST_HOST", "127.0.0.1");
  set("SLUICE_TEST_CLUSTER", "backends");
  const LoadResult r = loadString(R"(workers: 2
listeners:
  - name: demo
    address: "${SLUICE_TEST_HOST}:10000"
    tcp_proxy:
      cluster: ${SLUICE_TEST_CLUSTER}
clusters:
  - name: backends
    endpoints:
      - address: ${SLUICE_TEST_HOST}:${SLUICE_TEST_PORT}
)",
                                  "t.yaml");
  ASSERT_TRUE(r.errors.empty()) << r.errorText();
  EXPECT_EQ(r.config->listeners.at(0).address.str(), "127.0.0.1:10000");
  EXPECT_EQ(r.config->endpointsOf(r.config->clusters.at(0)).at(0).address.str(), "127.0.0.1:18081");
  EXPECT_EQ(r.config->clusters.at(0).name, "backends");
}

TEST_F(EnvSubstitutionTest, UnsetVariableIsAnErrorNamingItWithPosition) {
  ::unsetenv("SLUICE_TEST_UNSET_A");
  ::unsetenv("SLUICE_TEST_UNSET_B");
  const auto errors = errorsOf(R"(listeners:
  - name: demo
    address: ${SLUICE_TEST_UNSET_A}
    tcp_proxy:
      cluster: x-${SLUICE_TEST_UNSET_B}
clusters: []
)");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "t.yaml:3:14: listeners[0].address: environment variable 'SLUICE_TEST_UNSET_A' is not set");
  EXPECT_EQ(errors[1],
            "t.yaml:5:16: listeners[0].tcp_proxy.cluster: environment variable 'SLUICE_TEST_UNSET_B' is not set");
}

TEST_F(EnvSubstitutionTest, MalformedReferenceIsAnError) {
  const auto errors = errorsOf("workers: ${NOT CLOSED\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("t.yaml:1:10: workers: malformed environment reference"), std::string::npos) << errors[0];
  EXPECT_EQ(errorsOf("workers: ${1BAD}\n").size(), 1u);
  EXPECT_EQ(errorsOf("workers: ${}\n").size(), 1u);
}

TEST_F(EnvSubstitutionTest, DollarDollarBraceIsALiteralAndKeysAreNotSubstituted) {
  YAML::Node root = YAML::Load("a: $${HOME}\n${K}: v\nb: cost $5\nc: [x, '${SLUICE_TEST_V}']\n");
  set("SLUICE_TEST_V", "value");
  set("K", "kk");
  ParseContext ctx("t.yaml");
  ASSERT_TRUE(substituteEnv(root, ctx)) << ctx.str();
  EXPECT_EQ(root["a"].Scalar(), "${HOME}");
  EXPECT_EQ(root["${K}"].Scalar(), "v");
  EXPECT_EQ(root["b"].Scalar(), "cost $5");
  EXPECT_EQ(root["c"][1].Scalar(), "value");
}

TEST_F(EnvSubstitutionTest, AliasIsSubstitutedOnceAndValueIsNotReparsed) {
  // The value holds YAML syntax and an escape: it stays one literal string.
  set("SLUICE_TEST_V", "{x: 1} $${Y}");
  YAML::Node root = YAML::Load("a: &anchor ${SLUICE_TEST_V}\nb: *anchor\n");
  ParseContext ctx("t.yaml");
  ASSERT_TRUE(substituteEnv(root, ctx)) << ctx.str();
  EXPECT_EQ(root["a"].Scalar(), "{x: 1} $${Y}");
  EXPECT_EQ(root["b"].Scalar(), "{x: 1} $${Y}");
}

TEST_F(EnvSubstitutionTest, InjectedLookup) {
  YAML::Node root = YAML::Load("a: ${X}-${Y}\n");
  ParseContext ctx("t.yaml");
  auto lookup = [](const char* name, void*) -> const char* { return std::string(name) == "X" ? "1" : nullptr; };
  EXPECT_FALSE(substituteEnv(root, ctx, lookup));
  ASSERT_EQ(ctx.errors().size(), 1u);
  EXPECT_EQ(ctx.errors()[0].str(), "t.yaml:1:4: a: environment variable 'Y' is not set");
}

}  // namespace
}  // namespace sluice::config
