// The gRPC C++ transport of the certificate agent: the callback API's unary
// call, over TLS to the CA's own port (or plaintext when configured). Its completion runs on a gRPC thread, which posts
// the result to the loop and, only then, marks the call finished.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>

#include "proxy/ca/ca_client.h"
#include "sluice/ca/v1/certificate_service.grpc.pb.h"

namespace sluice::ca {
namespace {

namespace pb = ::sluice::ca::v1;

constexpr auto kCallDeadline = std::chrono::seconds(10);

std::string statusText(const grpc::Status& s) {
  static const char* const kNames[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  const int code = static_cast<int>(s.error_code());
  const std::string name = code >= 0 && code <= 16 ? kNames[code] : "code " + std::to_string(code);
  return s.error_message().empty() ? name : name + ": " + s.error_message();
}

std::shared_ptr<grpc::ChannelCredentials> credentialsFor(const std::string& root_pem) {
  if (root_pem.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = root_pem;
  return grpc::SslCredentials(options);
}

// The roots as they are now: the inline PEM, or the file's text; false with
// `error` when the file cannot be read or holds no certificate.
bool currentRoots(const std::string& root_pem, const std::string& root_file, std::string& out, std::string& error) {
  if (root_file.empty()) {
    out = root_pem;
    return true;
  }
  std::ifstream in(root_file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || text.str().find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    error = "cannot read a PEM certificate from root_file '" + root_file + "'";
    return false;
  }
  out = text.str();
  return true;
}

// One call's state, shared by the client and gRPC's completion callback.
struct Call {
  grpc::ClientContext context;
  pb::CreateCertificateRequest request;
  pb::CreateCertificateResponse response;
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
};

// Read and written on the loop thread only; gRPC threads copy the pointer.
struct Liveness {
  bool alive = true;
};

class GrpcCaClient final : public CaClient {
 public:
  GrpcCaClient(event::Loop& loop, std::string address, std::string root_pem, std::string root_file)
      : loop_(loop),
        address_(std::move(address)),
        root_pem_(std::move(root_pem)),
        root_file_(std::move(root_file)),
        live_(std::make_shared<Liveness>()) {}

  ~GrpcCaClient() override {
    live_->alive = false;
    if (!call_) return;
    call_->context.TryCancel();
    std::unique_lock lock(call_->mu);
    call_->cv.wait(lock, [&] { return call_->finished; });
  }

  void createCertificate(std::string csr_pem, int64_t validity_seconds, std::string token,
                         std::function<void(IssueResult)> done) override {
    // A channel per set of roots: a rotated root file gets a new one.
    std::string roots, error;
    if (!currentRoots(root_pem_, root_file_, roots, error)) {
      IssueResult r;
      r.error = error;
      auto live = live_;
      loop_.post([live, done = std::move(done), r = std::move(r)]() mutable {
        if (live->alive) done(std::move(r));
      });
      return;
    }
    if (!stub_ || roots != stub_roots_) {
      stub_ = pb::CertificateService::NewStub(grpc::CreateChannel(address_, credentialsFor(roots)));
      stub_roots_ = std::move(roots);
    }
    auto call = std::make_shared<Call>();
    call->request.set_csr(std::move(csr_pem));
    call->request.set_validity_seconds(validity_seconds);
    call->context.AddMetadata("authorization", "Bearer " + token);
    call->context.set_deadline(std::chrono::system_clock::now() + kCallDeadline);
    call_ = call;
    event::Loop& loop = loop_;
    auto live = live_;
    stub_->async()->CreateCertificate(&call->context, &call->request, &call->response,
                                      [call, &loop, live, done = std::move(done)](grpc::Status status) mutable {
                                        IssueResult r;
                                        r.ok = status.ok();
                                        if (!r.ok) r.error = statusText(status);
                                        for (const auto& c : call->response.cert_chain()) r.cert_chain.push_back(c);
                                        for (const auto& c : call->response.trust_bundle()) r.trust_bundle.push_back(c);
                                        loop.post([live, done = std::move(done), r = std::move(r)]() mutable {
                                          if (live->alive) done(std::move(r));
                                        });
                                        std::lock_guard lock(call->mu);
                                        call->finished = true;
                                        call->cv.notify_all();
                                      });
  }

 private:
  event::Loop& loop_;
  const std::string address_, root_pem_, root_file_;
  std::unique_ptr<pb::CertificateService::Stub> stub_;
  std::string stub_roots_;  // what stub_'s channel trusts
  std::shared_ptr<Liveness> live_;
  std::shared_ptr<Call> call_;  // the latest call; earlier ones have finished
};

}  // namespace

std::unique_ptr<CaClient> makeGrpcCaClient(event::Loop& loop, const std::string& address, const std::string& root_pem,
                                           const std::string& root_file) {
  return std::make_unique<GrpcCaClient>(loop, address, root_pem, root_file);
}

}  // namespace sluice::ca
