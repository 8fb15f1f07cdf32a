#include "control/ads_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "xds/type_urls.h"

namespace sluice::control {

AdsMetrics::AdsMetrics(prometheus::Registry* registry) {
  if (!registry) return;
  connected_ = &prometheus::BuildGauge()
                    .Name("sluice_control_proxies_connected")
                    .Help("ADS streams connected (after their first request)")
                    .Register(*registry)
                    .Add({});
  // From a millisecond to ten seconds: a push on loopback is sub-millisecond,
  // one behind a slow client or a full window is seconds.
  latency_ = &prometheus::BuildHistogram()
                  .Name("sluice_control_push_latency_seconds")
                  .Help("Time from a snapshot's publish to its response written on a stream")
                  .Register(*registry)
                  .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                                   0.25, 0.5, 1, 2.5, 5, 10});
  auto& pushes = prometheus::BuildCounter()
                     .Name("sluice_control_pushes_total")
                     .Help("xDS responses written, by resource type")
                     .Register(*registry);
  auto& nacks = prometheus::BuildCounter()
                    .Name("sluice_control_nacks_total")
                    .Help("xDS responses refused by a client (NACK), by resource type")
                    .Register(*registry);
  auto& serialized = prometheus::BuildCounter()
                         .Name("sluice_control_responses_serialized_total")
                         .Help(
                             "xDS response bodies serialized, by resource type (each shared by every stream that "
                             "sends it)")
                         .Register(*registry);
  for (const auto type : xds::kSendOrder) {
    const prometheus::Labels labels{{"type", std::string(xds::shortTypeName(type))}};
    types_.emplace(std::string(type), PerType{&pushes.Add(labels), &nacks.Add(labels), &serialized.Add(labels)});
  }
}

const AdsMetrics::PerType* AdsMetrics::find(std::string_view type_url) const {
  auto it = types_.find(type_url);
  return it == types_.end() ? nullptr : &it->second;
}

void AdsMetrics::proxyConnected() {
  if (connected_) connected_->Increment();
}

void AdsMetrics::proxyDisconnected() {
  if (connected_) connected_->Decrement();
}

void AdsMetrics::pushed(std::string_view type_url, std::chrono::steady_clock::time_point published) {
  if (const auto* t = find(type_url)) t->pushes->Increment();
  if (latency_ && published != std::chrono::steady_clock::time_point{}) {
    latency_->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - published).count());
  }
}

void AdsMetrics::nacked(std::string_view type_url) {
  if (const auto* t = find(type_url)) t->nacks->Increment();
}

void AdsMetrics::serialized(std::string_view type_url) {
  if (const auto* t = find(type_url)) t->serialized->Increment();
}

}  // namespace sluice::control
