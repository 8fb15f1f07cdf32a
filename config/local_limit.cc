#include "config/local_limit.h"

#include <algorithm>
#include <cctype>

#include "config/config_json.h"
#include "config/yaml_reader.h"

namespace sluice::config {
namespace {

using KeySource = LocalLimitSpec::KeySource;

void readTokenBucket(MapReader& parent, LocalLimitSpec& spec) {
  if (!parent.has("token_bucket")) return;
  MapReader r(parent.ctx(), parent.child("token_bucket"), parent.childPath("token_bucket"));
  if (!r.isMap()) return;  // reported by the reader
  TokenBucketSpec p;
  r.uint32("max_tokens", p.max_tokens, 1, TokenBucketSpec::kMaxTokens, /*required=*/true);
  r.uint32("tokens_per_fill", p.tokens_per_fill, 1, TokenBucketSpec::kMaxTokens, /*required=*/true);
  r.duration("fill_interval", p.fill_interval, /*required=*/true);
  // Refill is computed on each take, not driven by a timer, so short
  // intervals cost nothing; 1ms is the resolution of durations.
  if (r.has("fill_interval") && p.fill_interval < Duration(1))
    r.ctx().error(r.locOf("fill_interval"), r.childPath("fill_interval"), "must be at least 1ms");
  r.finish();
  spec.token_bucket = p;
}

void readPerKey(MapReader& parent, LocalLimitSpec& spec, bool request_keys) {
  if (!parent.has("per_key")) return;
  MapReader r(parent.ctx(), parent.child("per_key"), parent.childPath("per_key"));
  if (!r.isMap()) return;  // reported by the reader
  std::string source;
  r.string("source", source, /*required=*/true);
  if (source == "client_ip") {
    spec.key_source = KeySource::ClientIp;
  } else if (request_keys && source == "path") {
    spec.key_source = KeySource::Path;
  } else if (request_keys && source == "header") {
    spec.key_source = KeySource::Header;
  } else if (r.has("source")) {
    r.ctx().error(r.locOf("source"), r.childPath("source"),
                  request_keys ? "expected client_ip, path or header" : "expected client_ip");
  }
  if (spec.key_source == KeySource::Header) {
    r.string("header", spec.key_header, /*required=*/true);
    std::transform(spec.key_header.begin(), spec.key_header.end(), spec.key_header.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (r.has("header") && spec.key_header.empty())
      r.ctx().error(r.locOf("header"), r.childPath("header"), "must not be empty");
  } else if (r.has("header")) {
    r.ctx().error(r.locOf("header"), r.childPath("header"), "only with source: header");
  }
  r.uint32("max_keys", spec.max_keys, 1, LocalLimitSpec::kMaxKeys);
  r.finish();
  if (!spec.token_bucket)
    parent.ctx().error(parent.locOf("per_key"), parent.childPath("per_key"),
                       "per_key needs a token_bucket (the shape of each key's bucket)");
}

std::string_view sourceName(KeySource s) {
  switch (s) {
    case KeySource::ClientIp: return "client_ip";
    case KeySource::Path: return "path";
    case KeySource::Header: return "header";
    case KeySource::None: break;
  }
  return "";
}

}  // namespace

void readLocalLimitSpec(MapReader& r, LocalLimitSpec& spec, bool request_keys) {
  readTokenBucket(r, spec);
  readPerKey(r, spec, request_keys);
}

void addLocalLimitJson(const LocalLimitSpec& spec, nlohmann::json& out) {
  if (spec.token_bucket) {
    const auto& p = *spec.token_bucket;
    out["token_bucket"] = {{"max_tokens", p.max_tokens},
                           {"tokens_per_fill", p.tokens_per_fill},
                           {"fill_interval", durationString(p.fill_interval)}};
  }
  if (spec.key_source != KeySource::None) {
    nlohmann::json k = {{"source", sourceName(spec.key_source)}, {"max_keys", spec.max_keys}};
    if (spec.key_source == KeySource::Header) k["header"] = spec.key_header;
    out["per_key"] = std::move(k);
  }
}

}  // namespace sluice::config
