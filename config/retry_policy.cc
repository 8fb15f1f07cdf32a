#include "config/retry_policy.h"

#include "config/config_json.h"
#include "config/field_reader.h"
#include "config/yaml_reader.h"

namespace sluice::config {
namespace {

constexpr std::pair<std::string_view, uint32_t> kRetryOnNames[] = {
    {"5xx", kRetryOn5xx},
    {"gateway-error", kRetryOnGatewayError},
    {"reset", kRetryOnReset},
    {"connect-failure", kRetryOnConnectFailure},
    {"refused-stream", kRetryOnRefusedStream},
    {"retriable-4xx", kRetryOnRetriable4xx},
    {"retriable-status-codes", kRetryOnRetriableStatusCodes},
    {"retriable-headers", kRetryOnRetriableHeaders},
    {"cancelled", kRetryOnGrpcCancelled},
    {"deadline-exceeded", kRetryOnGrpcDeadlineExceeded},
    {"resource-exhausted", kRetryOnGrpcResourceExhausted},
    {"internal", kRetryOnGrpcInternal},
    {"unavailable", kRetryOnGrpcUnavailable},
};

void readRetryOn(MapReader& r, RetryPolicy& p) {
  auto addName = [&](std::string_view name, const YAML::Node& node, const std::string& path) {
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    const uint32_t flag = retryOnFlag(name);
    if (flag == 0) {
      r.ctx().error(node, path,
                    "unknown retry_on '" + std::string(name) +
                        "' (expected 5xx, gateway-error, reset, connect-failure, refused-stream, retriable-4xx, "
                        "retriable-status-codes, retriable-headers, cancelled, deadline-exceeded, resource-exhausted, internal, "
                        "unavailable)");
    }
    p.retry_on |= flag;
  };
  // A list, or Envoy's comma-separated string.
  const YAML::Node on = r.child("retry_on");
  if (!on.IsDefined()) {
    r.ctx().error(r.node(), r.childPath("retry_on"), "missing required field");
  } else if (on.IsScalar()) {
    std::string_view all = on.Scalar();
    while (!all.empty()) {
      const size_t comma = all.find(',');
      addName(all.substr(0, comma), on, r.childPath("retry_on"));
      all = comma == std::string_view::npos ? std::string_view() : all.substr(comma + 1);
    }
  } else {
    for (auto& item : readStrings(r, "retry_on")) addName(item.value, item.node, item.path);
  }
}

void readBackOff(MapReader& r, RetryPolicy& p) {
  bool max_set = false;
  if (r.has("retry_back_off")) {
    MapReader br(r.ctx(), r.child("retry_back_off"), r.childPath("retry_back_off"));
    if (br.isMap()) {
      br.duration("base_interval", p.base_interval, /*required=*/true);
      max_set = br.has("max_interval");
      br.duration("max_interval", p.max_interval);
      if (p.base_interval.count() <= 0)
        br.ctx().error(br.locOf("base_interval"), br.childPath("base_interval"), "must be at least 1ms");
      else if (max_set && p.max_interval < p.base_interval)
        br.ctx().error(br.locOf("max_interval"), br.childPath("max_interval"), "must not be less than base_interval");
      br.finish();
    }
  }
  if (!max_set) p.max_interval = p.base_interval * 10;
}

}  // namespace

uint32_t retryOnFlag(std::string_view name) {
  for (const auto& [n, f] : kRetryOnNames)
    if (n == name) return f;
  return 0;
}

std::vector<std::string> retryOnNames(uint32_t flags) {
  std::vector<std::string> out;
  for (const auto& [n, f] : kRetryOnNames)
    if (flags & f) out.emplace_back(n);
  return out;
}

std::optional<RetryPolicy> readRetryPolicy(MapReader& parent) {
  if (!parent.has("retry_policy")) return std::nullopt;
  MapReader r(parent.ctx(), parent.child("retry_policy"), parent.childPath("retry_policy"));
  if (!r.isMap()) return std::nullopt;
  RetryPolicy p;
  readRetryOn(r, p);
  r.uint32("num_retries", p.num_retries, 0, 10);
  r.duration("per_try_timeout", p.per_try_timeout);
  readBackOff(r, p);
  r.forEachItem("retriable_status_codes", [&](const YAML::Node& n, const std::string& path) {
    uint32_t code = 0;
    try {
      code = n.as<uint32_t>();
    } catch (const YAML::Exception&) {
    }
    if (code < 100 || code > 599) {
      r.ctx().error(n, path, "expected an HTTP status code (100-599)");
      return;
    }
    p.retriable_status_codes.push_back(code);
  });
  readHeaderMatchers(r, "retriable_headers", p.retriable_headers);
  if ((p.retry_on & kRetryOnRetriableStatusCodes) && p.retriable_status_codes.empty())
    r.ctx().error(r.locOf("retry_on"), r.childPath("retry_on"),
                  "retriable-status-codes needs a non-empty retriable_status_codes list");
  if ((p.retry_on & kRetryOnRetriableHeaders) && p.retriable_headers.empty())
    r.ctx().error(r.locOf("retry_on"), r.childPath("retry_on"),
                  "retriable-headers needs a non-empty retriable_headers list");
  r.uint32("max_request_body_bytes", p.max_request_body_bytes, 0, 64u << 20);
  r.boolean("retry_non_idempotent", p.retry_non_idempotent);
  r.finish();
  return p;
}

nlohmann::json retryPolicyJson(const RetryPolicy& p) {
  nlohmann::json hs = nlohmann::json::array();
  for (const auto& h : p.retriable_headers) hs.push_back(headerMatcherJson(h));
  return {{"retry_on", retryOnNames(p.retry_on)},
          {"num_retries", p.num_retries},
          {"per_try_timeout", durationString(p.per_try_timeout)},
          {"retry_back_off",
           {{"base_interval", durationString(p.base_interval)}, {"max_interval", durationString(p.max_interval)}}},
          {"retriable_status_codes", p.retriable_status_codes},
          {"retriable_headers", hs},
          {"max_request_body_bytes", p.max_request_body_bytes},
          {"retry_non_idempotent", p.retry_non_idempotent}};
}

}  // namespace sluice::config
