#include "control/ca/ca_metrics.h"

namespace sluice::control::ca {
namespace {

prometheus::Family<prometheus::Counter>& failures(prometheus::Registry& registry) {
  return prometheus::BuildCounter()
      .Name("sluice_control_ca_issue_failures_total")
      .Help("Certificate requests refused, by reason")
      .Register(registry);
}

}  // namespace

CaMetrics::CaMetrics(prometheus::Registry& registry)
    : issued(prometheus::BuildCounter()
                 .Name("sluice_control_ca_certificates_issued_total")
                 .Help("Workload certificates issued")
                 .Register(registry)
                 .Add({})),
      unauthenticated(failures(registry).Add({{"reason", "unauthenticated"}})),
      bad_csr(failures(registry).Add({{"reason", "bad_csr"}})),
      internal(failures(registry).Add({{"reason", "internal"}})),
      root_expiry(prometheus::BuildGauge()
                      .Name("sluice_control_ca_root_expiry_seconds")
                      .Help("Seconds until the CA's root certificate expires")
                      .Register(registry)
                      .Add({})) {}

}  // namespace sluice::control::ca
