#pragma once
// The CA's own gRPC port (ca.address): sluice.ca.v1.CertificateService over
// TLS, apart from the ADS port, since its callers send bootstrap and
// service-account tokens (istiod does the same on 15012). Plaintext only
// when control.yaml says `plaintext: true`.
//
// The serving certificate comes from the mesh CA (ca.tls: its DNS names
// and IP addresses, a fresh P-256 key, renewed at half life) or from the
// operator's cert_file and key_file. gRPC's file-watching certificate
// provider serves it, reading the files again every few seconds: an issued
// certificate is written, key and chain in one file replaced by a rename
// (so a reader never pairs an old key with a new chain), into a folder of
// its own under ca.dir (0700, removed with the server: ca.dir is writable
// where the root filesystem may not be); the operator's files are read
// where they are. A handshake never waits for a renewal, and a renewal
// drops no connection.
//
// Threads: start(), renewAt(), renew() and shutdown() on one thread (the
// daemon's); gRPC's threads serve the calls.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "control/ca/authority.h"
#include "control/ca/ca_config.h"

namespace sluice::control::ca {

class CaServer {
 public:
  // `service` must outlive the server; `state_dir` is ca.dir.
  CaServer(CaServing serving, std::string state_dir, grpc::Service* service);
  ~CaServer();
  CaServer(const CaServer&) = delete;
  CaServer& operator=(const CaServer&) = delete;

  // The first certificate (issued by `authority` unless files are given),
  // then the port. False with `error` when either fails.
  bool start(const Authority& authority, SysTime now, std::string& error);
  int port() const { return port_; }
  // "TLS (issued by the mesh CA for localhost, 127.0.0.1)", "plaintext", ...: for the log.
  std::string describe() const;

  // When renew() is due: half the issued certificate's life, or after a
  // failed renewal a retry; never for files or plaintext.
  SysTime renewAt() const { return renew_at_; }
  // A new certificate from `authority`. On failure the current one serves
  // on, `error` says why, and renewAt() is a retry a little later.
  bool renew(const Authority& authority, SysTime now, std::string& error);

  void shutdown();

 private:
  bool issue(const Authority& authority, SysTime now, std::string& error);

  const CaServing serving_;
  const std::string state_dir_;
  grpc::Service* service_;
  std::string dir_;  // of the issued certificate; empty otherwise
  SysTime renew_at_ = SysTime::max();
  SysTime not_after_{};
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace sluice::control::ca
