#pragma once
// A test PKI generated once per test binary with the openssl CLI (removed at
// exit): a root CA and another one, server certificates for SNI, SPIFFE
// client and workload certificates, an expired one. Shared by the unit
// tests of the TLS layer and the integration tests; header-only, no
// dependency on the proxy's code.

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace sluice::testing {

// Root CA; server certs (localhost + *.sluice.test, and api.other.test);
// client certs with SPIFFE URI SANs (valid, expired, from another CA).
class TestPki {
 public:
  static const TestPki& get() {
    static TestPki* pki = [] {
      auto* p = new TestPki();
      std::atexit([] { std::filesystem::remove_all(dir_); });
      return p;
    }();
    return *pki;
  }
  std::string path(const std::string& file) const { return dir_ + "/" + file; }
  const std::string& dir() const { return dir_; }
  bool ok() const { return ok_; }

 private:
  TestPki() {
    char tmpl[] = "/tmp/sluice_tls_pkiXXXXXX";
    const char* d = ::mkdtemp(tmpl);
    if (d == nullptr) return;
    dir_ = d;
    std::ofstream(dir_ + "/gen.sh") << kScript;
    const std::string cmd = "cd '" + dir_ + "' && sh gen.sh >gen.log 2>&1";
    ok_ = std::system(cmd.c_str()) == 0;
  }
  static inline std::string dir_;
  bool ok_ = false;
  static constexpr const char* kScript = R"SH(set -e
ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
ca() {
  ec $1.key
  openssl req -x509 -new -key $1.key -sha256 -days 3650 -subj "/CN=$2" -out $1.crt \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}
leaf() {
  ec $2.key
  openssl req -new -key $2.key -subj "/CN=$3" -out $2.csr
  printf "subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n" "$4" > $2.ext
  openssl x509 -req -in $2.csr -CA $1.crt -CAkey $1.key -CAcreateserial -days 365 -sha256 -extfile $2.ext -out $2.crt
}
ca root "Sluice Test Root"
ca other "Other Root"
leaf root server localhost "DNS:localhost,DNS:*.sluice.test"
leaf root server2 api.other.test "DNS:api.other.test"
leaf root client client "URI:spiffe://sluice.test/ns/default/sa/client"
leaf root intruder intruder "URI:spiffe://evil.test/ns/default/sa/intruder"
# Mesh workloads: sidecar certificates carry their SPIFFE ID (and localhost,
# for clients that check the name); "third" is a valid identity B refuses.
leaf root sidecar-a sidecar-a "URI:spiffe://sluice.test/ns/default/sa/a,DNS:localhost"
leaf root sidecar-b sidecar-b "URI:spiffe://sluice.test/ns/default/sa/b,DNS:localhost"
leaf root third third "URI:spiffe://sluice.test/ns/default/sa/third"
# The same names as "server", a new key: what a rotation installs.
leaf root server-new localhost-rotated "DNS:localhost,DNS:*.sluice.test"
leaf other stranger stranger "URI:spiffe://sluice.test/ns/default/sa/stranger"
# Expired: 'openssl x509' in OpenSSL 3.0 cannot backdate, 'openssl ca' can.
ec expired.key
openssl req -new -key expired.key -subj "/CN=expired" -out expired.csr
mkdir -p cadb && : > cadb/index.txt && echo 1000 > cadb/serial
cat > ca.cnf <<CNF
[ca]
default_ca = c
[c]
dir = cadb
database = cadb/index.txt
serial = cadb/serial
new_certs_dir = cadb
default_md = sha256
policy = p
x509_extensions = x
[p]
commonName = supplied
[x]
subjectAltName = URI:spiffe://sluice.test/ns/default/sa/expired
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth,clientAuth
CNF
openssl ca -batch -config ca.cnf -cert root.crt -keyfile root.key -in expired.csr -out expired.crt \
  -startdate 20200101000000Z -enddate 20200201000000Z -notext
)SH";
};

}  // namespace sluice::testing
