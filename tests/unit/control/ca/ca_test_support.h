#pragma once
// Shared by the CA's unit tests: a temp folder, the real `openssl` binary
// (to make CSRs and CAs the way operators do, and to verify what the CA
// wrote), and a CaSpec over a fresh folder.

#include <stdlib.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "control/ca/ca_config.h"
#include "control/ca/x509_util.h"

namespace sluice::control::ca::test {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/sluice-ca-test-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void writeText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

struct Shell {
  int status = -1;  // exit code; -1 when it did not exit normally
  std::string out;  // stdout and stderr
};

// Runs a shell command line (the tests' own, with temp paths only).
inline Shell sh(const std::string& command) {
  Shell r;
  std::FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// A CSR made by `openssl req` for a new key (`newkey`: "ec" for P-256, "rsa:2048",
// "ed25519"), asking for a subject and SANs of its own.
inline std::string makeCsr(const TempDir& dir, const std::string& name, const std::string& newkey = "ec") {
  const std::string key_opt = newkey == "ec" ? "-newkey ec -pkeyopt ec_paramgen_curve:P-256" : "-newkey " + newkey;
  const Shell r = sh("openssl req -new " + key_opt + " -nodes -keyout " + (dir / (name + ".key")) + " -out " +
                     (dir / (name + ".csr")) +
                     " -subj /O=evil/CN=evil.example -addext "
                     "'subjectAltName=URI:spiffe://evil/ns/kube-system/sa/admin,DNS:evil.example'");
  EXPECT_EQ(r.status, 0) << r.out;
  return readText(dir / (name + ".csr"));
}

// A spec over `dir` (generated root in dir/state), trust domain cluster.local.
inline CaSpec specIn(const TempDir& dir) {
  CaSpec spec;
  spec.trust_domain = "cluster.local";
  spec.dir = FileRef{dir / "state", {}};
  spec.default_ttl = std::chrono::hours(1);
  spec.max_ttl = std::chrono::hours(2);
  writeText(dir / "token.key", "0123456789abcdef0123456789abcdef\n");
  spec.token_keys = {FileRef{dir / "token.key", {}}};
  return spec;
}

inline X509Ptr certOf(const std::string& pem) {
  auto certs = certsFromPem(pem);
  return certs.size() == 1 ? std::move(certs[0]) : nullptr;
}

}  // namespace sluice::control::ca::test
