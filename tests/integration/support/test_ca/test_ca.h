#pragma once
// A test fixture, not a CA: a sluice.ca.v1.CertificateService that signs
// CSRs with a root made in memory, for the certificate agent's tests (the
// real CA is sluice-control's). gRPC C++ sync server on 127.0.0.1:0.
//
// A call's "authorization: Bearer <token>" must name a known token, which
// maps to the workload's "ns/<ns>/sa/<sa>" path: the leaf carries
// spiffe://<trust_domain>/<path> as its only URI SAN, the CSR's public key,
// and validity_seconds (default 3600, at most a day) from now. A CSR whose
// signature does not verify is INVALID_ARGUMENT; an unknown token
// UNAUTHENTICATED; setFailure() makes every call UNAVAILABLE with its text.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <grpcpp/grpcpp.h>

namespace sluice::testing {

class TestCa {
 public:
  explicit TestCa(std::string trust_domain = "sluice.test");
  ~TestCa();
  TestCa(const TestCa&) = delete;
  TestCa& operator=(const TestCa&) = delete;

  // The root certificate (PEM): what a peer trusts.
  const std::string& rootPem() const { return root_pem_; }
  void addToken(const std::string& token, const std::string& workload_path);
  // Non-empty: every call fails UNAVAILABLE with this message.
  void setFailure(const std::string& message);
  // Every call reads `path`: when it exists, the call fails UNAVAILABLE with
  // its text (the integration tests' switch).
  void setFailureFile(const std::string& path);
  // Starts serving; returns the bound port (0 on failure).
  int start();
  void stop();
  int calls() const { return calls_.load(); }
  int issued() const { return issued_.load(); }

  struct Answer {
    int code = 0;  // a grpc::StatusCode
    std::string message;
    std::string leaf_pem;
  };
  // The signing, without gRPC.
  Answer sign(const std::string& authorization, const std::string& csr_pem, long long validity_seconds);

 private:
  class Service;
  const std::string trust_domain_;
  void* root_key_ = nullptr;   // EVP_PKEY
  void* root_cert_ = nullptr;  // X509
  std::string root_pem_;
  std::mutex mu_;
  std::map<std::string, std::string> tokens_;
  std::string failure_;
  std::string failure_file_;
  std::atomic<int> calls_{0}, issued_{0};
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace sluice::testing
