#include "control/ca/ca_server.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sluice::control::ca {
namespace {

// How often gRPC looks at the certificate files: a renewal (or the
// operator's rotation) serves within this.
constexpr unsigned kFileRefreshSeconds = 5;
// A failed renewal is tried again after this.
constexpr auto kRetry = std::chrono::seconds(30);

// Writes `text` to `path` through a temp file and a rename, 0600.
bool writeAtomically(const std::string& path, const std::string& text, std::string& error) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = tmp + ": " + std::strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool ok = done == text.size() && ::close(fd) == 0;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = path + ": " + std::strerror(errno);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

std::string joined(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::string out;
  for (const auto* list : {&a, &b})
    for (const auto& s : *list) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

CaServer::CaServer(CaServing serving, std::string state_dir, grpc::Service* service)
    : serving_(std::move(serving)), state_dir_(std::move(state_dir)), service_(service) {}

CaServer::~CaServer() {
  shutdown();
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

std::string CaServer::describe() const {
  if (serving_.plaintext) return "plaintext (tokens cross the network in the clear)";
  if (serving_.cert_file) return "TLS (" + serving_.cert_file->path + ")";
  return "TLS (issued by the mesh CA for " + joined(serving_.dns_names, serving_.ip_addresses) + ")";
}

bool CaServer::issue(const Authority& authority, SysTime now, std::string& error) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) {
    error = "cannot make a key: " + opensslError();
    return false;
  }
  const IssueResult r =
      authority.issueServer(key.get(), serving_.dns_names, serving_.certificate_ttl, now, serving_.ip_addresses);
  if (!r.cert) {
    error = "the CA cannot issue its serving certificate: " + r.reason;
    return false;
  }
  // The key first, then the chain, leaf first: gRPC reads each from the
  // one file (PEM readers skip the blocks of the other kind).
  std::string pem = keyToPem(key.get());
  for (const auto& c : r.cert->chain) pem += c;
  if (!writeAtomically(dir_ + "/serving.pem", pem, error)) return false;
  not_after_ = r.cert->not_after;
  renew_at_ = r.cert->not_before + (r.cert->not_after - r.cert->not_before) / 2;
  return true;
}

bool CaServer::start(const Authority& authority, SysTime now, std::string& error) {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (serving_.plaintext) {
    credentials = grpc::InsecureServerCredentials();
  } else {
    std::string key_path, cert_path;
    if (serving_.cert_file) {
      key_path = serving_.key_file->path;
      cert_path = serving_.cert_file->path;
      std::string text;
      for (const std::string& path : {key_path, cert_path})
        if (!readWholeFile(path, text, error)) {
          error = path + ": " + error;
          return false;
        }
    } else {
      std::string dir = state_dir_ + "/serving-XXXXXX";
      if ((::mkdir(state_dir_.c_str(), 0700) != 0 && errno != EEXIST) || ::mkdtemp(dir.data()) == nullptr) {
        error = "cannot make a folder for the serving certificate: " + dir + ": " + std::strerror(errno);
        return false;
      }
      dir_ = dir;
      if (!issue(authority, now, error)) return false;
      key_path = cert_path = dir_ + "/serving.pem";
    }
    auto provider =
        std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(key_path, cert_path, kFileRefreshSeconds);
    grpc::experimental::TlsServerCredentialsOptions options(provider);
    options.watch_identity_key_cert_pairs();
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    credentials = grpc::experimental::TlsServerCredentials(options);
  }
  grpc::ServerBuilder builder;
  builder.AddListeningPort(serving_.address, credentials, &port_);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);  // a second CA on this address fails, as for ADS
  builder.RegisterService(service_);
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    server_.reset();
    error = "cannot listen on " + serving_.address;
    return false;
  }
  return true;
}

bool CaServer::renew(const Authority& authority, SysTime now, std::string& error) {
  if (dir_.empty()) return true;
  if (issue(authority, now, error)) return true;
  renew_at_ = std::min(now + kRetry, not_after_);
  return false;
}

void CaServer::shutdown() {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_->Wait();
  server_.reset();
}

}  // namespace sluice::control::ca
