#pragma once
// CaClient: one CreateCertificate call to the mesh CA
// (sluice.ca.v1.CertificateService), as the certificate agent needs it. An
// interface because it is a process boundary: the real one is gRPC C++
// (makeGrpcCaClient); unit tests of the agent give their own.
//
// Threads: createCertificate() is called on the loop's thread; the call
// runs on gRPC's threads, which only move the response; `done` is posted
// to the loop and runs there, never after the client is destroyed. The
// destructor cancels a call in flight and waits until gRPC lets go of it.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proxy/event/loop.h"

namespace sluice::ca {

struct IssueResult {
  bool ok = false;
  std::string error;                      // !ok: the gRPC status ("UNAUTHENTICATED: bad token")
  std::vector<std::string> cert_chain;    // PEM, the leaf first
  std::vector<std::string> trust_bundle;  // PEM roots
};

class CaClient {
 public:
  virtual ~CaClient() = default;
  // One call at a time. `token` goes in "authorization: Bearer <token>";
  // `validity_seconds` 0 takes the CA's default.
  virtual void createCertificate(std::string csr_pem, int64_t validity_seconds, std::string token,
                                 std::function<void(IssueResult)> done) = 0;
};

// gRPC to `address` (host:port): TLS verifying the CA's serving
// certificate against the mesh roots (config/ca_root.h; the certificate
// must name the host of the address): `root_pem`, or the file `root_file`
// read again at every call, so a root rotation written there is followed
// (like token_file); plaintext when both are empty. Each call has a 10 s
// deadline; a failed handshake fails the call UNAVAILABLE with gRPC's reason.
std::unique_ptr<CaClient> makeGrpcCaClient(event::Loop& loop, const std::string& address, const std::string& root_pem,
                                           const std::string& root_file);

}  // namespace sluice::ca
