// FilterIteration: stop/resume semantics of one direction of a filter chain.
#include "proxy/http/filter_iteration.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::http {
namespace {

// Each fake filter returns scripted statuses and records what it saw.
struct Ops {
  std::vector<FilterHeadersStatus> on_headers;
  std::vector<FilterDataStatus> on_data;
  std::vector<FilterTrailersStatus> on_trailers;
  std::vector<std::string> log;
  std::string sunk;
  bool sink_eos = false;
  bool sunk_headers = false;
  bool sunk_trailers = false;
  bool over = false;
  bool is_alive = true;

  FilterHeadersStatus headers(size_t i, HeaderMap&, bool eos) {
    log.push_back("h" + std::to_string(i) + (eos ? "e" : ""));
    return on_headers[i];
  }
  FilterDataStatus data(size_t i, net::Buffer& d, bool eos) {
    log.push_back("d" + std::to_string(i) + ":" + d.toString() + (eos ? "e" : ""));
    return on_data[i];
  }
  FilterTrailersStatus trailers(size_t i, HeaderMap&) {
    log.push_back("t" + std::to_string(i));
    return on_trailers[i];
  }
  void sinkHeaders(HeaderMap&, bool) { sunk_headers = true; }
  void sinkData(net::Buffer& d, bool eos) {
    sunk += d.toString();
    d.clear();
    sink_eos = sink_eos || eos;
  }
  void sinkTrailers(HeaderMap&) { sunk_trailers = true; }
  bool alive() const { return is_alive; }
  void overLimit() { over = true; }
};

Ops make(size_t n) {
  Ops o;
  o.on_headers.assign(n, FilterHeadersStatus::Continue);
  o.on_data.assign(n, FilterDataStatus::Continue);
  o.on_trailers.assign(n, FilterTrailersStatus::Continue);
  return o;
}

net::Buffer buf(const std::string& s) {
  net::Buffer b;
  b.add(s);
  return b;
}

TEST(FilterIterationTest, EverythingContinuesToTheSink) {
  Ops ops = make(2);
  FilterIteration<Ops> it(ops, 2, 0);
  HeaderMap h, t;
  it.headers(h, false);
  auto b = buf("ab");
  it.data(b, false);
  it.trailers(t);
  EXPECT_EQ(ops.log, (std::vector<std::string>{"h0", "h1", "d0:ab", "d1:ab", "t0", "t1"}));
  EXPECT_TRUE(ops.sunk_headers);
  EXPECT_EQ(ops.sunk, "ab");
  EXPECT_TRUE(ops.sunk_trailers);
}

TEST(FilterIterationTest, StoppedHeadersParkDataUntilResume) {
  Ops ops = make(3);
  ops.on_headers[1] = FilterHeadersStatus::StopIteration;
  FilterIteration<Ops> it(ops, 3, 0);
  HeaderMap h, t;
  it.headers(h, false);
  auto b1 = buf("x");
  it.data(b1, false);
  auto b2 = buf("y");
  it.data(b2, true);
  it.trailers(t);
  // Filters 0 and 1 saw headers and data; filter 2 nothing yet.
  EXPECT_EQ(ops.log, (std::vector<std::string>{"h0", "h1", "d0:x", "d1:x", "d0:ye", "d1:ye"}));
  EXPECT_FALSE(ops.sunk_headers);
  EXPECT_EQ(ops.sunk, "");
  ops.log.clear();
  it.resume(1);
  EXPECT_EQ(ops.log, (std::vector<std::string>{"h2", "d2:xye", "t0", "t1", "t2"}));
  EXPECT_TRUE(ops.sunk_headers);
  EXPECT_EQ(ops.sunk, "xy");
  EXPECT_TRUE(ops.sink_eos);
  EXPECT_TRUE(ops.sunk_trailers);
}

TEST(FilterIterationTest, ResumeFromAFilterThatDidNotStopIsIgnored) {
  Ops ops = make(2);
  ops.on_headers[1] = FilterHeadersStatus::StopIteration;
  FilterIteration<Ops> it(ops, 2, 0);
  HeaderMap h;
  it.headers(h, true);
  it.resume(0);
  EXPECT_FALSE(ops.sunk_headers);
  it.resume(1);
  EXPECT_TRUE(ops.sunk_headers);
}

TEST(FilterIterationTest, StopIterationAndBufferAccumulatesThenFlushesInOrder) {
  Ops ops = make(2);
  ops.on_data[0] = FilterDataStatus::StopIterationAndBuffer;
  FilterIteration<Ops> it(ops, 2, 0);
  HeaderMap h;
  it.headers(h, false);
  auto b1 = buf("12");
  it.data(b1, false);
  auto b2 = buf("34");
  it.data(b2, false);
  EXPECT_EQ(it.buffered().toString(), "1234");
  EXPECT_EQ(ops.sunk, "");
  ops.on_data[0] = FilterDataStatus::Continue;  // the filter is satisfied with the last chunk
  auto b3 = buf("5");
  it.data(b3, true);
  EXPECT_EQ(ops.sunk, "12345");
  EXPECT_TRUE(ops.sink_eos);
}

TEST(FilterIterationTest, StopIterationNoBufferMeansTheFilterTookIt) {
  Ops ops = make(2);
  ops.on_data[0] = FilterDataStatus::StopIterationNoBuffer;
  FilterIteration<Ops> it(ops, 2, 0);
  HeaderMap h;
  it.headers(h, false);
  auto b = buf("z");
  it.data(b, true);
  EXPECT_EQ(ops.sunk, "");
  EXPECT_EQ(ops.log.back(), "d0:ze");
}

TEST(FilterIterationTest, BufferLimitIsReported) {
  Ops ops = make(1);
  ops.on_headers[0] = FilterHeadersStatus::StopIteration;
  FilterIteration<Ops> it(ops, 1, 4);
  HeaderMap h;
  it.headers(h, false);
  auto b = buf("12345");
  it.data(b, false);
  EXPECT_TRUE(ops.over);
}

TEST(FilterIterationTest, DeadStreamStopsIteration) {
  Ops ops = make(3);
  FilterIteration<Ops> it(ops, 3, 0);
  ops.is_alive = false;
  HeaderMap h;
  it.headers(h, true);
  EXPECT_TRUE(ops.log.empty());
  EXPECT_FALSE(ops.sunk_headers);
}

}  // namespace
}  // namespace sluice::http
