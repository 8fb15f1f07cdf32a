#pragma once
// One direction of an HTTP filter chain with stop/resume, shared by the
// request (decoder) and response (encoder) paths.
//
// Rules:
// - Headers go through filters in order until one returns StopIteration;
//   filters up to and including that one have "seen" the headers.
// - Body data goes through the filters that have seen the headers. A filter
//   returning StopIterationAndBuffer parks the data (the stream buffers it);
//   StopIterationNoBuffer means the filter took it. Data reaching a filter
//   that has not seen the headers yet is buffered there.
// - Trailers follow the same path after all buffered data.
// - resume(i) (continueDecoding/continueEncoding from filter i) moves parked
//   headers on from i+1, then the buffered data, then parked trailers.
// - Past the last filter, everything goes to the sink.
//
// Ops supplies the per-direction calls:
//   FilterHeadersStatus headers(size_t i, HeaderMap&, bool end_stream)
//   FilterDataStatus data(size_t i, net::Buffer&, bool end_stream)
//   FilterTrailersStatus trailers(size_t i, HeaderMap&)
//   void sinkHeaders(HeaderMap&, bool), sinkData(net::Buffer&, bool), sinkTrailers(HeaderMap&)
//   bool alive()  -- false once the stream ended (stop iterating at once)
//   void overLimit()  -- the buffered data passed `buffer_limit`

#include <cstddef>
#include <cstdint>

#include "proxy/http/filter.h"
#include "proxy/http/header_map.h"
#include "proxy/net/buffer.h"

namespace sluice::http {

template <class Ops>
class FilterIteration {
 public:
  FilterIteration(Ops& ops, size_t count, uint64_t buffer_limit)
      : ops_(ops), count_(count), buffer_limit_(buffer_limit) {}

  void headers(HeaderMap& h, bool end_stream) {
    headers_ = &h;
    headers_end_stream_ = end_stream;
    runHeaders(0);
  }

  void data(net::Buffer& d, bool end_stream) { runData(0, d, end_stream); }

  void trailers(HeaderMap& t) {
    trailers_ = &t;
    if (!parked()) runTrailers(trailers_from_);  // else after what is parked
  }

  // continueDecoding()/continueEncoding() from filter i.
  void resume(size_t i) {
    if (!headers_done_) {
      if (i + 1 != seen_) return;  // only the filter holding the headers may release them
      if (!runHeaders(seen_)) return;
    }
    if (parked()) {
      const bool released = i + 1 == resume_at_ || resume_at_ < seen_ || resume_at_ == count_;
      if (!released) return;
      net::Buffer pending;
      pending.move(buffered_);
      const bool eos = buffered_end_stream_;
      buffered_end_stream_ = false;
      parked_ = false;
      if (!runData(resume_at_, pending, eos)) return;
    }
    if (trailers_ && ops_.alive()) runTrailers(trailers_from_);
  }

  bool headersDone() const { return headers_done_; }
  const net::Buffer& buffered() const { return buffered_; }

 private:
  bool parked() const { return parked_; }

  // True when the headers reached the sink.
  bool runHeaders(size_t from) {
    for (size_t i = from; i < count_; ++i) {
      if (!ops_.alive()) return false;
      seen_ = i + 1;
      if (ops_.headers(i, *headers_, headers_end_stream_) == FilterHeadersStatus::StopIteration)
        return false;
    }
    if (!ops_.alive()) return false;
    headers_done_ = true;
    seen_ = count_;
    ops_.sinkHeaders(*headers_, headers_end_stream_);
    return true;
  }

  // True when the data reached the sink.
  bool runData(size_t from, net::Buffer& d, bool end_stream) {
    for (size_t i = from; i < count_; ++i) {
      if (!ops_.alive()) return false;
      if (i >= seen_) {  // this filter has not seen the headers yet
        park(i, d, end_stream);
        return false;
      }
      const auto st = ops_.data(i, d, end_stream);
      if (st == FilterDataStatus::StopIterationAndBuffer) {
        park(i + 1, d, end_stream);
        return false;
      }
      if (st == FilterDataStatus::StopIterationNoBuffer) return false;
      if (parked_ && resume_at_ == i + 1) {
        // The holder let go: what it parked goes first, then this chunk.
        net::Buffer joined;
        joined.move(buffered_);
        joined.move(d);
        d.move(joined);
        end_stream = end_stream || buffered_end_stream_;
        buffered_end_stream_ = false;
        parked_ = false;
      }
    }
    if (!ops_.alive()) return false;
    if (!headers_done_) {
      park(count_, d, end_stream);
      return false;
    }
    ops_.sinkData(d, end_stream);
    return true;
  }

  // Trailers follow the data: through the filters that have seen the
  // headers, waiting at the first one that has not.
  void runTrailers(size_t from) {
    for (size_t i = from; i < count_; ++i) {
      if (!ops_.alive()) return;
      if (i >= seen_) {
        trailers_from_ = i;
        return;
      }
      if (ops_.trailers(i, *trailers_) == FilterTrailersStatus::StopIteration) {
        trailers_from_ = i + 1;
        return;
      }
    }
    if (!ops_.alive() || !headers_done_) return;
    auto* t = trailers_;
    trailers_ = nullptr;
    ops_.sinkTrailers(*t);
  }

  void park(size_t at, net::Buffer& d, bool end_stream) {
    if (!parked_ || at < resume_at_) resume_at_ = at;
    parked_ = true;
    buffered_.move(d);
    buffered_end_stream_ = buffered_end_stream_ || end_stream;
    if (buffer_limit_ > 0 && buffered_.length() > buffer_limit_) ops_.overLimit();
  }

  Ops& ops_;
  size_t count_;
  uint64_t buffer_limit_;
  HeaderMap* headers_ = nullptr;
  bool headers_end_stream_ = false;
  bool headers_done_ = false;
  size_t seen_ = 0;  // filters [0, seen_) have seen the headers
  net::Buffer buffered_;
  bool parked_ = false;
  bool buffered_end_stream_ = false;
  size_t resume_at_ = 0;  // where parked data continues
  HeaderMap* trailers_ = nullptr;
  size_t trailers_from_ = 0;
};

}  // namespace sluice::http
