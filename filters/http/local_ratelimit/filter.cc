#include "filters/http/local_ratelimit/filter.h"

#include <algorithm>
#include <charconv>

#include "proxy/event/loop.h"
#include "proxy/http/route_config.h"

namespace sluice::filters::local_ratelimit {

using sluice::http::FilterHeadersStatus;
using sluice::http::HeaderMap;

namespace {

// Whole seconds, rounded up, at least 1: a client told "0" would retry at once.
uint64_t ceilSeconds(event::Duration d) {
  const auto ms = static_cast<uint64_t>(std::max<int64_t>(d.count(), 1));
  return (ms + 999) / 1000;
}

// Formats into a stack buffer: the header map copies the bytes into its arena.
void addNumber(HeaderMap& h, std::string_view name, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;
  h.set(name, std::string_view(buf, static_cast<size_t>(end - buf)));
}

}  // namespace

uint64_t LocalRateLimitFilter::keyHash(const RuntimeConfig& cfg, const HeaderMap& headers) {
  using KeySource = config::LocalLimitSpec::KeySource;
  const auto& spec = cfg.spec.limit;
  switch (spec.key_source) {
    case KeySource::ClientIp:
      // The stream's copy of the connection's peer address (the same value
      // as downstreamConnection().peerAddress()).
      return sluice::ratelimit::hashIp(decoder_callbacks_->streamInfo().downstream_address);
    case KeySource::Path:
      return sluice::ratelimit::hashKey(sluice::http::pathWithoutQuery(headers.path()));
    case KeySource::Header:
      // Requests without the header share the bucket of the empty value.
      return sluice::ratelimit::hashKey(headers.get(spec.key_header).value_or(std::string_view()));
    case KeySource::None:
      break;
  }
  return 0;
}

FilterHeadersStatus LocalRateLimitFilter::decodeHeaders(HeaderMap& headers, bool) {
  const auto* cfg = static_cast<const RuntimeConfig*>(decoder_callbacks_->perFilterConfig(kFilterName));
  if (cfg == nullptr) cfg = &listener_config_;
  if (!cfg->limiter.enabled()) return FilterHeadersStatus::Continue;

  bool table_full = false;
  result_ = cfg->limiter.take(keyHash(*cfg, headers), decoder_callbacks_->loop().now(), &table_full);
  decided_by_ = cfg;
  if (table_full) cfg->key_table_full->inc();
  if (result_.allowed) {
    cfg->ok->inc();
    return FilterHeadersStatus::Continue;
  }
  if (cfg->spec.shadow) {
    cfg->shadow_limited->inc();
    return FilterHeadersStatus::Continue;
  }
  cfg->limited->inc();
  limited_ = true;  // before the reply: it runs through encodeHeaders below at once
  decoder_callbacks_->sendLocalReply(429, "local_rate_limited\n", sluice::http::ResponseFlag::RateLimited,
                                     "local_rate_limited");
  return FilterHeadersStatus::StopIteration;
}

FilterHeadersStatus LocalRateLimitFilter::encodeHeaders(HeaderMap& headers, bool) {
  if (decided_by_ == nullptr || !(limited_ || decided_by_->spec.response_headers)) return FilterHeadersStatus::Continue;
  const uint64_t reset = ceilSeconds(result_.reset_after);
  headers.set("x-ratelimit-limit", decided_by_->limit_value);
  addNumber(headers, "x-ratelimit-remaining", result_.remaining);
  addNumber(headers, "x-ratelimit-reset", reset);
  if (limited_) addNumber(headers, "retry-after", reset);
  return FilterHeadersStatus::Continue;
}

}  // namespace sluice::filters::local_ratelimit
