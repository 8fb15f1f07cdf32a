#include "tests/integration/support/test_ca/test_ca.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <sstream>

#include "sluice/ca/v1/certificate_service.grpc.pb.h"

namespace sluice::testing {
namespace {

namespace pb = ::sluice::ca::v1;

std::string pemOf(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

void addExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

void randomSerial(X509* cert) {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof(bytes));
  bytes[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(bytes, sizeof(bytes), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
  BN_free(bn);
}

}  // namespace

class TestCa::Service final : public pb::CertificateService::Service {
 public:
  explicit Service(TestCa& ca) : ca_(ca) {}
  grpc::Status CreateCertificate(grpc::ServerContext* context, const pb::CreateCertificateRequest* request,
                                 pb::CreateCertificateResponse* response) override {
    std::string authorization;
    const auto& md = context->client_metadata();
    if (auto it = md.find("authorization"); it != md.end()) authorization.assign(it->second.data(), it->second.size());
    Answer a = ca_.sign(authorization, request->csr(), request->validity_seconds());
    if (a.code != 0) return grpc::Status(static_cast<grpc::StatusCode>(a.code), a.message);
    response->add_cert_chain(a.leaf_pem);
    response->add_trust_bundle(ca_.rootPem());
    return grpc::Status::OK;
  }

 private:
  TestCa& ca_;
};

TestCa::TestCa(std::string trust_domain) : trust_domain_(std::move(trust_domain)) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  randomSerial(cert);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("sluice test CA"), -1, -1,
                             0);
  X509_set_issuer_name(cert, name);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 7 * 24 * 3600);
  X509_set_pubkey(cert, key);
  addExt(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
  addExt(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  addExt(cert, cert, NID_subject_key_identifier, "hash");
  X509_sign(cert, key, EVP_sha256());
  root_key_ = key;
  root_cert_ = cert;
  root_pem_ = pemOf(cert);
}

TestCa::~TestCa() {
  stop();
  EVP_PKEY_free(static_cast<EVP_PKEY*>(root_key_));
  X509_free(static_cast<X509*>(root_cert_));
}

void TestCa::addToken(const std::string& token, const std::string& workload_path) {
  std::lock_guard lock(mu_);
  tokens_[token] = workload_path;
}

void TestCa::setFailure(const std::string& message) {
  std::lock_guard lock(mu_);
  failure_ = message;
}

void TestCa::setFailureFile(const std::string& path) {
  std::lock_guard lock(mu_);
  failure_file_ = path;
}

TestCa::Answer TestCa::sign(const std::string& authorization, const std::string& csr_pem, long long validity_seconds) {
  ++calls_;
  std::string path;
  {
    std::lock_guard lock(mu_);
    if (!failure_file_.empty()) {
      std::ifstream in(failure_file_);
      if (in) {
        std::stringstream text;
        text << in.rdbuf();
        return {grpc::StatusCode::UNAVAILABLE, text.str(), {}};
      }
    }
    if (!failure_.empty()) return {grpc::StatusCode::UNAVAILABLE, failure_, {}};
    const std::string prefix = "Bearer ";
    auto it = authorization.rfind(prefix, 0) == 0 ? tokens_.find(authorization.substr(prefix.size())) : tokens_.end();
    if (it == tokens_.end()) return {grpc::StatusCode::UNAUTHENTICATED, "unknown token", {}};
    path = it->second;
  }
  BIO* bio = BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size()));
  X509_REQ* req = PEM_read_bio_X509_REQ(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  EVP_PKEY* pub = req ? X509_REQ_get0_pubkey(req) : nullptr;
  if (pub == nullptr || X509_REQ_verify(req, pub) != 1) {
    X509_REQ_free(req);
    return {grpc::StatusCode::INVALID_ARGUMENT, "the CSR does not verify", {}};
  }
  if (validity_seconds <= 0) validity_seconds = 3600;
  if (validity_seconds > 24 * 3600) validity_seconds = 24 * 3600;
  X509* root = static_cast<X509*>(root_cert_);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  randomSerial(cert);
  X509_set_issuer_name(cert, X509_get_subject_name(root));
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), static_cast<long>(validity_seconds));
  X509_set_pubkey(cert, pub);
  const std::string san = "URI:spiffe://" + trust_domain_ + "/" + path;
  addExt(cert, root, NID_subject_alt_name, san.c_str());
  addExt(cert, root, NID_basic_constraints, "critical,CA:FALSE");
  addExt(cert, root, NID_key_usage, "critical,digitalSignature,keyEncipherment");
  addExt(cert, root, NID_ext_key_usage, "serverAuth,clientAuth");
  addExt(cert, root, NID_authority_key_identifier, "keyid:always");
  X509_sign(cert, static_cast<EVP_PKEY*>(root_key_), EVP_sha256());
  Answer a;
  a.leaf_pem = pemOf(cert);
  X509_free(cert);
  X509_REQ_free(req);
  ++issued_;
  return a;
}

int TestCa::start() {
  service_ = std::make_unique<Service>(*this);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  // Port 0 with SO_REUSEPORT may be given a port another test's socket holds.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  return server_ ? port : 0;
}

void TestCa::stop() {
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_.reset();
}

}  // namespace sluice::testing
