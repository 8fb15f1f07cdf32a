#pragma once
// The ADS server's Prometheus metrics, resolved once per server: a stream
// reports through these handles and never looks a metric up by name. With
// no registry every call is a no-op.
//
//   sluice_control_proxies_connected        streams that sent their first request
//   sluice_control_pushes_total{type}       responses written, by resource type
//   sluice_control_push_latency_seconds     publish() to a response written
//   sluice_control_nacks_total{type}        NACKs received, by resource type
//   sluice_control_responses_serialized_total{type}
//                                           response bodies serialized, by resource
//                                           type: one per distinct response of a
//                                           group's snapshot, however many streams
//                                           send it (pushes_total counts those)

#include <chrono>
#include <map>
#include <string>
#include <string_view>

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace sluice::control {

class AdsMetrics {
 public:
  explicit AdsMetrics(prometheus::Registry* registry);

  void proxyConnected();
  void proxyDisconnected();
  // One response of `type_url` written; `published` is when the publish()
  // that caused it ran (none for a response to a request).
  void pushed(std::string_view type_url, std::chrono::steady_clock::time_point published);
  void nacked(std::string_view type_url);
  // One response body of `type_url` serialized (control/ads_served_snapshot.h).
  void serialized(std::string_view type_url);

 private:
  struct PerType {
    prometheus::Counter* pushes = nullptr;
    prometheus::Counter* nacks = nullptr;
    prometheus::Counter* serialized = nullptr;
  };
  const PerType* find(std::string_view type_url) const;

  prometheus::Gauge* connected_ = nullptr;
  prometheus::Histogram* latency_ = nullptr;
  // Every type of xds/type_urls.h, created up front so the map is read-only
  // after construction (streams report from gRPC's threads).
  std::map<std::string, PerType, std::less<>> types_;
};

}  // namespace sluice::control
