// The certificate agent's client of the mesh CA: one unary gRPC call
// (grpc/call.h) over the proxy's own HTTP/2 client on the loop, over TLS
// to the CA's own port (or plaintext when configured).
#include <fstream>
#include <sstream>

#include "proxy/ca/ca_client.h"
#include "proxy/grpc/call.h"
#include "sluice/ca/v1/certificate_service.pb.h"

namespace sluice::ca {
namespace {

namespace pb = ::sluice::ca::v1;

constexpr std::chrono::milliseconds kCallDeadline{10000};
// A chain and a trust bundle: a few KiB; gRPC's default bound.
constexpr size_t kMaxResponseBytes = 4 << 20;
constexpr const char* kPath = "/sluice.ca.v1.CertificateService/CreateCertificate";

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

class GrpcCaClient final : public CaClient, private grpc::CallEvents {
 public:
  GrpcCaClient(event::Loop& loop, std::string address, std::string root_pem, std::string root_file)
      : loop_(loop),
        address_(std::move(address)),
        root_pem_(std::move(root_pem)),
        root_file_(std::move(root_file)),
        refused_(loop_.createTimer([this] { complete(std::move(refusal_)); })) {}

  void createCertificate(std::string csr_pem, int64_t validity_seconds, std::string token,
                         std::function<void(IssueResult)> done) override {
    call_.reset();        // one call at a time: an earlier one is given up,
    refused_->disable();  // and so is its refusal still waiting to be told
    done_ = std::move(done);
    got_message_ = false;
    parse_failed_ = false;
    response_.Clear();

    grpc::CallTarget target;
    target.address = address_;
    target.head.path = kPath;
    target.head.metadata.emplace_back("authorization", "Bearer " + token);
    target.head.timeout = kCallDeadline;
    target.max_message_bytes = kMaxResponseBytes;
    target.connect_timeout = kCallDeadline;
    if (std::string error; !tlsFor(target, error)) {
      refusal_ = IssueResult{};
      refusal_.error = std::move(error);
      refused_->enable(event::Duration(0));  // `done` runs from the loop, as for a call
      return;
    }
    pb::CreateCertificateRequest request;
    request.set_csr(std::move(csr_pem));
    request.set_validity_seconds(validity_seconds);
    call_ = std::make_unique<grpc::Call>(loop_, std::move(target), static_cast<grpc::CallEvents&>(*this));
    call_->send(request.SerializeAsString());
    call_->closeSend();
  }

 private:
  // TLS verifying the CA against the roots as they are now (a rotated root
  // file is followed), the address's host named by its certificate.
  bool tlsFor(grpc::CallTarget& target, std::string& error) {
    std::string roots;
    if (!currentRoots(root_pem_, root_file_, roots, error)) return false;
    if (roots.empty()) return true;  // plaintext, as configured
    tls::ClientTlsOptions options;
    options.sni = grpc::splitHostPort(address_).first;
    options.alpn = {"h2"};
    tls::ClientTlsMaterial material;
    material.trusted_ca = tls::Pem{roots, root_file_.empty() ? "root_pem" : root_file_, "dynamic.ca roots", {}};
    auto built = tls::ClientTlsContext::build(options, material);
    if (!built.ok()) {
      error = "UNAVAILABLE: " + built.error;
      return false;
    }
    target.tls = std::move(built.context);
    return true;
  }

  void onCallHeaders() override {}

  void onCallMessage(std::string message) override {
    // A unary call answers one message; a second is ignored (the status decides).
    if (got_message_) return;
    got_message_ = response_.ParseFromString(message);
    parse_failed_ = !got_message_;
  }

  void onCallClosed(const grpc::Status& status) override {
    IssueResult r;
    if (!status.ok()) {
      r.error = status.text();
    } else if (!got_message_) {
      r.error = parse_failed_ ? "INTERNAL: cannot parse the CreateCertificateResponse"
                              : "INTERNAL: the CA answered OK with no CreateCertificateResponse";
    } else {
      r.ok = true;
      r.cert_chain.assign(response_.cert_chain().begin(), response_.cert_chain().end());
      r.trust_bundle.assign(response_.trust_bundle().begin(), response_.trust_bundle().end());
    }
    complete(std::move(r));
  }

  // Last: `done` may start the next call, which replaces the finished one.
  void complete(IssueResult r) {
    auto done = std::move(done_);
    done_ = nullptr;
    if (done) done(std::move(r));
  }

  event::Loop& loop_;
  const std::string address_, root_pem_, root_file_;
  std::unique_ptr<grpc::Call> call_;
  std::function<void(IssueResult)> done_;
  pb::CreateCertificateResponse response_;
  bool got_message_ = false;
  bool parse_failed_ = false;
  IssueResult refusal_;  // a call that could not start, reported from the loop
  std::unique_ptr<event::Timer> refused_;
};

}  // namespace

std::unique_ptr<CaClient> makeGrpcCaClient(event::Loop& loop, const std::string& address, const std::string& root_pem,
                                           const std::string& root_file) {
  return std::make_unique<GrpcCaClient>(loop, address, root_pem, root_file);
}

}  // namespace sluice::ca
