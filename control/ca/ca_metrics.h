#pragma once
// The CA's metrics, in the daemon's registry:
//   sluice_control_ca_certificates_issued_total
//   sluice_control_ca_issue_failures_total{reason="unauthenticated|bad_csr|internal"}
//   sluice_control_ca_root_expiry_seconds   seconds until the root's notAfter (set when scraped)

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace sluice::control::ca {

struct CaMetrics {
  explicit CaMetrics(prometheus::Registry& registry);
  prometheus::Counter& issued;
  prometheus::Counter& unauthenticated;
  prometheus::Counter& bad_csr;  // a bad CSR or a bad request around it (a negative lifetime)
  prometheus::Counter& internal;
  prometheus::Gauge& root_expiry;
};

}  // namespace sluice::control::ca
