// A recorded watch body applied to the state: events, a bookmark, a 410
// ERROR event, malformed and dropped lines.

#include "control/kubernetes/resource_watch.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "control/kubernetes/watch_event.h"

namespace sluice::control::kubernetes {
namespace {

std::vector<std::string> recordedLines(const std::string& name) {
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/tests/unit/control/kubernetes/data/" + name);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

void listed(ClusterState& state) {
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/tests/unit/control/kubernetes/data/endpointslices.json");
  std::ostringstream s;
  s << in.rdbuf();
  const nlohmann::json list = nlohmann::json::parse(s.str());
  std::vector<nlohmann::json> items(list["items"].begin(), list["items"].end());
  state.replace("endpointslices", "", std::move(items));
}

TEST(WatchStream, EventsApplyAndMoveTheResourceVersionBookmarksMoveItOnly) {
  ClusterState state;
  listed(state);
  const auto lines = recordedLines("watch_endpointslices.jsonl");
  ASSERT_EQ(lines.size(), 4u);
  WatchStream stream(state, "endpointslices", "48213");
  EXPECT_EQ(stream.onLine(lines[0]), WatchStream::Outcome::Continue);  // MODIFIED
  EXPECT_EQ(stream.resourceVersion(), "48300");
  EXPECT_EQ(state.snapshot()["endpointslices"]["prod/backend-7xk2p"]["endpoints"].size(), 1u);
  const uint64_t before_bookmark = state.generation();
  EXPECT_EQ(stream.onLine(lines[1]), WatchStream::Outcome::Continue);  // BOOKMARK
  EXPECT_EQ(stream.resourceVersion(), "48350");
  EXPECT_EQ(state.generation(), before_bookmark);  // nothing changed
  EXPECT_EQ(state.snapshot()["endpointslices"].size(), 3u);
  EXPECT_EQ(stream.onLine(lines[2]), WatchStream::Outcome::Continue);  // DELETED
  EXPECT_EQ(stream.resourceVersion(), "48400");
  EXPECT_EQ(state.snapshot()["endpointslices"].count("prod/web-fqdn"), 0u);
  EXPECT_EQ(stream.events(), 2u);
}

TEST(WatchStream, AnErrorEventWithStatus410AsksForARelistAndChangesNothing) {
  ClusterState state;
  listed(state);
  const auto lines = recordedLines("watch_endpointslices.jsonl");
  WatchStream stream(state, "endpointslices", "48213");
  const uint64_t g = state.generation();
  EXPECT_EQ(stream.onLine(lines[3]), WatchStream::Outcome::Relist);
  EXPECT_NE(stream.error().find("too old resource version"), std::string::npos);
  EXPECT_EQ(stream.resourceVersion(), "48213");
  EXPECT_EQ(state.generation(), g);
}

TEST(WatchStream, OtherErrorsAndMalformedLinesFailTheWatchAndKeepTheState) {
  ClusterState state;
  listed(state);
  WatchStream stream(state, "endpointslices", "48213");
  const uint64_t g = state.generation();
  EXPECT_EQ(stream.onLine(R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},)"
                          R"("status":"Failure","message":"internal error","reason":"InternalError","code":500}})"),
            WatchStream::Outcome::Failed);
  EXPECT_EQ(stream.error(), "ERROR event: internal error");
  EXPECT_EQ(stream.onLine(R"({"type":"ADDED","object":{"metadata":{"name":"x")"), WatchStream::Outcome::Failed);
  EXPECT_EQ(stream.onLine(R"({"type":"RESYNC","object":{}})"), WatchStream::Outcome::Failed);
  EXPECT_EQ(state.generation(), g);
  EXPECT_EQ(state.snapshot()["endpointslices"].size(), 3u);
}

TEST(LineSplitter, LinesSpanChunksAndChunksHoldManyLines) {
  LineSplitter s;
  std::vector<std::string> got;
  auto take = [&](std::string_view l) { got.emplace_back(l); };
  s.feed("{\"a\":1}\n{\"b\"", take);
  s.feed(":2}\n{\"c\":3}\n{\"d", take);
  EXPECT_EQ(got, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}));
  EXPECT_EQ(s.rest(), "{\"d");  // a dropped watch's torn line is never applied
}

TEST(ClusterState, ANamespacedRelistReplacesOnlyThatNamespace) {
  ClusterState state;
  state.replace("pods", "a", {nlohmann::json::parse(R"({"metadata":{"namespace":"a","name":"p"}})")});
  state.replace("pods", "b", {nlohmann::json::parse(R"({"metadata":{"namespace":"b","name":"p"}})")});
  state.replace("pods", "a", {});
  const auto snap = state.snapshot();
  EXPECT_EQ(snap.at("pods").size(), 1u);
  EXPECT_EQ(snap.at("pods").count("b/p"), 1u);
}

TEST(Backoff, DoublesWithJitterUpToTheCapAndResets) {
  Backoff b(std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
  for (int64_t want : {100, 200, 400, 800, 1000, 1000}) {
    const auto d = b.next().count();
    EXPECT_GE(d, want / 2);
    EXPECT_LE(d, want);
  }
  b.reset();
  EXPECT_LE(b.next().count(), 100);
}

}  // namespace
}  // namespace sluice::control::kubernetes
