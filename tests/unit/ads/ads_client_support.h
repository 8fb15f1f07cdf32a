#pragma once
// What the AdsClient tests (state of the world and delta) share: a sink
// that records what the client publishes (and can refuse it, as a bind
// failure would), and the resources they send.

#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/any.pb.h>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "proxy/server/config_source.h"

namespace sluice::ads::testing {

struct FakeSink : server::ConfigSink {
  server::ApplyResult apply(std::shared_ptr<const config::Config> cfg) override {
    applied.push_back(cfg);
    return refuse ? server::ApplyResult{false, "port in use\n"} : server::ApplyResult{true, "ok\n"};
  }
  std::vector<std::shared_ptr<const config::Config>> applied;
  bool refuse = false;
};

// A cluster whose endpoints come over ADS (EDS), or a STRICT_DNS one (which
// Sluice refuses).
inline google::protobuf::Any edsCluster(const std::string& name, bool strict_dns = false) {
  envoy::config::cluster::v3::Cluster c;
  c.set_name(name);
  c.set_type(strict_dns ? envoy::config::cluster::v3::Cluster::STRICT_DNS : envoy::config::cluster::v3::Cluster::EDS);
  c.mutable_eds_cluster_config()->mutable_eds_config()->mutable_ads();
  c.mutable_connect_timeout()->set_seconds(1);
  google::protobuf::Any any;
  any.PackFrom(c);
  return any;
}

// One endpoint, 127.0.0.1:port.
inline google::protobuf::Any endpoints(const std::string& name, uint32_t port) {
  envoy::config::endpoint::v3::ClusterLoadAssignment cla;
  cla.set_cluster_name(name);
  auto* sa = cla.add_endpoints()->add_lb_endpoints()->mutable_endpoint()->mutable_address()->mutable_socket_address();
  sa->set_address("127.0.0.1");
  sa->set_port_value(port);
  google::protobuf::Any any;
  any.PackFrom(cla);
  return any;
}

}  // namespace sluice::ads::testing
