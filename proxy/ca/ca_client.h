#pragma once
// CaClient: one CreateCertificate call to the mesh CA
// (sluice.ca.v1.CertificateService), as the certificate agent needs it. An
// interface because it is a process boundary: the real one is a gRPC call
// over the proxy's own HTTP/2 client (makeGrpcCaClient, proxy/grpc/call.h);
// unit tests of the agent give their own.
//
// Thread: the loop's, for everything. createCertificate() starts the call;
// `done` runs later from a loop callback (never from inside
// createCertificate()), never after the client is destroyed. The
// destructor cancels a call in flight.

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

// gRPC to `address` (host:port; a name is resolved on the loop): TLS with
// ALPN h2, verifying the CA's serving certificate against the mesh roots
// (config/ca_root.h; the certificate must name the host of the address):
// `root_pem`, or the file `root_file` read again at every call, so a root
// rotation written there is followed (like token_file); plaintext h2c when
// both are empty. Each call has a 10 s deadline, sent as grpc-timeout and
// kept here too (DEADLINE_EXCEEDED); a failed handshake fails the call
// "UNAVAILABLE: TLS handshake with <address> failed: <OpenSSL's reason>".
std::unique_ptr<CaClient> makeGrpcCaClient(event::Loop& loop, const std::string& address, const std::string& root_pem,
                                           const std::string& root_file);

}  // namespace sluice::ca
