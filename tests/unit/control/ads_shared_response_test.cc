// A response body serialized once and sent on many streams: every stream's
// bytes start with the very same slice, and body plus nonce parse back as
// the response with that stream's nonce; the served snapshot hands streams
// asking for the same key the same body, built once while any holds it.

#include "control/ads_shared_response.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/ads_served_snapshot.h"
#include "envoy/service/discovery/v3/discovery.pb.h"
#include "tests/unit/control/ads_test_snapshots.h"

namespace sluice::control {
namespace {

namespace discovery = envoy::service::discovery::v3;
using google::protobuf::util::MessageDifferencer;
using testing::kCds;

std::vector<grpc::Slice> slices(const grpc::ByteBuffer& b) {
  std::vector<grpc::Slice> out;
  EXPECT_TRUE(b.Dump(&out).ok());
  return out;
}

template <class Message>
Message parsed(const grpc::ByteBuffer& b) {
  std::string bytes;
  for (const auto& s : slices(b)) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  Message m;
  EXPECT_TRUE(m.ParseFromString(bytes));
  return m;
}

discovery::DiscoveryResponse clusters() {
  discovery::DiscoveryResponse r;
  r.set_type_url(kCds);
  r.set_version_info("c7");
  *r.add_resources() = testing::body(kCds, "a", "1");
  *r.add_resources() = testing::body(kCds, "b", "1");
  return r;
}

TEST(SharedResponse, TwoStreamsShareTheBodyAndEachParsesWithItsOwnNonce) {
  const discovery::DiscoveryResponse r = clusters();
  const SharedResponse shared(r, kCds, "c7");
  EXPECT_EQ(shared.typeUrl(), kCds);
  EXPECT_EQ(shared.version(), "c7");
  EXPECT_EQ(shared.body().size(), r.ByteSizeLong());

  // A nonce long enough for a two-byte length, and an empty one.
  const std::string long_nonce(200, 'n');
  const grpc::ByteBuffer one = shared.withNonce("1"), two = shared.withNonce(long_nonce), none = shared.withNonce("");
  for (const auto* b : {&one, &two, &none}) {
    const auto s = slices(*b);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].begin(), shared.body().begin()) << "the body is referenced, not copied";
  }
  const std::vector<std::pair<const grpc::ByteBuffer*, std::string>> sent = {
      {&one, "1"}, {&two, long_nonce}, {&none, ""}};
  for (const auto& [bytes, nonce] : sent) {
    discovery::DiscoveryResponse want = r;
    want.set_nonce(nonce);
    const auto got = parsed<discovery::DiscoveryResponse>(*bytes);
    EXPECT_TRUE(MessageDifferencer::Equals(got, want)) << got.DebugString();
  }
}

TEST(SharedResponse, DeltaResponsesTakeTheNonceTheSameWay) {
  discovery::DeltaDiscoveryResponse r;
  r.set_type_url(kCds);
  r.set_system_version_info("c7");
  auto* res = r.add_resources();
  res->set_name("a");
  res->set_version("1");
  *res->mutable_resource() = testing::body(kCds, "a", "1");
  r.add_removed_resources("b");
  const SharedResponse shared(r, kCds, "c7");
  discovery::DeltaDiscoveryResponse want = r;
  want.set_nonce("42");
  EXPECT_TRUE(MessageDifferencer::Equals(parsed<discovery::DeltaDiscoveryResponse>(shared.withNonce("42")), want));
}

TEST(ServedSnapshotResponses, OneBodyPerKeyWhileAStreamHoldsIt) {
  const ServedSnapshot served(testing::build(testing::v1()));
  int builds = 0;
  auto build = [&] {
    ++builds;
    return std::make_shared<const SharedResponse>(clusters(), kCds, "c7");
  };
  std::string key, other;
  ServedSnapshot::appendKeyPart(key, kCds);
  ServedSnapshot::appendKeyPart(key, "*");
  ServedSnapshot::appendKeyPart(other, kCds);
  ServedSnapshot::appendKeyPart(other, "a");

  auto first = served.response(key, build);
  auto second = served.response(key, build);
  EXPECT_EQ(builds, 1);
  EXPECT_EQ(first.get(), second.get());
  auto third = served.response(other, build);
  EXPECT_EQ(builds, 2);
  EXPECT_NE(third.get(), first.get());

  // Once no stream holds it, the cache does not keep it alive.
  first.reset();
  second.reset();
  served.response(key, build);
  EXPECT_EQ(builds, 3);
}

TEST(ServedSnapshotResponses, KeyPartsAreDelimited) {
  std::string ab, a_b;
  ServedSnapshot::appendKeyPart(ab, "ab");
  ServedSnapshot::appendKeyPart(a_b, "a");
  ServedSnapshot::appendKeyPart(a_b, "b");
  EXPECT_NE(ab, a_b);
}

}  // namespace
}  // namespace sluice::control
