#include "filters/http/ratelimit/filter.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>

#include <charconv>
#include <cstring>

#include "proxy/event/loop.h"
#include "proxy/stats/named_counters.h"

namespace sluice::filters::global_ratelimit {

using sluice::http::FilterHeadersStatus;
using sluice::http::HeaderMap;
using sluice::http::ResponseFlag;

namespace {

// The Redis key of one request: on the stack unless it is unusually long.
class KeyBuffer {
 public:
  void append(std::string_view s) {
    if (heap_.empty() && len_ + s.size() <= sizeof(buf_)) {
      std::memcpy(buf_ + len_, s.data(), s.size());
      len_ += s.size();
      return;
    }
    if (heap_.empty()) heap_.assign(buf_, len_);
    heap_.append(s);
  }
  // A value from the request: '%', '|' and '=' are %-escaped, so that no
  // header value can spell another descriptor and share (or spend) its budget.
  void appendValue(std::string_view v) {
    size_t from = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      const char c = v[i];
      if (c != '%' && c != '|' && c != '=') continue;
      append(v.substr(from, i - from));
      static constexpr char kHex[] = "0123456789ABCDEF";
      const char esc[3] = {'%', kHex[static_cast<unsigned char>(c) >> 4], kHex[c & 0xf]};
      append({esc, 3});
      from = i + 1;
    }
    append(v.substr(from));
  }
  std::string_view view() const { return heap_.empty() ? std::string_view(buf_, len_) : std::string_view(heap_); }

 private:
  char buf_[256];
  size_t len_ = 0;
  std::string heap_;
};

// Appends the descriptor's value; false when the request has none (the
// header is absent, the peer is not an IP socket): the limit does not apply.
bool appendValue(KeyBuffer& key, const Descriptor& d, const HeaderMap& headers, const sluice::http::StreamInfo& info) {
  switch (d.kind) {
    case Descriptor::Kind::ClientIp: {
      const ip::Address& a = info.downstream_address;
      char ip[INET6_ADDRSTRLEN];
      const void* raw = nullptr;
      if (a.family() == AF_INET) raw = &reinterpret_cast<const sockaddr_in*>(a.sockAddr())->sin_addr;
      if (a.family() == AF_INET6) raw = &reinterpret_cast<const sockaddr_in6*>(a.sockAddr())->sin6_addr;
      if (raw == nullptr || inet_ntop(a.family(), raw, ip, sizeof(ip)) == nullptr) return false;
      key.append(ip);
      return true;
    }
    case Descriptor::Kind::Header: {
      const auto v = headers.get(d.header);
      if (!v) return false;
      key.appendValue(*v);
      return true;
    }
    case Descriptor::Kind::Path: {
      const std::string_view path = headers.path();
      key.appendValue(path.substr(0, path.find('?')));
      return true;
    }
    case Descriptor::Kind::Generic:
      key.append(d.value);
      return true;
  }
  return false;
}

// The script's {allowed, remaining, retry_after_ms, reset_ms}.
bool parseReply(const redisReply* r, int64_t (&out)[4]) {
  if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements < 4) return false;
  for (size_t i = 0; i < 4; ++i) {
    if (r->element[i]->type != REDIS_REPLY_INTEGER) return false;
    out[i] = r->element[i]->integer;
  }
  return true;
}

// Whole seconds for retry-after / x-ratelimit-reset, rounded up.
std::string_view seconds(int64_t ms, char (&buf)[24], int64_t min) {
  const int64_t s = std::max(min, (ms + 999) / 1000);
  const auto res = std::to_chars(buf, buf + sizeof(buf), s);
  return {buf, static_cast<size_t>(res.ptr - buf)};
}

}  // namespace

FilterHeadersStatus RateLimitFilter::decodeHeaders(HeaderMap& headers, bool) {
  active_ = &config_;
  if (const auto* route_cfg = decoder_callbacks_->perFilterConfig(kFilterName))
    active_ = static_cast<const RuntimeConfig*>(route_cfg);
  const Spec& spec = active_->spec;
  if (spec.disabled) return FilterHeadersStatus::Continue;

  KeyBuffer key;
  key.append(spec.domain);
  for (size_t i = 0; i < spec.descriptors.size(); ++i) {
    key.append(active_->key_prefixes[i]);
    if (!appendValue(key, spec.descriptors[i], headers, decoder_callbacks_->streamInfo()))
      return FilterHeadersStatus::Continue;
  }
  redis::RedisClient& client = redis::threadClient(decoder_callbacks_->loop(), spec.redis_address);
  const std::string_view keys[] = {key.view()};
  const std::string_view args[] = {active_->interval_arg, active_->tolerance_arg};
  // hiredis copies the arguments into its output buffer: the stack key may go.
  if (client.eval(*this, gcraScript(), keys, args, spec.redis_timeout)) return FilterHeadersStatus::StopIteration;
  return failOpen() ? FilterHeadersStatus::Continue : FilterHeadersStatus::StopIteration;
}

bool RateLimitFilter::failOpen() {
  active_->error->inc();
  if (active_->spec.failure_mode == Spec::FailureMode::Allow) {
    active_->failure_mode_allowed->inc();
    return true;
  }
  decoder_callbacks_->sendLocalReply(503, "rate limit service unavailable\n", ResponseFlag::LocalReply,
                                     "ratelimit_redis_error");
  return false;
}

void RateLimitFilter::onReply(const redis::RedisResult& result) {
  int64_t v[4];
  if (!result.ok() || !parseReply(result.reply, v)) {
    if (failOpen()) decoder_callbacks_->continueDecoding();
    return;
  }
  if (v[0] == 1) {
    active_->ok->inc();
    decoder_callbacks_->continueDecoding();
    return;
  }
  active_->over_limit->inc();
  over_limit_ = true;
  retry_after_ms_ = v[2];
  reset_ms_ = v[3];
  decoder_callbacks_->sendLocalReply(429, "rate limited\n", ResponseFlag::RateLimited, "ratelimit_over_limit");
}

FilterHeadersStatus RateLimitFilter::encodeHeaders(HeaderMap& headers, bool) {
  if (!over_limit_) return FilterHeadersStatus::Continue;
  char buf[24];
  headers.set("retry-after", seconds(retry_after_ms_, buf, 1));
  headers.set("x-ratelimit-limit", active_->limit_value);
  headers.set("x-ratelimit-remaining", "0");
  headers.set("x-ratelimit-reset", seconds(reset_ms_, buf, 0));
  return FilterHeadersStatus::Continue;
}

void RateLimitFilter::onDestroy() { cancel(); }

}  // namespace sluice::filters::global_ratelimit
