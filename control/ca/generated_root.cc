#include "control/ca/generated_root.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sluice::control::ca {
namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool writeAll(int fd, const std::string& data) {
  for (size_t done = 0; done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Temp file in the same folder (so rename is atomic), mode set before any
// byte of a key is in it, synced, then renamed over `path`.
bool writeAtomically(const std::string& dir, const std::string& path, const std::string& data, mode_t mode,
                     std::string& error) {
  std::string tmp = dir + "/.sluice-ca-XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    error = "cannot create a file in " + dir + ": " + std::strerror(errno);
    return false;
  }
  const bool ok = ::fchmod(fd, mode) == 0 && writeAll(fd, data) && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot write " + path + ": " + std::strerror(ok ? errno : saved);
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

bool ensureDir(const std::string& dir, std::string& error) {
  std::error_code ec;
  const std::filesystem::path p(dir);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    error = "cannot create " + dir + ": " + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    error = dir + " is not a directory";
    return false;
  }
  return true;
}

bool generate(const std::string& trust_domain, SysTime now, RootKeyPair& out, std::string& error) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr cert(X509_new());
  std::string serial;
  X509_NAME* name = cert ? X509_get_subject_name(cert.get()) : nullptr;
  const auto text = [](const char* s) { return reinterpret_cast<const unsigned char*>(s); };
  const bool ok =
      key && cert && X509_set_version(cert.get(), X509_VERSION_3) == 1 && setRandomSerial(cert.get(), serial) &&
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, text(trust_domain.c_str()), -1, -1, 0) == 1 &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, text("sluice-control root"), -1, -1, 0) == 1 &&
      X509_set_issuer_name(cert.get(), name) == 1 && X509_set_pubkey(cert.get(), key.get()) == 1;
  if (ok) setValidity(cert.get(), now - std::chrono::minutes(1), now + kGeneratedRootLifetime);
  if (!ok || !addExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE") ||
      !addExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !addExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash") ||
      !signCert(cert.get(), key.get())) {
    error = "cannot make a root certificate: " + opensslError();
    return false;
  }
  out.cert = std::move(cert);
  out.key = std::move(key);
  out.generated = true;
  return true;
}

bool load(const std::string& cert_path, const std::string& key_path, const std::string& trust_domain,
          RootKeyPair& out, std::string& error) {
  std::string cert_pem, key_pem;
  if (!readWholeFile(cert_path, cert_pem, error) || !readWholeFile(key_path, key_pem, error)) return false;
  auto certs = certsFromPem(cert_pem);
  if (certs.size() != 1) {
    error = cert_path + ": expected one PEM certificate";
    return false;
  }
  PkeyPtr key = keyFromPem(key_pem);
  if (!key) {
    error = key_path + ": not a PEM private key: " + opensslError();
    return false;
  }
  if (X509_check_private_key(certs[0].get(), key.get()) != 1) {
    ERR_clear_error();
    error = key_path + " is not the key of " + cert_path;
    return false;
  }
  // The folder belongs to one trust domain: a changed trust_domain with the
  // old folder would issue under a root naming another domain.
  const std::string org = subjectOrganization(certs[0].get());
  if (org != trust_domain) {
    error = cert_path + " is the root of trust domain '" + org + "', not '" + trust_domain +
            "' (use another dir for another trust domain)";
    return false;
  }
  out.cert = std::move(certs[0]);
  out.key = std::move(key);
  out.generated = false;
  return true;
}

}  // namespace

bool loadOrCreateRoot(const std::string& dir, const std::string& trust_domain, SysTime now, RootKeyPair& out,
                      std::string& error) {
  const std::string cert_path = dir + "/root.pem", key_path = dir + "/root.key";
  const bool have_cert = exists(cert_path), have_key = exists(key_path);
  if (have_cert && have_key) return load(cert_path, key_path, trust_domain, out, error);
  if (have_cert != have_key) {
    error = (have_cert ? key_path : cert_path) + " is missing beside " + (have_cert ? cert_path : key_path) +
            "; restore it, or remove both to make a new root (every certificate issued under the old one stops "
            "verifying)";
    return false;
  }
  if (!ensureDir(dir, error) || !generate(trust_domain, now, out, error)) return false;
  // The key first: a crash between the two leaves a key without a
  // certificate, which the next start reports rather than overwrites.
  return writeAtomically(dir, key_path, keyToPem(out.key.get()), 0600, error) &&
         writeAtomically(dir, cert_path, certToPem(out.cert.get()), 0644, error);
}

}  // namespace sluice::control::ca
